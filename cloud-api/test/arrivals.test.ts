/**
 * Arrival (issue 12 item 6), driven through real ingestion: an enrolled
 * device publishes its event batches on the broker as a controller does, or
 * (for the cases that need exact control) the ingestion function the link
 * calls. The host's message is looked for in the message log and in the
 * development mailbox (the e-mail channel without SMTP_URL); the time from the
 * scan's publication to the mail in the mailbox is measured and printed.
 */
import type { AddressInfo } from 'node:net';
import { type CheckinEvent, KeyRing, openMessage, topics, uuidv7 } from '@gatehouse/protocol';
import { and, eq } from 'drizzle-orm';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hostPreferences, notifications, orgSettings, users, visitPasses } from '../src/db/schema.js';
import { formatTime } from '../src/lib/i18n.js';
import { ingestCheckins } from '../src/modules/checkins/ingest.js';
import { eventForViewer } from '../src/modules/checkins/service.js';
import { chatIdAad } from '../src/modules/host/preferences.js';
import { payloadAad, recipientAad } from '../src/modules/notifications/outbox.js';
import { telegramTokenAad } from '../src/modules/orgs/settings.js';
import {
  addUser,
  createOrgWithUser,
  issuePass,
  type Login,
  onPostgres,
  seedTopology,
  startApp,
  type TestApp,
  testConfig,
  until,
} from './helpers.js';
import { type BotApiStandIn, startBotApi } from './stand-ins/telegram-bot-api.js';

