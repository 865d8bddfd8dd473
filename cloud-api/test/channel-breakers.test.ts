/**
 * Issue 15: the SMTP server, the SMS gateway, the Telegram Bot API and a Web
 * Push service failing for real, each behind a TCP switch (stand-ins/flaky-tcp.ts) in front
 * of its stand-in, on an address that never changes:
 * - hanging (accepts, never answers — for SMTP: never greets): every attempt is cut at NOTIFY_TIMEOUT_S
 *   — measured on the wire, as how long each hung connection stayed open —
 *   and after BREAKER_THRESHOLD of them in a row the channel's breaker opens:
 *   attempts fail fast with "circuit open", no connection made;
 * - refusing (closes every connection): the half-open probe fails and opens
 *   the breaker again;
 * - back up: a probe closes the breaker and every message arrives exactly once.
 * The breakers come from config (`breakers`), the timeout from `notify.timeoutMs`.
 * Runs on PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from '../src/db/schema.js';
import { notifications, orgSettings } from '../src/db/schema.js';
import { breakersOf } from '../src/lib/breaker.js';
import { notify } from '../src/modules/notifications/outbox.js';
import { telegramTokenAad } from '../src/modules/orgs/settings.js';
import { addUser, createOrgWithUser, type Login, startApp, type TestApp, testConfig, until } from './helpers.js';
import { type FlakyTcp, startFlakyTcp } from './stand-ins/flaky-tcp.js';
import { hasOpenssl, type PushServiceStandIn, startPushService } from './stand-ins/push-service.js';
import { type SmtpStandIn, startSmtpServer } from './stand-ins/smtp.js';
import { type BotApiStandIn, startBotApi } from './stand-ins/telegram-bot-api.js';

// Long enough that a loaded CI box answers an up host in time (a late answer is a retry, and the stand-in would see it twice).
const TIMEOUT_MS = 2_000;
const THRESHOLD = 2;
const COOLDOWN_MS = 1_500;
const MESSAGES = 3;

const openssl = hasOpenssl();
if (!openssl) console.warn('channel-breakers.test: the Web Push case is skipped, the openssl CLI is missing (apt-get install openssl)');

/** An SMS gateway of the contract in channels/sms.ts: records each `{to, text}` and answers 200. */
async function startSmsGateway() {
  const received: Array<{ to: string; text: string }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { to: string; text: string });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let t: TestApp;
let admin: Login;
let sms: Awaited<ReturnType<typeof startSmsGateway>>;
let bot: BotApiStandIn;
let smtp: SmtpStandIn;
let push: PushServiceStandIn | null = null;
const flaky: Record<'email' | 'sms' | 'telegram' | 'webpush', FlakyTcp | null> = { email: null, sms: null, telegram: null, webpush: null };

beforeAll(async () => {
  smtp = await startSmtpServer();
  sms = await startSmsGateway();
  bot = await startBotApi();
  flaky.email = await startFlakyTcp({ port: smtp.port }, { serverSpeaksFirst: true });
  flaky.sms = await startFlakyTcp({ port: sms.port });
  flaky.telegram = await startFlakyTcp({ port: Number(new URL(bot.url).port) });
  if (openssl) {
    push = await startPushService();
    push.trust();
    flaky.webpush = await startFlakyTcp({ port: Number(new URL(push.origin).port) });
  }
  const base = testConfig();
  t = await startApp({
    notify: {
      ...base.notify,
      smtpUrl: `smtp://127.0.0.1:${flaky.email.port}`,
      smsUrl: `http://127.0.0.1:${flaky.sms.port}/send`,
      telegramApiUrl: `http://127.0.0.1:${flaky.telegram.port}`,
      timeoutMs: TIMEOUT_MS,
    },
    breakers: { threshold: THRESHOLD, cooldownMs: COOLDOWN_MS },
    // Enough retries to outlast each outage; the first ones come within seconds.
    jobs: { ...base.jobs, retryLimit: 12, retryDelayS: 1 },
  });
  admin = await createOrgWithUser(t.app, 'Channels Org', ['OrgAdmin']);
  await t.app.ctx.db.insert(orgSettings).values({
    orgId: admin.orgId,
    telegramBotTokenEnc: t.app.ctx.sealer.seal(bot.token, telegramTokenAad(admin.orgId)),
    telegramBotUsername: bot.username,
  });
}, 180_000);

