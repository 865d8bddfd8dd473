/**
 * The organisation's journey settings under /api/admin/org-settings:
 * branding of its messages, languages, reminders, the guest page's static QR,
 * the rule of passes hosts issue, and its Telegram bot. The bot token is
 * write-only: sealed at rest, checked with the Bot API's getMe (which also
 * tells the bot's username), never answered nor audited.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Nullable } from '@gatehouse/protocol';
import { and, eq, isNull } from 'drizzle-orm';
import Type from 'typebox';
import type { AppContext } from '../../context.js';
import { accessRules, LANGUAGES, orgSettings } from '../../db/schema.js';
import { type Actor, actorOf, writeAudit } from '../../lib/audit.js';
import { HttpError, unprocessable } from '../../lib/errors.js';
import { Uuid } from '../../lib/pagination.js';
import { getOrgSettings, type OrgSettings, telegramTokenAad } from './settings.js';

const LanguageSchema = Type.Enum(LANGUAGES);

export const OrgSettingsView = Type.Object({
  orgName: Type.String(),
  logoUrl: Nullable(Type.String()),
  brandColor: Nullable(Type.String()),
  defaultLanguage: LanguageSchema,
  reminderLeadMinutes: Type.Integer(),
  guestStaticQr: Type.Boolean(),
  hostInviteRuleId: Nullable(Uuid()),
  telegramBot: Nullable(Type.Object({ username: Type.String() })),
});

export const OrgSettingsPatch = Type.Object(
  {
    logoUrl: Type.Optional(Nullable(Type.String({ maxLength: 2000, pattern: '^https://[^\\s]+$', description: 'an https URL' }))),
    brandColor: Type.Optional(Nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: '#rrggbb' }))),
    defaultLanguage: Type.Optional(LanguageSchema),
    reminderLeadMinutes: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10_080, description: 'minutes before a visit; 0: no reminder' }),
    ),
    guestStaticQr: Type.Optional(Type.Boolean()),
    hostInviteRuleId: Type.Optional(Nullable(Uuid())),
    telegramBotToken: Type.Optional(
      Nullable(
        Type.String({ minLength: 10, maxLength: 200, pattern: '^[0-9]+:[A-Za-z0-9_-]+$', description: 'write-only; null removes the bot' }),
      ),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ brandColor: '#1f6feb', reminderLeadMinutes: 60, telegramBotToken: '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw' }],
  },
);
type Patch = Type.Static<typeof OrgSettingsPatch>;

const view = (s: OrgSettings) => ({
  orgName: s.orgName,
  logoUrl: s.logoUrl,
  brandColor: s.brandColor,
  defaultLanguage: s.defaultLanguage,
  reminderLeadMinutes: s.reminderLeadMinutes,
  guestStaticQr: s.guestStaticQr,
  hostInviteRuleId: s.hostInviteRuleId,
  telegramBot: s.telegramBotUsername ? { username: s.telegramBotUsername } : null,
});

/** Asks the Bot API who the token belongs to; 422 when Telegram refuses it. */
async function botUsername(ctx: AppContext, token: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${ctx.config.notify.telegramApiUrl}/bot${token}/getMe`, { signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new HttpError(502, 'bad_gateway', 'the Telegram Bot API could not be reached to check the token');
  }
  const body = (await res.json().catch(() => null)) as { ok?: boolean; result?: { username?: unknown } } | null;
  if (res.status >= 500) throw new HttpError(502, 'bad_gateway', `the Telegram Bot API answered ${res.status}`);
  if (!res.ok || !body?.ok || typeof body.result?.username !== 'string')
    throw unprocessable('Telegram refused the bot token (check it with @BotFather)');
  return body.result.username;
}

async function updateSettings(ctx: AppContext, actor: Actor, patch: Patch) {
  if (patch.hostInviteRuleId) {
    const [rule] = await ctx.db
      .select({ id: accessRules.id })
      .from(accessRules)
      .where(and(eq(accessRules.id, patch.hostInviteRuleId), eq(accessRules.orgId, actor.orgId), isNull(accessRules.deletedAt)));
    if (!rule) throw unprocessable('hostInviteRuleId is not an access rule of this organisation');
  }
  const { telegramBotToken, ...plain } = patch;
  const set: Partial<typeof orgSettings.$inferInsert> = { ...plain };
  if (telegramBotToken !== undefined) {
    set.telegramBotTokenEnc = telegramBotToken ? ctx.sealer.seal(telegramBotToken, telegramTokenAad(actor.orgId)) : null;
    set.telegramBotUsername = telegramBotToken ? await botUsername(ctx, telegramBotToken) : null;
  }
  return ctx.db.transaction(async (tx) => {
    await tx
      .insert(orgSettings)
      .values({ orgId: actor.orgId, ...set, createdBy: actor.userId, updatedBy: actor.userId })
      .onConflictDoUpdate({ target: orgSettings.orgId, set: { ...set, updatedAt: new Date(), updatedBy: actor.userId } });
    // The token itself is never recorded; only that it changed, and the bot it names.
    const data: Record<string, unknown> = { ...plain };
    if (telegramBotToken !== undefined) data.telegramBot = set.telegramBotUsername ?? null;
    await writeAudit(tx, actor, { action: 'org_settings.update', entityType: 'org_settings', entityId: actor.orgId, data });
    return view(await getOrgSettings(tx, actor.orgId));
  });
}

export const orgSettingsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['organisation'];
  app.get(
    '/org-settings',
    {
      config: { permission: 'org:settings' },
      schema: {
        tags,
        summary: 'The organisation’s journey settings (the bot token is never answered)',
        response: { 200: OrgSettingsView },
      },
    },
    async (req) => view(await getOrgSettings(ctx.db, req.principal!.orgId)),
  );
  app.patch(
    '/org-settings',
    {
      config: {
        permission: 'org:settings',
        errors: {
          422: 'Telegram refused the bot token, or hostInviteRuleId names no access rule of this organisation',
          502: 'the Telegram Bot API could not be reached to check the token',
        },
      },
      schema: { tags, summary: 'Change the organisation’s journey settings', body: OrgSettingsPatch, response: { 200: OrgSettingsView } },
    },
    async (req) => updateSettings(ctx, actorOf(req), req.body),
  );
};