interface Enrolled {
  deviceId: string;
  orgId: string;
  orgPublicKey: string;
  mqtt: { url: string; username: string; password: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`arrival notice to the host (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  let t: TestApp;
  let admin: Login;
  let host: Login;
  let operator: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let device: Enrolled;
  let client: MqttClient;
  let wsUrl: string;
  let bot: BotApiStandIn;
  const acks: { batchId?: string }[] = [];
  let n = 0;

  const post = async <T = { id: string }>(url: string, payload: object, as: Login = admin): Promise<T> => {
    const r = await t.app.inject({ method: 'POST', url, headers: as.auth, payload });
    if (r.statusCode !== 201 && r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return r.json() as T;
  };

  /** A visitor on an appointment of `hostId` (default: the host), with a pass of that appointment. */
  const visit = async (hostId = host.hostId!) => {
    const fullName = `Guest ${++n} Ivanova`;
    const visitor = await post('/api/admin/visitors', { fullName, company: 'Northwind' });
    const now = Date.now();
    const appt = await post('/api/admin/appointments', {
      hostId,
      visitorIds: [visitor.id],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
    });
    const pass = await post('/api/admin/passes', {
      visitorId: visitor.id,
      accessRuleId: topo.rule.id,
      appointmentId: appt.id,
      type: 'multi',
      validFrom: new Date(now - 60_000).toISOString(),
      validTo: new Date(now + 3_600_000).toISOString(),
    });
    return { passId: pass.id, appointmentId: appt.id, visitorName: fullName };
  };

  const event = (passId: string | null, o: Partial<CheckinEvent> = {}): CheckinEvent => ({
    id: uuidv7(),
    type: 'attempt',
    gateId: topo.gate.id,
    passId,
    credentialKind: 'dynamic',
    direction: 'in',
    allow: true,
    reason: 'ok',
    occurredAt: Date.now(),
    ...o,
  });

  /** The ingestion function the MQTT link calls, for the gate of the enrolled device. */
  const ingest = (events: CheckinEvent[]) =>
    ingestCheckins(t.app.ctx, { orgId: admin.orgId, siteId: String(topo.site.id), deviceId: device.deviceId }, events);

  /** Publishes a batch as the device would; resolves when its signed ack (the cloud stored it) is back. */
  const publish = async (events: CheckinEvent[], batchId = uuidv7()) => {
    await client.publishAsync(topics.events(device.deviceId), JSON.stringify({ v: 1, deviceId: device.deviceId, batchId, events }), {
      qos: 1,
    });
    return batchId;
  };
  const acked = (batchId: string) => until(() => acks.find((a) => a.batchId === batchId), `the ack of ${batchId}`);

  const arrivalMessages = (passId: string) =>
    t.app.ctx.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.passId, passId), eq(notifications.template, 'arrival')));
  const journey = async (passId: string) => {
    const [p] = await t.app.ctx.db
      .select({ arrivedAt: visitPasses.arrivedAt, leftAt: visitPasses.leftAt })
      .from(visitPasses)
      .where(eq(visitPasses.id, passId));
    return p!;
  };
  const mailbox = async (to: string) => {
    const r = await t.app.inject({ method: 'GET', url: '/api/admin/mailbox', headers: admin.auth });
    if (r.statusCode !== 200) throw new Error(`mailbox: ${r.statusCode} ${r.body}`);
    return (r.json() as { items: { id: string; to: string; subject: string }[] }).items.filter((m) => m.to.includes(to));
  };

  beforeAll(async () => {
    bot = await startBotApi();
    const base = testConfig();
    t = await startApp(
      {
        mqttPort: 0,
        ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}),
        notify: { ...base.notify, telegramApiUrl: bot.url },
      },
      { sync: true },
    );
    admin = await createOrgWithUser(t.app, `arrivals-${Date.now()}`, ['OrgAdmin']);
    // The organisation's bot (the stand-in's token): a host's linked chat is a recipient only with one.
    await t.app.ctx.db.insert(orgSettings).values({
      orgId: admin.orgId,
      telegramBotTokenEnc: t.app.ctx.sealer.seal(bot.token, telegramTokenAad(admin.orgId)),
      telegramBotUsername: bot.username,
    });
    host = await addUser(t.app, admin.orgId, ['Host']);
    operator = await addUser(t.app, admin.orgId, ['Operator']);
    topo = await seedTopology(t.app, admin, { timezone: 'Asia/Vladivostok' });
    const code = await post<{ code: string }>(`/api/admin/gates/${topo.gate.id}/enrollment`, {});
    const r = await t.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: code.code } });
    if (r.statusCode !== 200) throw new Error(`enroll: ${r.statusCode} ${r.body}`);
    device = r.json() as Enrolled;
    const url = process.env.MQTT_URL ? `mqtt://${new URL(process.env.MQTT_URL).host}` : device.mqtt.url;
    client = await mqtt.connectAsync(url, {
      username: device.mqtt.username,
      password: device.mqtt.password,
      clientId: device.deviceId,
      reconnectPeriod: 0,
    });
    await client.subscribeAsync(topics.ack(device.deviceId), { qos: 1 });
    client.on('message', (_topic, payload) => {
      const o = openMessage(payload, new KeyRing([device.orgPublicKey]), { orgId: device.orgId, deviceId: device.deviceId });
      if (o.ok) acks.push(o.message as { batchId?: string });
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    wsUrl = `ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/admin/live`;
  });

  afterAll(async () => {
    await client?.endAsync();
    await t?.close();
    await bot?.close();
  });

  it('tells the host once of the first admitted entry, within 5 s of the scan, even when the batch is delivered twice', async () => {
    const v = await visit();
    const scan = event(v.passId);
    const t0 = performance.now();
    // The same batch twice (QoS 1 redelivery, or an edge that missed the ack).
    const batchId = uuidv7();
    await publish([scan], batchId);
    await publish([scan], batchId);
    const mails = await until(async () => {
      const m = await mailbox(host.email);
      return m.length ? m : null;
    }, 'the arrival e-mail in the mailbox');
    const ms = performance.now() - t0;
    console.log(`arrival: scan published → host's e-mail in the mailbox in ${ms.toFixed(0)} ms (${onPostgres ? 'PostgreSQL' : 'PGlite'})`);
    expect(ms).toBeLessThan(5000);
    expect(mails[0]!.subject).toContain(v.visitorName);
    await acked(batchId);
    await sleep(700); // any second message would be queued by now
    expect(await arrivalMessages(v.passId)).toHaveLength(1);
    expect(await mailbox(host.email)).toHaveLength(1);
    expect((await journey(v.passId)).arrivedAt?.getTime()).toBe(scan.occurredAt);
  });

  it('claims an arrival once when two instances ingest the same check-in at the same moment', async () => {
    const v = await visit();
    const scan = event(v.passId);
    const [a, b] = await Promise.all([ingest([scan]), ingest([scan])]);
    expect(a.journeyError ?? b.journeyError).toBeNull();
    expect(a.journey.arrivals.length + b.journey.arrivals.length).toBe(1);
    expect(await arrivalMessages(v.passId)).toHaveLength(1);
  });

  it('carries an arrival through when a stored but unfinished batch comes again', async () => {
    const v = await visit();
    const scan = event(v.passId);
    // Stored as an instance that stopped before the journey step would have left it.
    const { storeCheckins } = await import('../src/modules/checkins/service.js');
    await storeCheckins(t.app.ctx.db, { orgId: admin.orgId, siteId: String(topo.site.id), deviceId: device.deviceId }, [scan]);
    expect(await arrivalMessages(v.passId)).toHaveLength(0);
    const again = await ingest([scan]);
    expect(again.fresh).toHaveLength(0);
    expect(again.journey.arrivals.map((x) => x.passId)).toEqual([v.passId]);
    expect(await arrivalMessages(v.passId)).toHaveLength(1);
  });

  it('two admitted entries of one pass in one batch: one message, arrived at the first; another pass in the batch: its own', async () => {
    const v = await visit();
    const w = await visit();
    const first = event(v.passId, { occurredAt: Date.now() - 2000 });
    const second = event(v.passId, { occurredAt: Date.now() - 1000, gateId: topo.serverGate.id });
    const other = event(w.passId);
    const r = await ingest([second, other, first]);
    expect(r.journeyError).toBeNull();
    expect(r.journey.arrivals.map((a) => a.passId).sort()).toEqual([v.passId, w.passId].sort());
    expect(await arrivalMessages(v.passId)).toHaveLength(1);
    expect(await arrivalMessages(w.passId)).toHaveLength(1);
    expect((await journey(v.passId)).arrivedAt?.getTime()).toBe(first.occurredAt);
  });

  it('no message for a denied check-in, a pass without an appointment, or a second entry', async () => {
    const v = await visit();
    const denied = await ingest([event(v.passId, { allow: false, reason: 'outside_schedule' })]);
    expect(denied.journey.arrivals).toHaveLength(0);
    expect(await arrivalMessages(v.passId)).toHaveLength(0);
    expect((await journey(v.passId)).arrivedAt).toBeNull();

    const lone = await issuePass(t.app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    const noAppt = await ingest([event(lone.id)]);
    expect(noAppt.journey.arrivals).toHaveLength(0);
    expect(await arrivalMessages(lone.id)).toHaveLength(0);
    expect((await journey(lone.id)).arrivedAt).toBeNull();

    await ingest([event(v.passId, { occurredAt: Date.now() - 5000 })]);
    expect(await arrivalMessages(v.passId)).toHaveLength(1);
    const second = await ingest([event(v.passId)]);
    expect(second.journey.arrivals).toHaveLength(0);
    expect(await arrivalMessages(v.passId)).toHaveLength(1);
  });

  it('an admitted exit after arrival sets left_at (no message); coming back clears it, still no message', async () => {
    const v = await visit();
    const base = Date.now() - 60_000;
    // An exit before any arrival changes nothing.
    await ingest([event(v.passId, { direction: 'out', occurredAt: base })]);
    expect(await journey(v.passId)).toEqual({ arrivedAt: null, leftAt: null });

    await ingest([event(v.passId, { occurredAt: base + 1000 })]);
    const denied = event(v.passId, { direction: 'out', occurredAt: base + 2000, allow: false, reason: 'passback' });
    await ingest([denied]);
    expect((await journey(v.passId)).leftAt).toBeNull();
    const out = event(v.passId, { direction: 'out', occurredAt: base + 3000 });
    const r = await ingest([out]);
    expect(r.journey.moved).toEqual([v.passId]);
    expect(await journey(v.passId)).toEqual({ arrivedAt: new Date(base + 1000), leftAt: new Date(base + 3000) });
    // Back in, and out again, in one batch: the latest move wins.
    await ingest([event(v.passId, { occurredAt: base + 4000 })]);
    expect((await journey(v.passId)).leftAt).toBeNull();
    await ingest([event(v.passId, { direction: 'out', occurredAt: base + 6000 }), event(v.passId, { occurredAt: base + 5000 })]);
    expect((await journey(v.passId)).leftAt).toEqual(new Date(base + 6000));
    // An exit older than the one recorded does not move it back.
    await ingest([event(v.passId, { direction: 'out', occurredAt: base + 5500 })]);
    expect((await journey(v.passId)).leftAt).toEqual(new Date(base + 6000));
    expect(await arrivalMessages(v.passId)).toHaveLength(1);
  });

  it('a host who chose Telegram but never linked a chat hears by e-mail only, in their language and the site’s clock', async () => {
    const other = await addUser(t.app, admin.orgId, ['Host']);
    await t.app.ctx.db.update(users).set({ language: 'ru' }).where(eq(users.id, other.userId));
    await t.app.ctx.db.insert(hostPreferences).values({ userId: other.userId, orgId: admin.orgId, channels: ['email', 'telegram'] });
    const v = await visit(other.hostId!);
    const scan = event(v.passId);
    const r = await ingest([scan]);
    expect(r.journeyError).toBeNull();
    const rows = await arrivalMessages(v.passId);
    expect(rows.map((m) => [m.channel, m.language, m.userId])).toEqual([['email', 'ru', other.userId]]);
    const payload = JSON.parse(t.app.ctx.sealer.open(rows[0]!.payloadEnc, payloadAad(rows[0]!.id))) as { vars: Record<string, string> };
    expect(payload.vars).toEqual({
      visitorName: v.visitorName,
      gateName: 'Turnstile 1',
      siteName: 'HQ',
      when: formatTime(new Date(scan.occurredAt), 'ru', 'Asia/Vladivostok'),
    });
  });

  it('a host with a linked Telegram chat is told on both channels they chose; the chat hears within 5 s of the scan', async () => {
    const other = await addUser(t.app, admin.orgId, ['Host']);
    const { sealer } = t.app.ctx;
    await t.app.ctx.db.insert(hostPreferences).values({
      userId: other.userId,
      orgId: admin.orgId,
      channels: ['email', 'telegram'],
      telegramChatIdEnc: sealer.seal('4242', chatIdAad(other.userId)),
    });
    const v = await visit(other.hostId!);
    const before = bot.sent.length;
    const t0 = performance.now();
    await acked(await publish([event(v.passId)]));
    const [said] = (await bot.waitForSent(before + 1, 5000)).slice(before);
    const ms = performance.now() - t0;
    console.log(`arrival: scan published → host's Telegram message at the Bot API stand-in in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(5000);
    expect(String(said!.chat_id)).toBe('4242');
    expect(said!.text).toContain(v.visitorName);
    expect(said!.text).toContain('Turnstile 1');
    const rows = await arrivalMessages(v.passId);
    expect(rows.map((m) => m.channel).sort()).toEqual(['email', 'telegram']);
    expect(rows.map((m) => sealer.open(m.recipientEnc, recipientAad(m.id))).sort()).toEqual(['4242', other.email]);
  });

  it('the check-in list and the live feed name the visitor and the host', async () => {
    const v = await visit();
    const ws = new WebSocket(wsUrl);
    const got: { type: string; data?: Record<string, unknown> }[] = [];
    ws.on('message', (m) => got.push(JSON.parse(m.toString())));
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ type: 'auth', token: operator.accessToken }));
    await until(() => got.some((m) => m.type === 'ready'), 'the live feed');
    try {
      const scan = event(v.passId);
      const stranger = event(null, { allow: false, reason: 'unknown', credentialKind: 'card' });
      await acked(await publish([scan, stranger]));
      const live = await until(() => got.find((m) => m.type === 'checkin.created' && m.data?.id === scan.id), 'the live event');
      expect(live.data).toMatchObject({ id: scan.id, passId: v.passId, visitorName: v.visitorName, hostName: 'Test Host' });
      const liveStranger = await until(() => got.find((m) => m.type === 'checkin.created' && m.data?.id === stranger.id), 'the other');
      expect(liveStranger.data).toMatchObject({ visitorName: null, hostName: null });

      const r = await t.app.inject({ method: 'GET', url: `/api/admin/checkins?siteId=${topo.site.id}&limit=500`, headers: operator.auth });
      expect(r.statusCode).toBe(200);
      const items = (r.json() as { items: Record<string, unknown>[] }).items;
      expect(items.find((i) => i.id === scan.id)).toMatchObject({ visitorName: v.visitorName, hostName: 'Test Host', direction: 'in' });
      expect(items.find((i) => i.id === stranger.id)).toMatchObject({ passId: null, visitorName: null, hostName: null });
      // A pass without an appointment has a visitor but no host.
      const lone = await issuePass(t.app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
      const loneScan = event(lone.id);
      await ingest([loneScan]);
      const r2 = await t.app.inject({ method: 'GET', url: `/api/admin/checkins?passId=${lone.id}`, headers: operator.auth });
      expect((r2.json() as { items: unknown[] }).items).toEqual([
        expect.objectContaining({ id: loneScan.id, visitorName: 'Ivan Petrov', hostName: null }),
      ]);
    } finally {
      ws.terminate();
    }
  });

  it('a viewer without visitors:read or hosts:read gets the event without those names', () => {
    const e = { type: 'checkin.created' as const, data: { id: 'x', visitorName: 'A', hostName: 'B' } };
    expect(eventForViewer(e, { visitors: false, hosts: true }).data).toEqual({ id: 'x', visitorName: null, hostName: 'B' });
    expect(eventForViewer(e, { visitors: true, hosts: false }).data).toEqual({ id: 'x', visitorName: 'A', hostName: null });
    expect(eventForViewer(e, { visitors: true, hosts: true })).toBe(e);
  });
});