afterAll(async () => {
  await t?.close();
  for (const f of Object.values(flaky)) await f?.close();
  await sms?.close();
  await bot?.close();
  await push?.close();
  await smtp?.close();
});

async function send(channel: Channel, to: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push(
      await t.app.ctx.db.transaction((tx) =>
        notify(t.app.ctx, tx, {
          orgId: admin.orgId,
          channel,
          to,
          template: 'arrival',
          language: 'en',
          vars: { visitorName: `Visitor ${channel} ${i}`, gateName: 'Turnstile 1', when: '10:00' },
        }),
      ),
    );
  return ids;
}

async function rows(ids: string[]) {
  const all = await Promise.all(
    ids.map(async (id) => (await t.app.ctx.db.select().from(notifications).where(eq(notifications.id, id)))[0]),
  );
  return all.filter((r) => r !== undefined);
}

/**
 * Hang → drop → up against one channel's switch; answers the figures. `received()` counts what the
 * stand-in behind the switch took for each visitor name (each must be exactly 1 at the end).
 */
async function outage(channel: Channel, dependency: string, sw: FlakyTcp, to: string, received: ((name: string) => number) | null) {
  const breakers = breakersOf(t.app.ctx);
  expect(breakers.settings).toEqual({ threshold: THRESHOLD, cooldownMs: COOLDOWN_MS });
  sw.set('hang');
  const sentAt = Date.now();
  const ids = await send(channel, to, MESSAGES);

  // Hanging: each attempt is cut at the timeout; after THRESHOLD of them the breaker fails attempts fast.
  await until(
    async () => ((await rows(ids)).some((r) => r.lastError?.includes('circuit open')) ? true : null),
    `a ${channel} message failed fast by the open breaker`,
    30_000,
  );
  const firstFastMs = Date.now() - sentAt;
  await until(() => (sw.hungFor.length >= THRESHOLD ? true : null), `${THRESHOLD} hung ${channel} connections given up`, 10_000);
  expect(sw.hungFor.length).toBeGreaterThanOrEqual(THRESHOLD);
  // Bounded by the timeout (no lower bound: the switch runs in this busy process, so it may accept late).
  for (const ms of sw.hungFor) expect(ms).toBeLessThan(TIMEOUT_MS + 5_000);
  // Messages not tried yet have no error.
  const hangErrors = (await rows(ids)).map((r) => r.lastError ?? '').filter(Boolean);
  // The timeout's own message (nodemailer: "Greeting never received"), or the breaker's once it opened.
  expect(
    hangErrors.every((e) => /no answer within|Greeting never received|Timeout|circuit open/.test(e)),
    hangErrors.join(' | '),
  ).toBe(true);
  // Fail fast, observed on the wire: more attempts recorded than connections made.
  const attemptsWhileHung = await until(
    async () => {
      const n = (await rows(ids)).reduce((sum, r) => sum + r.attempts, 0);
      return n > sw.connections.hang ? n : null;
    },
    `more ${channel} attempts than connections while it hangs`,
    30_000,
  );
  expect(breakers.of(dependency).opened).toBeGreaterThanOrEqual(1);

  // Refusing: the half-open probe is dropped and opens the breaker again.
  const openedBefore = breakers.of(dependency).opened;
  sw.set('drop');
  await until(() => (sw.connections.drop >= 1 ? true : null), `a probe to the refusing ${channel} host`, 40_000);
  await until(() => (breakers.of(dependency).opened > openedBefore ? true : null), `the ${channel} breaker opening again`, 30_000);
  for (const id of ids) expect((await rows([id]))[0]?.status).not.toBe('dead');

  // Back up: every message arrives once.
  const backAt = Date.now();
  sw.set('up');
  const sent = await until(
    async () => {
      const r = await rows(ids);
      return r.length === MESSAGES && r.every((x) => x.status === 'sent') ? r : null;
    },
    `every ${channel} message sent after the host came back`,
    60_000,
  );
  const sentAfterBackMs = Date.now() - backAt;
  for (const ms of sw.hungFor) expect(ms).toBeLessThan(TIMEOUT_MS + 5_000);
  expect(breakers.stateOf(dependency)).toBe('closed');
  // Nothing doubled, a moment later still.
  await new Promise((r) => setTimeout(r, 500));
  if (received) for (let i = 0; i < MESSAGES; i++) expect(received(`Visitor ${channel} ${i}`), `${channel} message ${i}`).toBe(1);
  const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
  expect(metrics.body).toContain(`gatehouse_breaker_state{dependency="${dependency}"} 0`);
  expect(metrics.body).toMatch(new RegExp(`gatehouse_breaker_opened_total\\{dependency="${dependency}"\\} [2-9]`));
  const figures = {
    figure: `${channel} outage`,
    timeoutMs: TIMEOUT_MS,
    threshold: THRESHOLD,
    cooldownMs: COOLDOWN_MS,
    hungConnectionMs: sw.hungFor,
    firstFailFastAfterMs: firstFastMs,
    attemptsWhileHung,
    hungConnections: sw.connections.hang,
    droppedConnections: sw.connections.drop,
    sentAfterBackMs,
    maxAttempts: Math.max(...sent.map((r) => r.attempts)),
  };
  console.log(JSON.stringify(figures));
  return figures;
}

