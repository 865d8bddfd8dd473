/**
 * The visitor's journey end to end (issue 12, "done when"), with nothing
 * stubbed: a real SMTP server started here receives what the cloud sends and
 * the test reads it as a visitor would. An appointment with `invite: true`
 * mails the visitor an invitation (guest link + .ics); the link alone shows
 * the visit but no credential; the code mailed on request signs the visitor
 * in; the rotating QR the guest page then gets is admitted by an enrolled
 * controller; and the host's arrival notice reaches the SMTP server within
 * 5 s of the scan. Runs on PostgreSQL + Mosquitto (DATABASE_URL, MQTT_URL)
 * and on the embedded defaults.
 */
import { addUser, createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import { type SmtpStandIn, startSmtpServer } from '@gatehouse/cloud-api/testing/smtp';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from './harness.js';

describe(`the visitor's journey through a real SMTP server (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let t: TestApp;
  let base: string;
  let admin: Login;
  let host: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let daemon: Daemon;
  let smtp: SmtpStandIn;
  const dir = tempDir('gh-journey-');
  const visitorEmail = `anna-${Date.now()}@visitor.example`;
  let guestToken = '';
  let passId = '';
  let payload = '';

  const api = async (method: 'GET' | 'POST' | 'PATCH', url: string, body?: object, auth = admin.auth) => {
    const r = await t.app.inject({ method, url, headers: auth, ...(body ? { payload: body } : {}) });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as Record<string, unknown>;
  };
  const mailTo = (address: string, subject: RegExp) =>
    until(
      () => smtp.received.find((m) => m.to.includes(address.toLowerCase()) && subject.test(m.mail.subject ?? '')),
      `mail to ${address} ${subject}`,
      15_000,
    );

  beforeAll(async () => {
    smtp = await startSmtpServer({ auth: { user: 'gatehouse', pass: 'secret' } });
    // SMTP_URL as an operator sets it; PUBLIC_URL is where the guest links point.
    const httpPort = await freePort();
    t = await startApp(
      {
        publicUrl: `http://127.0.0.1:${httpPort}`,
        notify: {
          smtpUrl: smtp.url,
          mailFrom: 'Gatehouse <gate@example.test>',
          telegramApiUrl: 'http://127.0.0.1:9',
          smsUrl: null,
          smsToken: null,
          vapidSubject: 'mailto:gate@example.test',
          timeoutMs: 10_000,
        },
        mqttPort: 0,
        ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}),
        jobs: { retryLimit: 2, retryDelayS: 1, pollIntervalS: 0.5, work: true },
      },
      { sync: true },
    );
    base = await t.app.listen({ port: httpPort, host: '127.0.0.1' });
    admin = await createOrgWithUser(t.app, `journey-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin, { timezone: 'Europe/Paris' });
    host = await addUser(t.app, admin.orgId, ['Host']);
    daemon = (await enrolledEdge(t.app, base, admin, topo.gate.id, dir.dir)).daemon;
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    await t?.close();
    await smtp?.close();
    dir.cleanup();
  });

  it('an appointment with invite: true mails the visitor an invitation with the guest link and a calendar entry', async () => {
    const visitor = await api('POST', '/api/admin/visitors', { fullName: 'Anna Visitor', email: visitorEmail });
    const startsAt = new Date(Date.now() + 10 * 60_000);
    const appt = await api('POST', '/api/admin/appointments', {
      hostId: host.hostId,
      visitorIds: [visitor.id],
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 3600_000).toISOString(),
      room: 'Room 42',
      siteId: topo.site.id,
      accessRuleId: topo.rule.id,
      invite: true,
    });
    const { mail } = await mailTo(visitorEmail, /./);
    const text = mail.text ?? '';
    expect(text).toContain('Room 42');
    const link = /https?:\/\/\S+\/guest#token=([A-Za-z0-9._-]+)/.exec(text);
    expect(link, text).not.toBeNull();
    guestToken = link?.[1] ?? '';
    const ics = mail.attachments.find((a) => /calendar/.test(a.contentType) || a.filename?.endsWith('.ics'));
    expect(ics).toBeDefined();
    const cal = ics?.content.toString('utf8') ?? '';
    expect(cal).toContain('BEGIN:VEVENT');
    expect(cal).toMatch(/METHOD:REQUEST/);
    const passes = (await api('GET', `/api/admin/passes?limit=50`)) as { items: Array<{ id: string; appointmentId: string | null }> };
    passId = passes.items.find((p) => p.appointmentId === appt.id)?.id ?? '';
    expect(passId).not.toBe('');
  });

  it('the link alone shows the visit but no credential; the mailed code signs the visitor in and yields the rotating QR', async () => {
    const anon = await t.app.inject({ method: 'GET', url: '/api/guest/pass', headers: { authorization: `Bearer ${guestToken}` } });
    expect(anon.statusCode).toBe(200);
    expect(anon.json()).toMatchObject({ payload: null, totpSecret: null, staticPayload: null });

    const sent = await t.app.inject({ method: 'POST', url: '/api/guest/auth', payload: { token: guestToken } });
    expect(sent.statusCode, sent.body).toBeLessThan(300);
    expect((sent.json() as { sentTo: string }).sentTo).not.toContain(visitorEmail);
    const codeMail = await until(
      () => smtp.received.find((m) => m.to.includes(visitorEmail.toLowerCase()) && /\b\d{6}\b/.test(m.mail.text ?? '')),
      'the code mail',
      15_000,
    );
    const code = /\b(\d{6})\b/.exec(codeMail.mail.text ?? '')?.[1] ?? '';
    const verified = await t.app.inject({ method: 'POST', url: '/api/guest/auth/verify', payload: { token: guestToken, code } });
    expect(verified.statusCode, verified.body).toBe(200);
    const { guestSession } = verified.json() as { guestSession: string };
    const pass = await t.app.inject({ method: 'GET', url: '/api/guest/pass', headers: { authorization: `Bearer ${guestSession}` } });
    expect(pass.statusCode).toBe(200);
    payload = (pass.json() as { payload: string | null }).payload ?? '';
    expect(payload).not.toBe('');
  });

  it('the enrolled controller admits that QR, and the host is told by e-mail within 5 s of the scan', async () => {
    await until(() => daemon.store.findByPassId(passId).pass, 'the pass at the edge', 15_000);
    const scannedAt = Date.now();
    const { event } = daemon.gate.handle({ reader: 'sim', direction: 'in', data: payload, receivedAt: performance.now() });
    expect(event).toMatchObject({ allow: true, reason: 'ok', passId });
    const arrival = await mailTo(host.email, /./);
    const elapsed = arrival.at - scannedAt;
    console.log(`arrival notice: scan → host's mailbox in ${elapsed} ms`);
    expect(elapsed).toBeLessThan(5_000);
    expect(arrival.mail.text ?? '').toContain('Anna Visitor');
    const checkins = (await api('GET', `/api/admin/checkins?passId=${passId}`)) as { items: Array<{ hostName?: string | null }> };
    expect(checkins.items[0]?.hostName).toBeTruthy();
  });
});
