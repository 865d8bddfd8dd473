/**
 * A host's notification preferences (host_preferences): which channels tell
 * them their guest has arrived. Routes `GET/PUT /api/host/preferences`, and
 * `hostRecipients`, which turns the chosen channels into concrete addresses
 * (one per push subscription) for whoever sends the message (the arrival).
 *
 * A host who never saved anything hears by e-mail. Telegram needs a linked
 * chat (telegram-routes.ts) and Web Push a browser subscription (push-routes.ts);
 * SMS is not offered to hosts: users have no phone number.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, count, eq, isNull, sql } from 'drizzle-orm';
import Type, { type Static } from 'typebox';
import type { AppContext, Principal } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { type Channel, hostPreferences, type Language, pushSubscriptions, users } from '../../db/schema.js';
import { actorOf, writeAudit } from '../../lib/audit.js';
import { unprocessable } from '../../lib/errors.js';
import { pickLanguage } from '../../lib/i18n.js';
import { openUser, userPersonalColumns } from '../orgs/personal-data.js';
import { getOrgSettings } from '../orgs/settings.js';

/** The channels a host may choose. */
export const HOST_CHANNELS = ['email', 'telegram', 'webpush'] as const satisfies readonly Channel[];
export type HostChannel = (typeof HOST_CHANNELS)[number];
const DEFAULT_CHANNELS: Channel[] = ['email'];

export const chatIdAad = (userId: string) => `host_preferences.telegram_chat_id:${userId}`;

const HostChannelSchema = Type.Union([Type.Literal('email'), Type.Literal('telegram'), Type.Literal('webpush')]);

export const Preferences = Type.Object({
  channels: Type.Array(HostChannelSchema, { description: 'where arrival notices go' }),
  telegram: Type.Object({
    linked: Type.Boolean(),
    botUsername: Type.Union([Type.String(), Type.Null()], { description: "the organisation's bot; null: Telegram is not set up" }),
  }),
  push: Type.Object({ subscriptions: Type.Integer({ minimum: 0, description: 'browsers subscribed to Web Push' }) }),
  language: Type.Union([Type.Literal('en'), Type.Literal('ru')], { description: 'the language messages to this host are in' }),
});
export type Preferences = Static<typeof Preferences>;

export const PreferencesBody = Type.Object(
  { channels: Type.Array(HostChannelSchema, { maxItems: HOST_CHANNELS.length, uniqueItems: true }) },
  { additionalProperties: false },
);

interface PrefRow {
  channels: Channel[];
  telegramChatIdEnc: string | null;
}

async function prefRow(db: Executor, orgId: string, userId: string): Promise<PrefRow | null> {
  const [row] = await db
    .select({ channels: hostPreferences.channels, telegramChatIdEnc: hostPreferences.telegramChatIdEnc })
    .from(hostPreferences)
    .where(and(eq(hostPreferences.orgId, orgId), eq(hostPreferences.userId, userId)));
  return row ?? null;
}

async function subscriptionCount(db: Executor, orgId: string, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(pushSubscriptions)
    .where(and(eq(pushSubscriptions.orgId, orgId), eq(pushSubscriptions.userId, userId)));
  return Number(row?.n ?? 0);
}

/** The language messages to a user are in: their profile's, else the organisation's default. */
export async function userLanguage(db: Executor, orgId: string, userId: string): Promise<Language> {
  const [u] = await db
    .select({ language: users.language })
    .from(users)
    .where(and(eq(users.orgId, orgId), eq(users.id, userId)));
  const settings = await getOrgSettings(db, orgId);
  return pickLanguage(u?.language, settings.defaultLanguage);
}

export async function getPreferences(ctx: AppContext, p: Pick<Principal, 'orgId' | 'userId'>): Promise<Preferences> {
  const [row, subs, settings, language] = await Promise.all([
    prefRow(ctx.db, p.orgId, p.userId),
    subscriptionCount(ctx.db, p.orgId, p.userId),
    getOrgSettings(ctx.db, p.orgId),
    userLanguage(ctx.db, p.orgId, p.userId),
  ]);
  const channels = (row?.channels ?? DEFAULT_CHANNELS).filter((c): c is HostChannel => (HOST_CHANNELS as readonly string[]).includes(c));
  const hasBot = settings.telegramBotTokenEnc != null;
  return {
    channels,
    telegram: { linked: hasBot && row?.telegramChatIdEnc != null, botUsername: hasBot ? settings.telegramBotUsername : null },
    push: { subscriptions: subs },
    language,
  };
}

