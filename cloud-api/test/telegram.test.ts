/**
 * Telegram end to end against a local stand-in of the Bot API
 * (stand-ins/telegram-bot-api.ts): a host links their chat through the host
 * routes and a deep link's `/start <code>` (the cloud long-polls getUpdates),
 * gets the reply in their language, and then messages to them arrive through
 * the job queue — a 500 is retried then sent, a 403 (bot blocked) is dead at
 * once. The bot token never reaches the message log.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/app.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { hostPreferences, notifications, orgSettings, telegramLinkCodes } from '../src/db/schema.js';
import { hostRecipients } from '../src/modules/host/preferences.js';
import { linkCodeHash } from '../src/modules/host/telegram-linker.js';
import { notify } from '../src/modules/notifications/outbox.js';
import { telegramTokenAad } from '../src/modules/orgs/settings.js';
import { addUser, createOrgWithUser, type Login, onPostgres, startApp, type TestApp, testConfig, until } from './helpers.js';
import { type BotApiStandIn, startBotApi } from './stand-ins/telegram-bot-api.js';

describe('Telegram: linking a host and delivering to them', () => {
  let bot: BotApiStandIn;
  let t: TestApp;
  let admin: Login;
  let host: Login;
  let operator: Login;
  const CHAT = 4242;
  let firstCode = '';

  // Starting the app (migrations, the job queue) on PGlite can take a minute on a busy machine.
  beforeAll(async () => {
    bot = await startBotApi();
    const base = testConfig();
    t = await startApp({
      notify: { ...base.notify, telegramApiUrl: bot.url },
      jobs: { ...base.jobs, retryLimit: 3, retryDelayS: 1 },
    });
    admin = await createOrgWithUser(t.app, 'Telegram Org', ['OrgAdmin']);
    host = await addUser(t.app, admin.orgId, ['Host']);
    operator = await addUser(t.app, admin.orgId, ['Operator']);
    // The organisation's bot, as the settings screen saves it (token sealed, username from getMe).
    await t.app.ctx.db.insert(orgSettings).values({
      orgId: admin.orgId,
      telegramBotTokenEnc: t.app.ctx.sealer.seal(bot.token, telegramTokenAad(admin.orgId)),
      telegramBotUsername: bot.username,
    });
    const r = await t.app.inject({ method: 'PATCH', url: '/api/auth/me', headers: host.auth, payload: { language: 'ru' } });
    expect(r.statusCode, r.body).toBe(200);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await bot?.close();
  });

  const get = (who: Login, url: string) => t.app.inject({ method: 'GET', url, headers: who.auth });
  const linkCode = async () => {
    const r = await t.app.inject({ method: 'POST', url: '/api/host/telegram/link', headers: host.auth });
    expect(r.statusCode, r.body).toBe(201);
    const { url, expiresAt } = r.json() as { url: string; expiresAt: string };
    const m = /^https:\/\/t\.me\/gatehouse_test_bot\?start=([A-Za-z0-9_-]{16,64})$/.exec(url);
    expect(m, url).not.toBeNull();
    const ttl = new Date(expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
    return m![1] as string;
  };

  /** Sends a message to the host's chat through the outbox (as an arrival would) and waits for its final status. */
  const send = async (text: string, final: Array<string> = ['sent', 'dead']) => {
    const id = await t.app.ctx.db.transaction((tx) =>
      notify(t.app.ctx, tx, {
        orgId: admin.orgId,
        channel: 'telegram',
        to: String(CHAT),
        template: 'arrival',
        language: 'en',
        vars: { visitorName: text, gateName: 'Turnstile 1', when: '10:00' },
      }),
    );
    return until(
      async () => {
        const [row] = await t.app.ctx.db.select().from(notifications).where(eq(notifications.id, id));
        return row && final.includes(row.status) ? row : null;
      },
      `message ${text} to reach ${final.join('/')}`,
      20_000,
    );
  };

  it('needs host:portal: an operator is refused', async () => {
    expect((await get(operator, '/api/host/telegram')).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: '/api/host/telegram/link', headers: operator.auth })).statusCode).toBe(403);
  });

  it('starts unlinked, and Telegram cannot be chosen yet (422)', async () => {
    expect((await get(host, '/api/host/telegram')).json()).toEqual({ linked: false, botUsername: bot.username });
    const r = await t.app.inject({ method: 'PUT', url: '/api/host/preferences', headers: host.auth, payload: { channels: ['telegram'] } });
    expect(r.statusCode, r.body).toBe(422);
  });

  it('links the chat that sends /start <code>, replies in the host language, and stores only the hash of the code', async () => {
    const code = await linkCode();
    firstCode = code;
    const stored = await t.app.ctx.db.select().from(telegramLinkCodes).where(eq(telegramLinkCodes.userId, host.userId));
    expect(stored).toHaveLength(1);
    expect(stored[0]!.codeHash).not.toContain(code);
    bot.start(CHAT, code, { languageCode: 'en' });
    await until(async () => (await get(host, '/api/host/telegram')).json().linked === true, 'the chat to be linked');
    const replies = await bot.waitForSent(1);
    expect(replies[0]!.chat_id).toBe(String(CHAT));
    // The host's profile says ru, whatever the Telegram client's language.
    expect(replies[0]!.text).toMatch(/^Готово/);
    expect(replies[0]!.text).toContain('Telegram Org');
    const prefs = (await get(host, '/api/host/preferences')).json();
    expect(prefs).toEqual({
      channels: ['email', 'telegram'],
      telegram: { linked: true, botUsername: bot.username },
      push: { subscriptions: 0 },
      language: 'ru',
    });
    // The chat id is sealed at rest.
    const [row] = await t.app.ctx.db.select().from(hostPreferences).where(eq(hostPreferences.userId, host.userId));
    expect(row!.telegramChatIdEnc).not.toContain(String(CHAT));
    expect(await hostRecipients(t.app.ctx, t.app.ctx.db, host.userId)).toEqual([
      { channel: 'email', to: host.email },
      { channel: 'telegram', to: String(CHAT) },
    ]);
    expect(bot.conflicts).toBe(0);
  });

  it('a used code links nothing: the second chat is told it expired and the first stays linked', async () => {
    const [used] = await t.app.ctx.db.select().from(telegramLinkCodes).where(eq(telegramLinkCodes.userId, host.userId));
    expect(used!.usedAt).not.toBeNull();
    // A fresh code keeps the poller running; the used one, replayed by another chat, does nothing.
    const fresh = await linkCode();
    const before = bot.sent.length;
    const stolen = 7777;
    bot.start(stolen, firstCode, { languageCode: 'en' });
    const sent = await bot.waitForSent(before + 1);
    expect(sent.at(-1)!.chat_id).toBe(String(stolen));
    expect(sent.at(-1)!.text).toMatch(/expired|already used/);
    expect(await hostRecipients(t.app.ctx, t.app.ctx.db, host.userId)).toContainEqual({ channel: 'telegram', to: String(CHAT) });
    // A group chat is refused and the code stays usable.
    bot.start(-100123, fresh, { chatType: 'group', languageCode: 'ru' });
    const more = await bot.waitForSent(before + 2);
    expect(more.at(-1)!.chat_id).toBe('-100123');
    expect(more.at(-1)!.text).toMatch(/группе/);
    const [still] = await t.app.ctx.db
      .select()
      .from(telegramLinkCodes)
      .where(eq(telegramLinkCodes.codeHash, linkCodeHash(fresh)));
    expect(still!.usedAt).toBeNull();
  });

  it('delivers a message to the linked chat through the job queue', async () => {
    const before = bot.sent.length;
    const row = await send('Anna Smith');
    expect(row.status, row.lastError ?? '').toBe('sent');
    expect(row.attempts).toBe(1);
    const msg = bot.sent.slice(before).find((m) => String(m.text).includes('Anna Smith'));
    expect(msg).toBeDefined();
    expect(msg!.chat_id).toBe(String(CHAT));
    expect(msg!.parse_mode).toBeUndefined();
    expect(msg!.disable_web_page_preview).toBe(true);
  });

  it('a 500 is retried, then sent', async () => {
    bot.fail('sendMessage', { status: 500, description: 'Internal Server Error' });
    const row = await send('Boris Retry');
    expect(row.status, row.lastError ?? '').toBe('sent');
    expect(row.attempts).toBe(2);
    expect(bot.sent.filter((m) => String(m.text).includes('Boris Retry'))).toHaveLength(1);
  });

  it('a 429 is retried too', async () => {
    bot.fail('sendMessage', { status: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
    const row = await send('Clara Busy');
    expect(row.status, row.lastError ?? '').toBe('sent');
    expect(row.attempts).toBe(2);
  });

  it('a 403 (the host blocked the bot) is dead at once, and the log never holds the token', async () => {
    // One failure queued: a retry would succeed, so 'dead' after one attempt shows there was none.
    bot.fail('sendMessage', { status: 403, description: 'Forbidden: bot was blocked by the user' });
    const row = await send('Dmitri Blocked');
    expect(row.status).toBe('dead');
    expect(row.attempts).toBe(1);
    expect(row.lastError).toContain('blocked');
    expect(row.lastError).not.toContain(bot.token);
    expect(row.lastError).not.toContain(bot.token.split(':')[1]);
    expect(bot.sent.some((m) => String(m.text).includes('Dmitri Blocked'))).toBe(false);
  });

  it('while the organisation has no bot, the linked chat is not a recipient (no message that can only die)', async () => {
    const [saved] = await t.app.ctx.db.select().from(orgSettings).where(eq(orgSettings.orgId, admin.orgId));
    await t.app.ctx.db.update(orgSettings).set({ telegramBotTokenEnc: null }).where(eq(orgSettings.orgId, admin.orgId));
    try {
      expect(await hostRecipients(t.app.ctx, t.app.ctx.db, host.userId)).toEqual([{ channel: 'email', to: host.email }]);
      expect((await get(host, '/api/host/telegram')).json()).toEqual({ linked: false, botUsername: null });
    } finally {
      await t.app.ctx.db
        .update(orgSettings)
        .set({ telegramBotTokenEnc: saved!.telegramBotTokenEnc })
        .where(eq(orgSettings.orgId, admin.orgId));
    }
    expect(await hostRecipients(t.app.ctx, t.app.ctx.db, host.userId)).toContainEqual({ channel: 'telegram', to: String(CHAT) });
  });

  it('unlinking removes the chat and the channel', async () => {
    const r = await t.app.inject({ method: 'DELETE', url: '/api/host/telegram', headers: host.auth });
    expect(r.statusCode, r.body).toBe(204);
    expect((await get(host, '/api/host/telegram')).json().linked).toBe(false);
    expect((await get(host, '/api/host/preferences')).json().channels).toEqual(['email']);
    expect(await hostRecipients(t.app.ctx, t.app.ctx.db, host.userId)).toEqual([{ channel: 'email', to: host.email }]);
  });

  it('without a bot, linking is refused (422)', async () => {
    const other = await createOrgWithUser(t.app, 'No Bot Org', ['Host']);
    expect((await get(other, '/api/host/telegram')).json()).toEqual({ linked: false, botUsername: null });
    const r = await t.app.inject({ method: 'POST', url: '/api/host/telegram/link', headers: other.auth });
    expect(r.statusCode, r.body).toBe(422);
  });
});

