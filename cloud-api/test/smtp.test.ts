/**
 * E-mail through a real SMTP server (stand-ins/smtp.ts: `smtp-server`, with
 * authentication), parsed with `mailparser` as a mail client would: the test
 * message in the chosen language with the branded HTML; an invitation whose
 * .ics survives as text/calendar; a server that refuses (451) makes the
 * message fail, retry and go dead, and an admin's retry sends it once the
 * server is fixed. Runs on PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notify } from '../src/modules/notifications/outbox.js';
import { createOrgWithUser, type Login, startApp, type TestApp, testConfig, until } from './helpers.js';
import { type SmtpStandIn, startSmtpServer } from './stand-ins/smtp.js';

interface Item {
  id: string;
  status: string;
  attempts: number;
  error?: string;
}

let smtp: SmtpStandIn;
let t: TestApp;
let admin: Login;

beforeAll(async () => {
  // Authentication required: the cloud must log in with SMTP_URL's credentials.
  smtp = await startSmtpServer({ auth: { user: 'gatehouse', pass: 's3cret' } });
  const base = testConfig();
  t = await startApp({
    notify: { ...base.notify, smtpUrl: smtp.url, mailFrom: 'Acme Visits <visits@acme.test>' },
    jobs: { ...base.jobs, retryLimit: 2, retryDelayS: 1 },
  });
  admin = await createOrgWithUser(t.app, 'Acme', ['OrgAdmin']);
}, 180_000);

afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
  t.app.inject({ method, url: `/api/admin${url}`, headers: admin.auth, ...(payload ? { payload } : {}) });

async function item(id: string): Promise<Item | undefined> {
  const r = await api('GET', '/notifications?limit=500');
  return (r.json() as { items: Item[] }).items.find((i) => i.id === id);
}

const mailTo = (to: string) => until(() => smtp.mailTo(to), `mail to ${to}`, 20_000);

describe('SMTP delivery', () => {
  it('delivers the test message in the chosen language with the branded HTML', async () => {
    await api('PATCH', '/org-settings', { brandColor: '#0a7f3f' });
    const r = await api('POST', '/notifications/test', { channel: 'email', to: 'olga@example.org', language: 'ru' });
    expect(r.statusCode, r.body).toBe(202);
    const mail = await mailTo('olga@example.org');
    expect(mail.subject).toBe('Проверочное сообщение от Acme');
    expect(mail.from?.text).toContain('visits@acme.test');
    expect(mail.text).toContain('канал работает');
    expect(mail.html).toContain('#0a7f3f');
    expect(mail.html).toContain('Acme');
    const id = (r.json() as Item).id;
    const sent = await until(async () => {
      const i = await item(id);
      return i?.status === 'sent' ? i : undefined;
    }, 'sent');
    expect(sent.attempts).toBe(1);
    // With SMTP configured there is no development mailbox.
    const box = await api('GET', '/mailbox');
    expect(box.statusCode).toBe(404);
    expect(box.body).toContain('SMTP_URL');
  });

  it('carries an invitation’s .ics as text/calendar; method=REQUEST', async () => {
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'METHOD:REQUEST',
      'BEGIN:VEVENT',
      'UID:visit-1@gatehouse',
      'SUMMARY:Visit',
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    await t.app.ctx.db.transaction((tx) =>
      notify(t.app.ctx, tx, {
        orgId: admin.orgId,
        channel: 'email',
        to: 'ivan@example.org',
        template: 'invitation',
        language: 'en',
        vars: {
          visitorName: 'Ivan Petrov',
          hostName: 'Olga',
          when: 'Monday, 7 December 2026, 10:00',
          until: '11:00',
          siteName: 'HQ',
          siteAddress: '',
          room: '301',
          guestUrl: 'http://localhost:3000/guest#token=abc',
        },
        attachments: [{ filename: 'invite.ics', contentType: 'text/calendar', content: ics }],
      }),
    );
    const mail = await mailTo('ivan@example.org');
    expect(mail.subject).toBe('Your visit to Acme on Monday, 7 December 2026, 10:00');
    expect(mail.text).toContain('Room: 301');
    expect(mail.text).not.toContain('HQ,');
    expect(mail.html).toContain('href="http://localhost:3000/guest#token=abc"');
    const cal = mail.attachments.find((a) => a.contentType === 'text/calendar');
    expect(cal, JSON.stringify(mail.attachments.map((a) => [a.filename, a.contentType]))).toBeTruthy();
    expect(cal!.content.toString('utf8')).toContain('UID:visit-1@gatehouse');
    const ct = (cal!.headers.get('content-type') ?? {}) as { params?: Record<string, string> };
    expect(ct.params?.method?.toUpperCase()).toBe('REQUEST');
  });

  it('a refusing server: failed, retried, dead; an admin’s retry sends it once the server is fixed', async () => {
    smtp.refuse = true;
    const r = await api('POST', '/notifications/test', { channel: 'email', to: 'later@example.org', language: 'en' });
    const id = (r.json() as Item).id;
    const failed = await until(async () => {
      const i = await item(id);
      return i?.status === 'failed' ? i : undefined;
    }, 'failed');
    expect(failed.attempts).toBeGreaterThanOrEqual(1);
    expect(failed.error).toContain('451');
    expect(failed.error).not.toContain('later@');
    const dead = await until(
      async () => {
        const i = await item(id);
        return i?.status === 'dead' ? i : undefined;
      },
      'dead',
      25_000,
    );
    // The first attempt and both retries.
    expect(dead.attempts).toBe(3);
    expect(smtp.mailTo('later@example.org')).toBeUndefined();

    smtp.refuse = false;
    const retry = await api('POST', `/notifications/${id}/retry`);
    expect(retry.statusCode, retry.body).toBe(200);
    const mail = await mailTo('later@example.org');
    expect(mail.subject).toBe('Test message from Acme');
    const sent = await until(async () => {
      const i = await item(id);
      return i?.status === 'sent' ? i : undefined;
    }, 'sent');
    expect(sent.attempts).toBe(4);
  });
});