/** Saves the chosen channels; a channel that cannot reach the host yet is refused (422), not silently kept. */
export async function setPreferences(
  ctx: AppContext,
  actor: ReturnType<typeof actorOf>,
  p: Pick<Principal, 'orgId' | 'userId'>,
  channels: HostChannel[],
): Promise<Preferences> {
  const wanted = [...new Set(channels)];
  await ctx.db.transaction(async (tx) => {
    const row = await prefRow(tx, p.orgId, p.userId);
    if (wanted.includes('telegram') && !row?.telegramChatIdEnc) throw unprocessable('link Telegram first (POST /api/host/telegram/link)');
    if (wanted.includes('webpush') && (await subscriptionCount(tx, p.orgId, p.userId)) === 0)
      throw unprocessable('enable browser notifications first (POST /api/host/push/subscriptions)');
    await tx
      .insert(hostPreferences)
      .values({ userId: p.userId, orgId: p.orgId, channels: wanted })
      .onConflictDoUpdate({ target: hostPreferences.userId, set: { channels: wanted, updatedAt: sql`now()` } });
    await writeAudit(tx, actor, {
      action: 'host.preferences',
      entityType: 'user',
      entityId: p.userId,
      data: { from: row?.channels ?? DEFAULT_CHANNELS, to: wanted },
    });
  });
  return getPreferences(ctx, p);
}

/** Adds (or with `on: false` removes) one channel of a host's choice, creating their row if needed. */
export async function toggleChannel(tx: Executor, orgId: string, userId: string, channel: Channel, on: boolean): Promise<void> {
  const row = await prefRow(tx, orgId, userId);
  const current = row?.channels ?? DEFAULT_CHANNELS;
  const next = on ? [...new Set([...current, channel])] : current.filter((c) => c !== channel);
  await tx
    .insert(hostPreferences)
    .values({ userId, orgId, channels: next })
    .onConflictDoUpdate({ target: hostPreferences.userId, set: { channels: next, updatedAt: sql`now()` } });
}

export interface HostRecipient {
  channel: Channel;
  /** E-mail address, Telegram chat id, or push subscription id: what `notify()` takes as `to`. */
  to: string;
}

/**
 * Where a host hears of their guests: one recipient per chosen channel (one per push subscription).
 * A channel chosen but no longer reachable (chat unlinked, the bot removed, every subscription gone) is skipped;
 * a disabled or deleted user gets nothing.
 */
export async function hostRecipients(ctx: AppContext, db: Executor, userId: string): Promise<HostRecipient[]> {
  const [user] = await db
    .select({ orgId: users.orgId, status: users.status, ...userPersonalColumns })
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)));
  if (!user || user.status !== 'active') return [];
  const row = await prefRow(db, user.orgId, userId);
  const out: HostRecipient[] = [];
  for (const channel of row?.channels ?? DEFAULT_CHANNELS) {
    if (channel === 'email') {
      const { email } = openUser(ctx.sealer, userId, user);
      if (email) out.push({ channel, to: email });
    } else if (channel === 'telegram') {
      // A chat linked to a bot the organisation has since removed cannot be reached: no message, rather than a dead one.
      if (row?.telegramChatIdEnc && (await getOrgSettings(db, user.orgId)).telegramBotTokenEnc)
        out.push({ channel, to: ctx.sealer.open(row.telegramChatIdEnc, chatIdAad(userId)) });
    } else if (channel === 'webpush') {
      const subs = await db
        .select({ id: pushSubscriptions.id })
        .from(pushSubscriptions)
        .where(and(eq(pushSubscriptions.orgId, user.orgId), eq(pushSubscriptions.userId, userId)));
      for (const s of subs) out.push({ channel, to: s.id });
    }
    // 'sms': users have no phone number; never offered to hosts.
  }
  return out;
}

export const preferenceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['host'];
  const config = { permission: 'host:portal' as const };
  app.get(
    '/preferences',
    {
      config,
      schema: { tags, summary: 'How I hear of my guests: channels, Telegram link, browser subscriptions', response: { 200: Preferences } },
    },
    async (req) => getPreferences(ctx, req.principal!),
  );
  app.put(
    '/preferences',
    {
      config: { ...config, errors: { 422: 'Telegram is chosen without a linked chat, or webpush without a subscription' } },
      schema: {
        tags,
        summary: 'Choose the channels of my arrival notices (Telegram needs a linked chat, webpush a subscription: 422 otherwise)',
        body: PreferencesBody,
        response: { 200: Preferences },
      },
    },
    async (req) => setPreferences(ctx, actorOf(req), req.principal!, req.body.channels),
  );
};
