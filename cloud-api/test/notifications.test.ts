/**
 * Notifications: the development mailbox (in memory and on disk), templates
 * (override, reset, preview, unknown placeholders), masking, retries, RBAC and
 * org scope, the organisation's settings (with a stand-in Telegram getMe), and
 * that an address never sits in the message log in clear.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogs, notifications, orgSettings } from '../src/db/schema.js';
import { maskRecipient, TEMPLATE_KEYS } from '../src/modules/notifications/outbox.js';
import { safeError } from '../src/modules/notifications/sender.js';
import { addUser, createOrgWithUser, type Login, startApp, type TestApp, testConfig, until } from './helpers.js';

interface Item {
  id: string;
  channel: string;
  template: string;
  to: string;
  status: string;
  attempts: number;
  error?: string;
  sentAt?: string;
}

let t: TestApp;
let admin: Login;
let host: Login;
let stranger: Login;
let telegram: Server;
let telegramUrl: string;
const GOOD_TOKEN = '123456789:AAH-good_token_value';

beforeAll(async () => {
  // A stand-in for the Bot API's getMe: one token is a bot, any other is refused as Telegram does.
  telegram = createServer((req, res) => {
    const ok = req.url === `/bot${GOOD_TOKEN}/getMe`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        ok
          ? { ok: true, result: { id: 123456789, is_bot: true, username: 'acme_visits_bot' } }
          : { ok: false, error_code: 401, description: 'Unauthorized' },
      ),
    );
  });
  // Port 0: the system picks a free one.
  await new Promise<void>((r) => telegram.listen(0, '127.0.0.1', r));
  telegramUrl = `http://127.0.0.1:${(telegram.address() as AddressInfo).port}`;
  const base = testConfig();
  t = await startApp({ notify: { ...base.notify, telegramApiUrl: telegramUrl }, jobs: { ...base.jobs, retryLimit: 1, retryDelayS: 1 } });
  admin = await createOrgWithUser(t.app, 'Acme & Sons', ['OrgAdmin']);
  host = await addUser(t.app, admin.orgId, ['Host']);
  stranger = await createOrgWithUser(t.app, 'Other Org', ['OrgAdmin']);
}, 180_000);

afterAll(async () => {
  await t?.close();
  await new Promise((r) => telegram?.close(r));
});

const api = (who: Login, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
  t.app.inject({ method, url: `/api/admin${url}`, headers: who.auth, ...(payload !== undefined ? { payload: payload as object } : {}) });

async function settled(who: Login, id: string, want: (i: Item) => boolean = (i) => i.status !== 'queued'): Promise<Item> {
  return until(
    async () => {
      const r = await api(who, 'GET', '/notifications?limit=500');
      return (r.json() as { items: Item[] }).items.find((i) => i.id === id && want(i));
    },
    `notification ${id}`,
    20_000,
  );
}

describe('test message into the development mailbox (in memory)', () => {
  it('is rendered in the language, delivered to the mailbox, logged masked and sealed', async () => {
    const to = 'maria.ivanova@example.org';
    const r = await api(admin, 'POST', '/notifications/test', { channel: 'email', to, language: 'ru' });
    expect(r.statusCode, r.body).toBe(202);
    const queued = r.json() as Item;
    expect(queued.to).toBe(maskRecipient('email', to));
    expect(queued.to).not.toContain('maria');
    const sent = await settled(admin, queued.id);
    expect(sent.status).toBe('sent');
    expect(sent.attempts).toBe(1);
    expect(sent.sentAt).toBeTruthy();

    const box = await api(admin, 'GET', '/mailbox');
    expect(box.statusCode, box.body).toBe(200);
    const mail = (box.json() as { items: Array<{ id: string; to: string; subject: string }> }).items.find((m) => m.to === to);
    expect(mail?.subject).toBe('Проверочное сообщение от Acme & Sons');
    const one = await api(admin, 'GET', `/mailbox/${mail!.id}`);
    const body = one.json() as { text: string; html: string; attachments: string[] };
    expect(body.text).toContain('канал работает');
    // The organisation's name is escaped in the branded HTML.
    expect(body.html).toContain('Acme &amp; Sons');
    expect(body.html).not.toContain('Acme & Sons');

    // Another organisation sees neither the message nor the mail.
    expect((await api(stranger, 'GET', `/mailbox/${mail!.id}`)).statusCode).toBe(404);
    expect((await api(stranger, 'GET', '/mailbox')).json()).toEqual({ items: [] });
    expect(((await api(stranger, 'GET', '/notifications')).json() as { items: Item[] }).items).toEqual([]);

    // The row: nothing in it holds the address in clear.
    const [row] = await t.app.ctx.db.select().from(notifications).where(eq(notifications.id, queued.id));
    expect(JSON.stringify(row)).not.toContain(to);
    expect(JSON.stringify(row)).not.toContain('maria');
    const raw = await t.app.ctx.db.execute(sql`select row_to_json(n)::text as j from notifications n where id = ${queued.id}`);
    expect(JSON.stringify((raw as unknown as { rows: unknown[] }).rows)).not.toContain('maria');
    // …and the audit row of the test keeps only the masked form.
    const audits = await t.app.ctx.db.select().from(auditLogs).where(eq(auditLogs.entityId, queued.id));
    expect(audits.map((a) => a.action)).toContain('notification.test');
    expect(JSON.stringify(audits)).not.toContain('maria');
  });

  it('filters the log by status and channel', async () => {
    const sent = (await api(admin, 'GET', '/notifications?status=sent&channel=email')).json() as { items: Item[] };
    expect(sent.items.length).toBeGreaterThan(0);
    expect(sent.items.every((i) => i.status === 'sent' && i.channel === 'email')).toBe(true);
    const none = (await api(admin, 'GET', '/notifications?channel=telegram')).json() as { items: Item[] };
    expect(none.items).toEqual([]);
  });

  it('counts outcomes by channel on /metrics', async () => {
    const m = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.body).toMatch(/gatehouse_notifications_total\{channel="email",status="sent"\} [1-9]/);
  });
});

describe('a message that cannot be delivered', () => {
  it('goes dead at once when the channel is not configured, and a retry queues it again', async () => {
    const r = await api(admin, 'POST', '/notifications/test', { channel: 'sms', to: '+79001234567' });
    expect(r.statusCode).toBe(202);
    const id = (r.json() as Item).id;
    const dead = await settled(admin, id);
    expect(dead.status).toBe('dead');
    expect(dead.attempts).toBe(1);
    expect(dead.error).toContain('SMS is not configured');
    expect(dead.to).not.toContain('1234');

    // Another organisation cannot retry it; a Host cannot either.
    expect((await api(stranger, 'POST', `/notifications/${id}/retry`)).statusCode).toBe(404);
    expect((await api(host, 'POST', `/notifications/${id}/retry`)).statusCode).toBe(403);

    const retry = await api(admin, 'POST', `/notifications/${id}/retry`);
    expect(retry.statusCode, retry.body).toBe(200);
    expect((retry.json() as Item).status).toBe('queued');
    const again = await settled(admin, id, (i) => i.attempts === 2);
    expect(again.status).toBe('dead');
    const audits = await t.app.ctx.db.select().from(auditLogs).where(eq(auditLogs.entityId, id));
    expect(audits.map((a) => a.action)).toContain('notification.retry');
  });

  it('refuses to retry a sent message (409)', async () => {
    const r = await api(admin, 'POST', '/notifications/test', { channel: 'email', to: 'ok@example.org' });
    const sent = await settled(admin, (r.json() as Item).id);
    expect(sent.status).toBe('sent');
    expect((await api(admin, 'POST', `/notifications/${sent.id}/retry`)).statusCode).toBe(409);
  });
});

describe('masking and error hygiene', () => {
  it('masks every channel’s address', () => {
    expect(maskRecipient('email', 'maria.ivanova@example.org')).toBe('m***@e***.org');
    const phone = maskRecipient('sms', '+79001234567');
    expect(phone).not.toContain('900123');
    expect(phone.startsWith('+7')).toBe(true);
    expect(maskRecipient('telegram', '987654321')).toBe('telegram:***321');
  });

  it('keeps no address in an error', () => {
    const e = safeError(new Error('550 5.1.1 <bob@example.org>: Recipient address rejected; also +7 900 123-45-67'), 'bob@example.org');
    expect(e).not.toContain('bob');
    expect(e).not.toContain('123-45');
    expect(e).toContain('550 5.1.1');
  });
});

describe('templates', () => {
  it('lists every key in both languages with its variables', async () => {
    const r = await api(admin, 'GET', '/notification-templates');
    expect(r.statusCode).toBe(200);
    const items = (
      r.json() as { items: Array<{ key: string; language: string; subject: string; customised: boolean; variables: string[] }> }
    ).items;
    expect(items).toHaveLength(TEMPLATE_KEYS.length * 2);
    const ru = items.find((i) => i.key === 'invitation' && i.language === 'ru')!;
    expect(ru.subject).toContain('Приглашение');
    expect(ru.customised).toBe(false);
    expect(ru.variables).toEqual(expect.arrayContaining(['visitorName', 'guestUrl', 'when']));
  });

  it('overrides, previews with sample values and branding, escapes HTML, and resets', async () => {
    await api(admin, 'PATCH', '/org-settings', { brandColor: '#aa3300' });
    const put = await api(admin, 'PUT', '/notification-templates/invitation/en', {
      subject: 'Welcome, {{visitorName}}',
      body: 'Dear {{visitorName}} <b>guest</b>,\n\nsee you at {{siteName}}{{#room}} in {{room}}{{/room}}.\n\n{{guestUrl}}',
    });
    expect(put.statusCode, put.body).toBe(200);
    expect((put.json() as { customised: boolean }).customised).toBe(true);

    const pv = await api(admin, 'POST', '/notification-templates/preview', { key: 'invitation', language: 'en' });
    expect(pv.statusCode, pv.body).toBe(200);
    const p = pv.json() as { subject: string; text: string; html: string };
    expect(p.subject).toBe('Welcome, Anna Smith');
    expect(p.text).toContain('<b>guest</b>');
    expect(p.text).toContain('in Meeting room 3');
    expect(p.html).toContain('&lt;b&gt;guest&lt;/b&gt;');
    expect(p.html).not.toContain('<b>guest');
    expect(p.html).toContain('#aa3300');
    expect(p.html).toContain('<a href="https://gatehouse.example.com/guest#token=sample"');

    // An unsaved draft previews too.
    const draft = await api(admin, 'POST', '/notification-templates/preview', {
      key: 'guest_code',
      language: 'ru',
      subject: 'Код {{code}}',
      body: '{{code}} на {{minutes}} мин',
    });
    expect((draft.json() as { subject: string }).subject).toBe('Код 482915');

    // The other organisation still reads the default.
    const theirs = (await api(stranger, 'GET', '/notification-templates')).json() as {
      items: Array<{ key: string; language: string; customised: boolean }>;
    };
    expect(theirs.items.find((i) => i.key === 'invitation' && i.language === 'en')?.customised).toBe(false);

    const del = await api(admin, 'DELETE', '/notification-templates/invitation/en');
    expect(del.statusCode).toBe(200);
    expect((del.json() as { customised: boolean; subject: string }).customised).toBe(false);
    const after = (await api(admin, 'POST', '/notification-templates/preview', { key: 'invitation', language: 'en' })).json() as {
      subject: string;
    };
    expect(after.subject).toContain('Your visit to Acme & Sons');
    const actions = (await t.app.ctx.db.select().from(auditLogs).where(eq(auditLogs.entityType, 'notification_template'))).map(
      (a) => a.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['notification_template.update', 'notification_template.reset']));
  });

  it('refuses an unknown placeholder (422, naming it) and partials', async () => {
    const r = await api(admin, 'PUT', '/notification-templates/guest_code/en', {
      subject: 'Code',
      body: 'Your code {{code}}, see {{guestUrl}}',
    });
    expect(r.statusCode).toBe(422);
    expect(r.body).toContain('guestUrl');
    const partial = await api(admin, 'PUT', '/notification-templates/test/en', { subject: 'x', body: '{{> evil}}' });
    expect(partial.statusCode).toBe(422);
    const pv = await api(admin, 'POST', '/notification-templates/preview', { key: 'test', language: 'en', body: 'hi {{nope}}' });
    expect(pv.statusCode).toBe(422);
    expect(pv.body).toContain('nope');
  });

  it('is what the sender uses', async () => {
    await api(admin, 'PUT', '/notification-templates/test/en', { subject: 'Ping from {{orgName}}', body: 'Custom body.' });
    const r = await api(admin, 'POST', '/notifications/test', { channel: 'email', to: 'custom@example.org', language: 'en' });
    await settled(admin, (r.json() as Item).id);
    const mails = (await api(admin, 'GET', '/mailbox')).json() as { items: Array<{ to: string; subject: string }> };
    expect(mails.items.find((m) => m.to === 'custom@example.org')?.subject).toBe('Ping from Acme & Sons');
  });
});

describe('RBAC', () => {
  it('a Host gets 403 on every notification and settings route', async () => {
    for (const [method, url, payload] of [
      ['GET', '/notifications'],
      ['POST', '/notifications/test', { channel: 'email', to: 'a@b.c' }],
      ['GET', '/mailbox'],
      ['GET', '/notification-templates'],
      ['PUT', '/notification-templates/test/en', { subject: 'x', body: 'y' }],
      ['POST', '/notification-templates/preview', { key: 'test', language: 'en' }],
      ['GET', '/org-settings'],
      ['PATCH', '/org-settings', { guestStaticQr: true }],
    ] as const) {
      const r = await api(host, method, url, payload);
      expect(r.statusCode, `${method} ${url}`).toBe(403);
    }
  });
});

describe('organisation settings', () => {
  it('answers the defaults, validates, and keeps a rule of the org only', async () => {
    const fresh = await createOrgWithUser(t.app, 'Fresh', ['OrgAdmin']);
    const g = (await api(fresh, 'GET', '/org-settings')).json() as Record<string, unknown>;
    expect(g).toMatchObject({ defaultLanguage: 'en', reminderLeadMinutes: 120, guestStaticQr: false, telegramBot: null, logoUrl: null });
    for (const bad of [
      { logoUrl: 'http://insecure.example/logo.png' },
      { brandColor: 'red' },
      { reminderLeadMinutes: 10_081 },
      { defaultLanguage: 'de' },
    ]) {
      const r = await api(fresh, 'PATCH', '/org-settings', bad);
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
    }
    const rule = await api(stranger, 'POST', '/access-rules', { name: 'Theirs', zoneIds: [], weekdays: [], timeWindows: [] });
    const theirs = rule.statusCode === 201 ? (rule.json() as { id: string }).id : '00000000-0000-7000-8000-000000000000';
    expect((await api(fresh, 'PATCH', '/org-settings', { hostInviteRuleId: theirs })).statusCode).toBe(422);
    const ok = await api(fresh, 'PATCH', '/org-settings', {
      logoUrl: 'https://cdn.example.com/logo.png',
      brandColor: '#123abc',
      defaultLanguage: 'ru',
      reminderLeadMinutes: 30,
      guestStaticQr: true,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      logoUrl: 'https://cdn.example.com/logo.png',
      brandColor: '#123abc',
      defaultLanguage: 'ru',
      reminderLeadMinutes: 30,
      guestStaticQr: true,
    });
    // The default language applies to a test message without one.
    const m = await api(fresh, 'POST', '/notifications/test', { channel: 'email', to: 'lang@example.org' });
    await settled(fresh, (m.json() as Item).id);
    const box = (await api(fresh, 'GET', '/mailbox')).json() as { items: Array<{ subject: string }> };
    expect(box.items[0]?.subject).toContain('Проверочное');
    const one = (await api(fresh, 'GET', `/mailbox/${(box.items[0] as unknown as { id: string }).id}`)).json() as { html: string };
    expect(one.html).toContain('https://cdn.example.com/logo.png');
    expect(one.html).toContain('#123abc');
  });

  it('checks a Telegram bot token with getMe, keeps it sealed and never answers it', async () => {
    const bad = await api(admin, 'PATCH', '/org-settings', { telegramBotToken: '999:refused_token_value' });
    expect(bad.statusCode).toBe(422);
    const ok = await api(admin, 'PATCH', '/org-settings', { telegramBotToken: GOOD_TOKEN });
    expect(ok.statusCode, ok.body).toBe(200);
    expect((ok.json() as { telegramBot: unknown }).telegramBot).toEqual({ username: 'acme_visits_bot' });
    const get = await api(admin, 'GET', '/org-settings');
    expect(get.body).not.toContain(GOOD_TOKEN);
    expect(get.body).not.toContain('AAH-good');
    const [row] = await t.app.ctx.db.select().from(orgSettings).where(eq(orgSettings.orgId, admin.orgId));
    expect(row?.telegramBotTokenEnc).toBeTruthy();
    expect(JSON.stringify(row)).not.toContain('AAH-good');
    const audits = await t.app.ctx.db.select().from(auditLogs).where(eq(auditLogs.action, 'org_settings.update'));
    expect(audits.length).toBeGreaterThan(0);
    expect(JSON.stringify(audits)).not.toContain('AAH-good');
    const removed = await api(admin, 'PATCH', '/org-settings', { telegramBotToken: null });
    expect((removed.json() as { telegramBot: unknown }).telegramBot).toBeNull();
  });
});

describe('development mailbox on disk', () => {
  it('writes an .eml and an index entry under <dataDir>/mailbox', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-mailbox-'));
    const disk = await startApp({ dataDir: dir });
    try {
      const a = await createOrgWithUser(disk.app, 'Disk Org', ['OrgAdmin']);
      const r = await disk.app.inject({
        method: 'POST',
        url: '/api/admin/notifications/test',
        headers: a.auth,
        payload: { channel: 'email', to: 'disk@example.org' },
      });
      expect(r.statusCode).toBe(202);
      const box = join(dir, 'mailbox');
      await until(
        () => existsSync(join(box, 'index.jsonl')) && readFileSync(join(box, 'index.jsonl'), 'utf8').endsWith('\n'),
        'mailbox index',
        20_000,
      );
      const files = readdirSync(box);
      const eml = files.find((f) => f.endsWith('.eml'))!;
      expect(eml).toBeTruthy();
      const raw = readFileSync(join(box, eml), 'utf8');
      expect(raw).toMatch(/^Subject: Test message from Disk Org/m);
      expect(raw).toContain('multipart/alternative');
      const index = readFileSync(join(box, 'index.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; orgId: string });
      expect(index[0]?.orgId).toBe(a.orgId);
      const list = (await disk.app.inject({ method: 'GET', url: '/api/admin/mailbox', headers: a.auth })).json() as {
        items: Array<{ id: string; subject: string }>;
      };
      expect(list.items[0]?.id).toBe(index[0]?.id);
      const one = await disk.app.inject({ method: 'GET', url: `/api/admin/mailbox/${index[0]?.id}`, headers: a.auth });
      expect((one.json() as { text: string }).text).toContain('this channel works');
    } finally {
      await disk.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
