/**
 * A host links their Telegram chat with a one-time deep link
 * (`https://t.me/<bot>?start=<code>`, 15 minutes, stored hashed); the linker
 * (telegram-linker.ts) sees `/start <code>` and stores the chat. Under
 * /api/host, every route needs `host:portal`.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import Type from 'typebox';
import type { AppContext, Principal } from '../../context.js';
import { hostPreferences, telegramLinkCodes } from '../../db/schema.js';
import { actorOf, writeAudit } from '../../lib/audit.js';
import { HttpError, unprocessable } from '../../lib/errors.js';
import { callBotApi } from '../notifications/channels/telegram.js';
import { getOrgSettings, telegramBotToken } from '../orgs/settings.js';
import { toggleChannel } from './preferences.js';
import { announceLinkCode, linkCodeHash, TelegramLinker } from './telegram-linker.js';

export const LINK_TTL_MS = 15 * 60_000;

const TelegramState = Type.Object({
  linked: Type.Boolean(),
  botUsername: Type.Union([Type.String(), Type.Null()], { description: "the organisation's bot; null: Telegram is not set up" }),
});
export const LinkAnswer = Type.Object({
  url: Type.String({ description: 'https://t.me/<bot>?start=<one-time code>: open it in Telegram and press Start' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

/** The organisation's bot's username: as saved with the token, else asked of the Bot API (getMe). */
async function botUsername(ctx: AppContext, orgId: string): Promise<{ token: string; username: string } | null> {
  const settings = await getOrgSettings(ctx.db, orgId);
  const token = telegramBotToken(ctx.sealer, settings);
  if (!token) return null;
  if (settings.telegramBotUsername) return { token, username: settings.telegramBotUsername };
  try {
    const me = await callBotApi<{ username?: string }>(ctx.config.notify.telegramApiUrl, token, 'getMe', {});
    if (me.username) return { token, username: me.username };
  } catch {
    // Reported below without Telegram's words: the token is not the host's business.
  }
  throw new HttpError(503, 'telegram_unavailable', "the organisation's Telegram bot does not answer; try again later");
}

async function telegramState(ctx: AppContext, p: Pick<Principal, 'orgId' | 'userId'>) {
  const settings = await getOrgSettings(ctx.db, p.orgId);
  const [row] = await ctx.db
    .select({ chat: hostPreferences.telegramChatIdEnc })
    .from(hostPreferences)
    .where(and(eq(hostPreferences.orgId, p.orgId), eq(hostPreferences.userId, p.userId)));
  const hasBot = settings.telegramBotTokenEnc != null;
  return { linked: hasBot && row?.chat != null, botUsername: hasBot ? settings.telegramBotUsername : null };
}

export const telegramRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['host'];
  const config = { permission: 'host:portal' as const };
  const linker = new TelegramLinker(ctx, app.log as unknown as Logger);
  app.addHook('onReady', async () => linker.start());
  app.addHook('onClose', async () => linker.stop());

  app.get(
    '/telegram',
    { config, schema: { tags, summary: 'Whether my Telegram chat is linked, and the bot to talk to', response: { 200: TelegramState } } },
    async (req) => telegramState(ctx, req.principal!),
  );

  app.post(
    '/telegram/link',
    {
      config: {
        ...config,
        errors: { 422: 'Telegram is not set up for this organisation', 503: "the organisation's Telegram bot does not answer" },
      },
      schema: {
        tags,
        summary: 'A one-time deep link (15 min) that links my Telegram chat when I press Start',
        response: { 201: LinkAnswer },
      },
    },
    async (req, reply) => {
      const p = req.principal!;
      const bot = await botUsername(ctx, p.orgId);
      if (!bot) throw unprocessable('Telegram is not set up for this organisation');
      // 128 bits, base64url: what a deep link's start parameter may hold (A-Z a-z 0-9 _ -, ≤ 64).
      const code = randomBytes(16).toString('base64url');
      const expiresAt = new Date(Date.now() + LINK_TTL_MS);
      await ctx.db.transaction(async (tx) => {
        // One live link per host: a new one replaces any earlier unused one.
        await tx
          .delete(telegramLinkCodes)
          .where(and(eq(telegramLinkCodes.orgId, p.orgId), eq(telegramLinkCodes.userId, p.userId), isNull(telegramLinkCodes.usedAt)));
        await tx.insert(telegramLinkCodes).values({ codeHash: linkCodeHash(code), orgId: p.orgId, userId: p.userId, expiresAt });
        await writeAudit(tx, actorOf(req), { action: 'host.telegram_link', entityType: 'user', entityId: p.userId });
        await announceLinkCode(tx, p.orgId);
      });
      return reply.code(201).send({ url: `https://t.me/${bot.username}?start=${code}`, expiresAt: expiresAt.toISOString() });
    },
  );

  app.delete(
    '/telegram',
    { config, schema: { tags, summary: 'Unlink my Telegram chat (Telegram leaves my channels)' } },
    async (req, reply) => {
      const p = req.principal!;
      await ctx.db.transaction(async (tx) => {
        await toggleChannel(tx, p.orgId, p.userId, 'telegram', false);
        await tx
          .update(hostPreferences)
          .set({ telegramChatIdEnc: null, updatedAt: sql`now()` })
          .where(and(eq(hostPreferences.orgId, p.orgId), eq(hostPreferences.userId, p.userId)));
        await writeAudit(tx, actorOf(req), { action: 'host.telegram_unlinked', entityType: 'user', entityId: p.userId });
      });
      return reply.code(204).send();
    },
  );
};