// Two cloud instances on one PostgreSQL database: only one polls the bot (Telegram answers a second
// concurrent getUpdates with 409, which the stand-in counts), and when it stops the other takes over.
describe.skipIf(!onPostgres)('Telegram: one poller per bot across instances', () => {
  let bot: BotApiStandIn;
  let t: TestApp;
  let second: App;
  let secondDb: Database;
  let host: Login;

  beforeAll(async () => {
    bot = await startBotApi();
    const base = testConfig();
    t = await startApp({ notify: { ...base.notify, telegramApiUrl: bot.url } });
    secondDb = await openDatabase({ databaseUrl: t.db.url, dataDir: null, poolSize: 3 });
    // The same configuration (master key included) on its own pool: another instance of the same cloud.
    second = await buildApp(t.app.ctx.config, { database: secondDb, migrate: false, logger: false });
    await second.ready();
    const admin = await createOrgWithUser(t.app, 'Two Instances Org', ['OrgAdmin']);
    host = await addUser(t.app, admin.orgId, ['Host']);
    await t.app.ctx.db.insert(orgSettings).values({
      orgId: admin.orgId,
      telegramBotTokenEnc: t.app.ctx.sealer.seal(bot.token, telegramTokenAad(admin.orgId)),
      telegramBotUsername: bot.username,
    });
  }, 180_000);
  afterAll(async () => {
    await second?.close();
    await secondDb?.close();
    await t?.close();
    await bot?.close();
  });

  it('one instance polls; after it stops the other links the chat', async () => {
    const link = async (app: App) => {
      const r = await app.inject({ method: 'POST', url: '/api/host/telegram/link', headers: host.auth });
      expect(r.statusCode, r.body).toBe(201);
      return new URL((r.json() as { url: string }).url).searchParams.get('start') as string;
    };
    await link(t.app);
    // Both instances hear of the live code (NOTIFY telegram_link): give each a few chances to poll.
    await link(second);
    await new Promise((r) => setTimeout(r, 7_000));
    const polls = bot.calls.filter((c) => c.method === 'getUpdates').length;
    expect(polls).toBeGreaterThan(0);
    expect(bot.conflicts).toBe(0);
    // The first instance goes away (its lock connection with it); the second one takes over the bot.
    await t.app.close();
    const code = await link(second);
    bot.start(5151, code);
    await bot.waitForSent(1, 15_000);
    expect(bot.sent[0]!.chat_id).toBe('5151');
    const state = await second.inject({ method: 'GET', url: '/api/host/telegram', headers: host.auth });
    expect(state.json()).toEqual({ linked: true, botUsername: bot.username });
    expect(bot.conflicts).toBe(0);
  }, 60_000);
});