describe('notification channels hanging, refusing, back', () => {
  it('SMTP server that accepts and never greets: each attempt ends at NOTIFY_TIMEOUT_S and is retried, the breaker opens after BREAKER_THRESHOLD, each message sent once when it is back', async () => {
    const to = 'guard@example.org';
    await outage(
      'email',
      `smtp:127.0.0.1:${flaky.email!.port}`,
      flaky.email!,
      to,
      (name) => smtp.received.filter((m) => m.to.includes(to) && (m.mail.text ?? '').includes(name)).length,
    );
  }, 150_000);

  it('SMS gateway: each attempt ends at NOTIFY_TIMEOUT_S, the breaker opens after BREAKER_THRESHOLD, each message sent once when it is back', async () => {
    const to = '+79001234567';
    await outage(
      'sms',
      `sms:127.0.0.1:${flaky.sms!.port}`,
      flaky.sms!,
      to,
      (name) => sms.received.filter((m) => m.to === to && m.text.includes(name)).length,
    );
  }, 150_000);

  it('Telegram Bot API: each sendMessage ends at NOTIFY_TIMEOUT_S, the breaker opens after BREAKER_THRESHOLD, each message sent once when it is back', async () => {
    const chat = '424242';
    await outage(
      'telegram',
      `telegram:127.0.0.1:${flaky.telegram!.port}`,
      flaky.telegram!,
      chat,
      (name) => bot.sent.filter((m) => String(m.chat_id) === chat && String(m.text).includes(name)).length,
    );
  }, 150_000);

  it.skipIf(!openssl)(
    'Web Push service: each push ends at NOTIFY_TIMEOUT_S, its host’s breaker opens after BREAKER_THRESHOLD, each push arrives once when it is back',
    async () => {
      const host = await addUser(t.app, admin.orgId, ['Host']);
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const endpoint = `https://127.0.0.1:${flaky.webpush!.port}/push/browser-flaky`;
      const r = await t.app.inject({
        method: 'POST',
        url: '/api/host/push/subscriptions',
        headers: host.auth,
        payload: {
          endpoint,
          keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
        },
      });
      expect(r.statusCode, r.body).toBe(201);
      const subId = (r.json() as { id: string }).id;
      // Push bodies are encrypted for the browser: each message once is counted by request (a hung one never reached it).
      const before = push!.received.length;
      const figures = await outage('webpush', `webpush:127.0.0.1:${flaky.webpush!.port}`, flaky.webpush!, subId, null);
      const pushes = push!.received.slice(before).filter((p) => p.id === 'browser-flaky');
      expect(pushes).toHaveLength(MESSAGES);
      expect(figures.maxAttempts).toBeGreaterThanOrEqual(2);
    },
    150_000,
  );
});
