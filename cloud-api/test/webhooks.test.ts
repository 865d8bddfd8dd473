/**
 * Webhooks end to end: endpoints under /api/devconsole, every event raised by
 * its real cause, deliveries signed per the Standard Webhooks specification
 * (a receiver started here verifies EVERY request with the `standardwebhooks`
 * package), retries, dead deliveries and redelivery, the test event, the SSRF
 * guard at creation and at send time, disabling a failing endpoint (its
 * owner told by e-mail, audited), another organisation seeing none of it, and
 * no secret in the log.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { type CheckinEvent, topics, uuidv7 } from '@gatehouse/protocol';
import { and, eq, sql } from 'drizzle-orm';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/app.js';
import { alarms, apiApplications, auditLogs, webhookDeliveries, webhookEndpoints } from '../src/db/schema.js';
import { Sealer } from '../src/lib/crypto.js';
import { ingestCheckins } from '../src/modules/checkins/ingest.js';
import { rotateKeys } from '../src/modules/orgs/personal-data.js';
import { emitEvent, FANOUT_QUEUE, fanOut } from '../src/modules/webhooks/emit.js';
import { EVENT_TYPES } from '../src/modules/webhooks/events.js';
import { secretAad } from '../src/modules/webhooks/secret.js';
import { webhookStats } from '../src/modules/webhooks/service.js';
import { useResolver } from '../src/modules/webhooks/url-guard.js';
import {
  addUser,
  createOrgWithUser,
  freshDatabase,
  issuePass,
  type Login,
  seedTopology,
  startApp,
  type TestApp,
  type TestDb,
  testConfig,
  until,
} from './helpers.js';
import { type ReceivedHook, startWebhookReceiver, type WebhookReceiver } from './stand-ins/webhook-receiver.js';

interface Delivery {
  id: string;
  webhookId: string;
  event: string;
  status: string;
  attempts: number;
  responseCode: number | null;
  durationMs: number | null;
  error: string | null;
  deliveredAt: string | null;
}

/** The receiver: each path answers as its mode says; every request is verified with the secret of its path. */
let receiver: WebhookReceiver;
let received: ReceivedHook[];
let secrets: Map<string, string>;
let base: string;
const modes = new Map<string, 'ok' | 'fail' | 'flaky'>();

let app: App;
let db: TestDb;
const logLines: string[] = [];
let admin: Login;
let stranger: Login;
let topo: Awaited<ReturnType<typeof seedTopology>>;
let appId: string;

const api = (who: Login, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  app.inject({ method, url: `/api/devconsole${url}`, headers: who.auth, ...(payload ? { payload } : {}) });

/** An application row as the keys work makes them (its routes are another helper's). */
async function newApp(a: App, orgId: string, createdBy: string | null): Promise<string> {
  const id = uuidv7();
  await a.ctx.db.insert(apiApplications).values({ id, orgId, name: `Front desk CRM ${id.slice(-4)}`, createdBy, updatedBy: createdBy });
  return id;
}

/** Creates an endpoint on the receiver at `path` (mode `mode`) and remembers its secret for verification. */
async function endpoint(path: string, mode: 'ok' | 'fail' | 'flaky', events: string[] = [...EVENT_TYPES], who = admin, forApp = appId) {
  modes.set(path, mode);
  const r = await api(who, 'POST', `/apps/${forApp}/webhooks`, { url: `${base}${path}`, events, description: `receiver ${path}` });
  expect(r.statusCode, r.body).toBe(201);
  const body = r.json() as { id: string; secret: string; status: string; events: string[] };
  expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  secrets.set(path, body.secret);
  return body;
}

const deliveries = async (webhook: string, who = admin) => {
  const r = await api(who, 'GET', `/webhooks/${webhook}/deliveries?limit=100`);
  expect(r.statusCode, r.body).toBe(200);
  return (r.json() as { items: Delivery[] }).items;
};
const delivery = async (webhook: string, id: string) => (await deliveries(webhook)).find((d) => d.id === id);
const waitStatus = (webhook: string, id: string, status: string, ms = 30_000) =>
  until(
    async () => {
      const d = await delivery(webhook, id);
      return d?.status === status ? d : null;
    },
    `delivery ${id} ${status}`,
    ms,
  );

const forPath = (path: string) => received.filter((r) => r.path === path);

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  ({ received, secrets } = receiver);
  base = receiver.url('');
  receiver.answer = (path, earlier) => {
    const mode = modes.get(path) ?? 'fail';
    return mode === 'ok' || (mode === 'flaky' && earlier >= 2) ? 200 : 500;
  };

  db = await freshDatabase();
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  app = await buildApp(testConfig({ logLevel: 'info' }), { database: db.database, migrate: false, logStream });
  await app.ready();
  admin = await createOrgWithUser(app, 'Webhook Org', ['OrgAdmin']);
  stranger = await createOrgWithUser(app, 'Other Org', ['OrgAdmin']);
  topo = await seedTopology(app, admin);
  appId = await newApp(app, admin.orgId, admin.userId);
}, 180_000);

afterAll(async () => {
  await app?.close();
  await db?.drop();
  await receiver?.close();
});

describe('webhook delivery', () => {
  it('retries a failing receiver and delivers on the third attempt, signed every time; the log lists it with its response code', async () => {
    const ep = await endpoint('/flaky', 'flaky', ['visitpass.issued']);
    const pass = await issuePass(app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    // The issuing request enqueued the event; its fan-out writes the endpoint's delivery a moment later.
    const row = await until(
      async () => (await app.ctx.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.id)))[0],
      'the delivery',
    );
    const done = await waitStatus(ep.id, row.id, 'delivered');
    expect(done).toMatchObject({ event: 'visitpass.issued', attempts: 3, responseCode: 200, error: null });
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    expect(done.webhookId).toBe(`msg_${row.id.replaceAll('-', '')}`);
    const got = forPath('/flaky').filter((r) => r.headers['webhook-id'] === done.webhookId);
    expect(got.map((r) => r.answered)).toEqual([500, 500, 200]);
    for (const r of got) {
      expect(r.verified.ok, JSON.stringify(r.verified)).toBe(true);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const last = got[2]!.verified;
    if (!last.ok) throw new Error(last.error);
    const payload = last.payload;
    expect(payload).toMatchObject({ type: 'visitpass.issued', data: { id: pass.id, visitorId: topo.visitor.id, status: 'active' } });
    // The detail adds the body sent.
    const detail = await api(admin, 'GET', `/webhooks/${ep.id}/deliveries/${row.id}`);
    expect(detail.json()).toMatchObject({ id: row.id, status: 'delivered', payload: { type: 'visitpass.issued', data: { id: pass.id } } });
    // A status filter.
    const failed = await api(admin, 'GET', `/webhooks/${ep.id}/deliveries?status=dead`);
    expect((failed.json() as { items: unknown[] }).items).toEqual([]);
  }, 60_000);

  it('a delivery the receiver always refuses goes dead; redelivered from the API, it arrives with the same webhook-id', async () => {
    const stats = await webhookStats(app.ctx.db, appId, 1);
    const ep = await endpoint('/dead', 'fail', ['appointment.created']);
    const sent = await api(admin, 'POST', `/webhooks/${ep.id}/test`);
    expect(sent.statusCode, sent.body).toBe(202);
    const { deliveryId } = sent.json() as { deliveryId: string };
    const dead = await waitStatus(ep.id, deliveryId, 'dead');
    expect(dead).toMatchObject({ event: 'webhook.test', attempts: 3, responseCode: 500, error: 'HTTP 500', deliveredAt: null });
    const tests = forPath('/dead');
    expect(tests).toHaveLength(3);
    for (const r of tests) expect(r.verified).toMatchObject({ ok: true, payload: { type: 'webhook.test', data: { webhookId: ep.id } } });

    modes.set('/dead', 'ok');
    const again = await api(admin, 'POST', `/webhooks/${ep.id}/deliveries/${deliveryId}/redeliver`);
    expect(again.statusCode, again.body).toBe(202);
    expect(again.json()).toMatchObject({ id: deliveryId, status: 'pending', attempts: 3 });
    const delivered = await waitStatus(ep.id, deliveryId, 'delivered');
    expect(delivered).toMatchObject({ attempts: 4, responseCode: 200, error: null });
    const last = forPath('/dead').at(-1)!;
    expect(last.headers['webhook-id']).toBe(dead.webhookId);
    expect(last.verified.ok).toBe(true);
    expect(forPath('/dead')).toHaveLength(4);
    // Usage reads the success rate from here.
    expect(await webhookStats(app.ctx.db, appId, 1)).toMatchObject({ ...stats, delivered: stats.delivered + 1 });
  }, 60_000);

  it('raises every event from its real cause, with ids and states but no personal data', async () => {
    const ep = await endpoint('/all', 'ok');
    const host = await addUser(app, admin.orgId, ['Host']);
    const hostId = host.hostId!;
    const startsAt = new Date(Date.now() + 3600_000);
    const created = await app.inject({
      method: 'POST',
      url: '/api/admin/appointments',
      headers: admin.auth,
      payload: {
        hostId,
        visitorIds: [topo.visitor.id],
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + 3600_000).toISOString(),
        room: 'Room of Ivan Petrov',
        siteId: topo.site.id,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const appt = created.json() as { id: string };
    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/admin/appointments/${appt.id}`,
      headers: admin.auth,
      payload: { status: 'cancelled' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const pass = await issuePass(app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    const gate = { orgId: admin.orgId, siteId: topo.site.id, gateId: topo.gate.id, deviceId: null };
    const checkin = (over: Partial<CheckinEvent>): CheckinEvent => ({
      id: uuidv7(),
      type: 'attempt',
      gateId: topo.gate.id,
      passId: pass.id,
      credentialKind: 'dynamic',
      direction: 'in',
      allow: true,
      reason: 'ok',
      occurredAt: Date.now(),
      ...over,
    });
    const allowed = checkin({});
    const forced = checkin({ type: 'forced', passId: null, credentialKind: 'none', allow: false, reason: 'unknown' });
    const denied = checkin({ allow: false, reason: 'outside_schedule' });
    await ingestCheckins(app.ctx, gate, [allowed, forced, denied]);
    // The same batch again (an edge's redelivery) raises nothing twice.
    await ingestCheckins(app.ctx, gate, [allowed, forced, denied]);
    // A guard answers the forced passage's alarm (the notes stay in the console: free text).
    const [alarm] = await app.ctx.db.select({ id: alarms.id }).from(alarms).where(eq(alarms.sourceEventId, forced.id));
    for (const [step, note] of [
      ['acknowledge', 'Ivan Petrov at the door'],
      ['clear', 'Ivan Petrov let in by the guard'],
    ] as const) {
      const r = await app.inject({ method: 'POST', url: `/api/admin/alarms/${alarm!.id}/${step}`, headers: admin.auth, payload: { note } });
      expect(r.statusCode, r.body).toBe(200);
    }
    const revoked = await app.inject({
      method: 'POST',
      url: `/api/admin/passes/${pass.id}/revoke`,
      headers: admin.auth,
      payload: { reason: 'Ivan Petrov left early' },
    });
    expect(revoked.statusCode, revoked.body).toBe(200);
    const lockdown = await app.inject({
      method: 'POST',
      url: `/api/admin/gates/${topo.gate.id}/commands`,
      headers: admin.auth,
      payload: { type: 'lockdown', reason: 'drill' },
    });
    expect(lockdown.statusCode, lockdown.body).toBeLessThan(300);
    // A site of its own for a site-wide lockdown, so the gate above keeps its state: the site's event, and its gate's.
    const spare = async (url: string, payload: Record<string, unknown>) => {
      const r = await app.inject({ method: 'POST', url, headers: admin.auth, payload });
      expect(r.statusCode, r.body).toBe(201);
      return (r.json() as { id: string }).id;
    };
    const spareSite = await spare('/api/admin/sites', { name: 'Spare', timezone: 'UTC' });
    const spareZone = await spare('/api/admin/zones', { siteId: spareSite, name: 'Spare lobby' });
    const spareGate = await spare('/api/admin/gates', { siteId: spareSite, zoneId: spareZone, name: 'Spare door', direction: 'in' });
    const lockedSite = await app.inject({
      method: 'POST',
      url: `/api/admin/sites/${spareSite}/lockdown`,
      headers: admin.auth,
      payload: { reason: 'drill: intruder' },
    });
    expect(lockedSite.statusCode, lockedSite.body).toBe(200);

    // The rollout's events are delivered in updates-rollout.test.ts.
    const wanted = EVENT_TYPES.filter((e) => e !== 'update.completed' && e !== 'update.gate_changed');
    const got = await until(
      () => {
        const payloads = forPath('/all').flatMap((r) => (r.verified.ok ? [r.verified.payload] : []));
        // Two gates flip: each raises its own gate.status_changed.
        const bothGates = payloads.some((p) => p.type === 'gate.status_changed' && p.data.gateId === spareGate);
        return bothGates && wanted.every((w) => payloads.some((p) => p.type === w)) ? payloads : null;
      },
      'every event at the receiver',
      30_000,
    );
    expect(forPath('/all').every((r) => r.verified.ok)).toBe(true);
    const of = (type: string) => got.filter((p) => p.type === type);
    expect(of('appointment.created')[0]!.data).toMatchObject({ id: appt.id, hostId, siteId: topo.site.id, visitorIds: [topo.visitor.id] });
    expect(of('appointment.updated')[0]!.data).toMatchObject({ id: appt.id, status: 'cancelled' });
    expect(of('visitpass.issued')[0]!.data).toMatchObject({ id: pass.id, status: 'active' });
    expect(of('visitpass.revoked')[0]!.data).toMatchObject({ id: pass.id, status: 'revoked' });
    expect(of('visitpass.checked_in')).toHaveLength(1);
    expect(of('visitpass.checked_in')[0]!.data).toMatchObject({ checkinId: allowed.id, passId: pass.id, gateId: topo.gate.id });
    expect(of('alarm.raised')).toHaveLength(1);
    expect(of('alarm.raised')[0]!.data).toMatchObject({ id: alarm!.id, checkinId: forced.id, gateId: topo.gate.id, kind: 'forced' });
    expect(of('alarm.acknowledged')[0]!.data).toMatchObject({ id: alarm!.id, status: 'acknowledged', acknowledgedBy: admin.userId });
    expect(of('alarm.cleared')[0]!.data).toMatchObject({ id: alarm!.id, status: 'cleared', clearedBy: admin.userId });
    const gateEvent = (gateId: string) => of('gate.status_changed').find((p) => p.data.gateId === gateId)?.data;
    expect(gateEvent(topo.gate.id)).toMatchObject({ gateId: topo.gate.id, lockdown: true });
    expect(gateEvent(spareGate)).toMatchObject({ gateId: spareGate, siteId: spareSite, lockdown: true });
    expect(of('site.mode_changed')[0]!.data).toMatchObject({
      siteId: spareSite,
      mode: 'lockdown',
      previousMode: 'normal',
      gateIds: [spareGate],
      changedBy: admin.userId,
    });
    for (const p of got) expect(Number.isNaN(Date.parse(p.timestamp))).toBe(false);
    // No name, phone, document, company, e-mail or free text anywhere in what left.
    const all = forPath('/all')
      .map((r) => r.body)
      .join('\n');
    for (const personal of [
      'Ivan',
      'Petrov',
      '900 123',
      '4510',
      'ACME',
      admin.email,
      host.email,
      'Test Host',
      'left early',
      'drill',
      'Room of',
    ])
      expect(all).not.toContain(personal);
    // The endpoint's own log lists them all as delivered (the worker records the answer after the receiver has it).
    const log = await until(async () => {
      const l = await deliveries(ep.id);
      return l.every((d) => d.status === 'delivered') ? l : null;
    }, 'every delivery logged as delivered');
    expect(log.length).toBe(got.length);
    expect(log.every((d) => d.responseCode === 200)).toBe(true);
  }, 60_000);

  it('a write raises one fan-out job however many endpoints listen; it writes one delivery per endpoint, once; a rolled-back write raises nothing', async () => {
    const otherOrg = await createOrgWithUser(app, `fanout-${Date.now()}`, ['OrgAdmin']);
    const other = await seedTopology(app, otherOrg);
    const fanApp = await newApp(app, otherOrg.orgId, otherOrg.userId);
    const eps = [];
    for (let i = 0; i < 10; i++) eps.push(await endpoint(`/fan/${i}`, 'ok', ['visitpass.issued'], otherOrg, fanApp));
    const fanouts = async () => {
      const r = (await app.ctx.db.execute(
        sql`select state from pgboss.job where name = ${FANOUT_QUEUE} and data->>'orgId' = ${otherOrg.orgId}`,
      )) as unknown as { rows: Array<{ state: string }> };
      return r.rows.map((x) => x.state);
    };
    // Rolled back: no job, so no delivery.
    await expect(
      app.ctx.db.transaction(async (tx) => {
        await emitEvent(app.ctx, tx, otherOrg.orgId, 'visitpass.issued', { id: uuidv7() });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await fanouts()).toEqual([]);
    const pass = await issuePass(app, otherOrg, { visitorId: other.visitor.id, accessRuleId: other.rule.id });
    const rows = await until(async () => {
      const r = await app.ctx.db
        .select({ endpointId: webhookDeliveries.endpointId, status: webhookDeliveries.status })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.orgId, otherOrg.orgId));
      return r.length >= 10 && r.every((d) => d.status === 'delivered') ? r : null;
    }, 'ten deliveries');
    expect(rows.map((r) => r.endpointId).sort()).toEqual(eps.map((e) => e.id).sort());
    expect(await fanouts()).toEqual(['completed']);
    for (let i = 0; i < 10; i++) {
      const got = forPath(`/fan/${i}`);
      expect(got).toHaveLength(1);
      expect(got[0]!.verified).toMatchObject({ ok: true, payload: { type: 'visitpass.issued', data: { id: pass.id } } });
    }
  }, 60_000);

  it('an endpoint made after an event does not receive it, however late its fan-out runs', async () => {
    const lateOrg = await createOrgWithUser(app, `late-${Date.now()}`, ['OrgAdmin']);
    const late = await seedTopology(app, lateOrg);
    const lateApp = await newApp(app, lateOrg.orgId, lateOrg.userId);
    const early = await endpoint('/late/early', 'ok', ['visitpass.issued'], lateOrg, lateApp);
    // The write stamps its fan-out job with the moment it happened.
    const pass = await issuePass(app, lateOrg, { visitorId: late.visitor.id, accessRuleId: late.rule.id });
    const r = (await app.ctx.db.execute(
      sql`select data->>'emittedAt' as at from pgboss.job where name = ${FANOUT_QUEUE} and data->>'orgId' = ${lateOrg.orgId}`,
    )) as unknown as { rows: Array<{ at: string | null }> };
    expect(r.rows).toHaveLength(1);
    const emittedAt = r.rows[0]!.at!;
    expect(Math.abs(Date.parse(emittedAt) - Date.now())).toBeLessThan(30_000);
    await until(async () => (await deliveries(early.id, lateOrg)).length === 1 || null, 'the early endpoint’s delivery');
    // The same event's fan-out run again after a second endpoint was made (as a queue running late would):
    // the endpoint that existed receives it, the new one does not.
    const newer = await endpoint('/late/newer', 'ok', ['visitpass.issued'], lateOrg, lateApp);
    await fanOut(
      app.ctx,
      { orgId: lateOrg.orgId, emittedAt, events: [{ type: 'visitpass.issued', timestamp: emittedAt, data: { id: pass.id } }] },
      uuidv7(),
    );
    expect(await deliveries(newer.id, lateOrg)).toEqual([]);
    expect(await deliveries(early.id, lateOrg)).toHaveLength(2);
  });

  it('the catalogue lists every event type with an example', async () => {
    const r = await api(admin, 'GET', '/events');
    expect(r.statusCode).toBe(200);
    const items = (r.json() as { items: Array<{ type: string; example: { type: string } }> }).items;
    expect(items.map((i) => i.type)).toEqual([...EVENT_TYPES]);
    for (const i of items) expect(i.example.type).toBe(i.type);
  });

  it('PATCH changes events, disables and enables; rotate-secret answers a new secret that signs from then on', async () => {
    const ep = await endpoint('/patch', 'ok', ['visitpass.issued']);
    const off = await api(admin, 'PATCH', `/webhooks/${ep.id}`, { enabled: false, events: ['visitpass.revoked'] });
    expect(off.json()).toMatchObject({ status: 'disabled', events: ['visitpass.revoked'] });
    expect((await api(admin, 'POST', `/webhooks/${ep.id}/test`)).statusCode).toBe(409);
    const on = await api(admin, 'PATCH', `/webhooks/${ep.id}`, { enabled: true });
    expect(on.json()).toMatchObject({ status: 'active', failingSince: null, disabledAt: null });
    const rotated = await api(admin, 'POST', `/webhooks/${ep.id}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    const { secret } = rotated.json() as { secret: string };
    expect(secret).not.toBe(ep.secret);
    secrets.set('/patch', secret);
    const sent = (await api(admin, 'POST', `/webhooks/${ep.id}/test`)).json() as { deliveryId: string };
    await waitStatus(ep.id, sent.deliveryId, 'delivered');
    expect(forPath('/patch').at(-1)!.verified.ok).toBe(true);
    // The secret is never shown again.
    expect(JSON.stringify((await api(admin, 'GET', `/webhooks/${ep.id}`)).json())).not.toContain('whsec_');
    expect((await api(admin, 'DELETE', `/webhooks/${ep.id}`)).statusCode).toBe(204);
    expect((await api(admin, 'GET', `/webhooks/${ep.id}`)).statusCode).toBe(404);
  }, 30_000);

  it('an endpoint failing for more than disableAfterDays is disabled, audited, and its owner told by e-mail', async () => {
    const ep = await endpoint('/gone', 'fail', ['visitpass.issued']);
    await app.ctx.db
      .update(webhookEndpoints)
      .set({ failingSince: new Date(Date.now() - 6 * 86_400_000) })
      .where(eq(webhookEndpoints.id, ep.id));
    const sent = (await api(admin, 'POST', `/webhooks/${ep.id}/test`)).json() as { deliveryId: string };
    await until(
      async () => ((await api(admin, 'GET', `/webhooks/${ep.id}`)).json() as { status: string }).status === 'disabled',
      'the endpoint disabled',
      20_000,
    );
    const after = (await api(admin, 'GET', `/webhooks/${ep.id}`)).json() as { disabledReason: string };
    expect(after.disabledReason).toMatch(/5 days/);
    // Its retry finds it disabled: dead, and nothing more reaches the receiver.
    await waitStatus(ep.id, sent.deliveryId, 'dead');
    const audit = await app.ctx.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'webhook.disable'), eq(auditLogs.entityId, ep.id)));
    expect(audit).toHaveLength(1);
    expect(audit[0]!.orgId).toBe(admin.orgId);
    const mail = await until(
      async () => {
        const box = (await app.inject({ method: 'GET', url: '/api/admin/mailbox', headers: admin.auth })).json() as {
          items: Array<{ to: string; subject: string }>;
        };
        return box.items.find((m) => m.subject.includes('Webhook endpoint disabled'));
      },
      'the owner’s mail',
      20_000,
    );
    expect(mail.to).toContain(admin.email);
    // Events no longer go to it.
    const before = (await deliveries(ep.id)).length;
    await issuePass(app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    expect((await deliveries(ep.id)).length).toBe(before);
  }, 60_000);

  it('another organisation sees none of it, and its events reach none of these endpoints', async () => {
    const ep = await endpoint('/mine', 'ok', ['visitpass.issued']);
    const sent = (await api(admin, 'POST', `/webhooks/${ep.id}/test`)).json() as { deliveryId: string };
    const checks: Array<[Parameters<typeof api>[1], string, object?]> = [
      ['GET', `/apps/${appId}/webhooks`],
      ['POST', `/apps/${appId}/webhooks`, { url: `${base}/x`, events: ['visitpass.issued'] }],
      ['GET', `/webhooks/${ep.id}`],
      ['PATCH', `/webhooks/${ep.id}`, { enabled: false }],
      ['POST', `/webhooks/${ep.id}/rotate-secret`],
      ['POST', `/webhooks/${ep.id}/test`],
      ['GET', `/webhooks/${ep.id}/deliveries`],
      ['GET', `/webhooks/${ep.id}/deliveries/${sent.deliveryId}`],
      ['POST', `/webhooks/${ep.id}/deliveries/${sent.deliveryId}/redeliver`],
      ['DELETE', `/webhooks/${ep.id}`],
    ];
    for (const [method, url, body] of checks) expect((await api(stranger, method, url, body)).statusCode, `${method} ${url}`).toBe(404);
    // Their own events do not reach this organisation's endpoints.
    const theirTopo = await seedTopology(app, stranger);
    const before = (await deliveries(ep.id)).length;
    await issuePass(app, stranger, { visitorId: theirTopo.visitor.id, accessRuleId: theirTopo.rule.id });
    expect((await deliveries(ep.id)).length).toBe(before);
    // A user without devconsole:manage is refused; a Developer is let in.
    const guard = await addUser(app, admin.orgId, ['Operator']);
    expect((await api(guard, 'GET', '/events')).statusCode).toBe(403);
    const dev = await addUser(app, admin.orgId, ['Developer']);
    expect((await api(dev, 'GET', `/apps/${appId}/webhooks`)).statusCode).toBe(200);
  }, 30_000);

  it('no secret reaches the log or the audit trail', async () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.some((l) => l.includes('webhook delivery failed'))).toBe(true);
    const secretsSeen = [...secrets.values()];
    for (const line of logLines) {
      expect(line).not.toContain('whsec_');
      for (const s of secretsSeen) expect(line).not.toContain(s.slice(6));
    }
    const audit = JSON.stringify(await app.ctx.db.select().from(auditLogs).where(eq(auditLogs.orgId, admin.orgId)));
    expect(audit).not.toContain('whsec_');
    const stored = await app.ctx.db.select({ s: webhookEndpoints.secretEnc }).from(webhookEndpoints);
    for (const r of stored) expect(r.s).not.toContain('whsec_');

    // And the deliveries are counted for Prometheus.
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/gatehouse_webhook_deliveries_total\{result="delivered"\} [1-9]/);
    expect(metrics).toMatch(/gatehouse_webhook_deliveries_total\{result="failed"\} [1-9]/);
    expect(metrics).toMatch(/gatehouse_webhook_deliveries_total\{result="dead"\} [1-9]/);
    expect(metrics).toContain('gatehouse_webhook_delivery_duration_seconds_bucket');
  });
});

describe('gate online and offline, as an enrolled edge reports it over MQTT', () => {
  let edge: TestApp;
  let owner: Login;
  let device: MqttClient;
  let deviceId: string;
  let hook: string;

  beforeAll(async () => {
    edge = await startApp({ mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) }, { sync: true });
    owner = await createOrgWithUser(edge.app, `edge-${Date.now()}`, ['OrgAdmin']);
    const gates = await seedTopology(edge.app, owner);
    const code = (
      await edge.app.inject({ method: 'POST', url: `/api/admin/gates/${gates.gate.id}/enrollment`, headers: owner.auth })
    ).json() as { code: string };
    const enrolled = (await edge.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: code })).json() as {
      deviceId: string;
      mqtt: { url: string; username: string; password: string };
    };
    deviceId = enrolled.deviceId;
    const url = process.env.MQTT_URL ? `mqtt://${new URL(process.env.MQTT_URL).host}` : enrolled.mqtt.url;
    device = await mqtt.connectAsync(url, {
      username: enrolled.mqtt.username,
      password: enrolled.mqtt.password,
      clientId: deviceId,
      reconnectPeriod: 0,
    });
    const edgeApp = await newApp(edge.app, owner.orgId, owner.userId);
    modes.set('/edge', 'ok');
    const r = await edge.app.inject({
      method: 'POST',
      url: `/api/devconsole/apps/${edgeApp}/webhooks`,
      headers: owner.auth,
      payload: { url: `${base}/edge`, events: ['gate.status_changed'] },
    });
    expect(r.statusCode, r.body).toBe(201);
    const created = r.json() as { id: string; secret: string };
    secrets.set('/edge', created.secret);
    hook = created.id;
  }, 180_000);
  afterAll(async () => {
    await device?.endAsync();
    await edge?.close();
  });

  const status = (state: 'online' | 'offline') =>
    device.publishAsync(
      topics.status(deviceId),
      JSON.stringify({
        v: 1,
        deviceId,
        state,
        version: '1.0.0',
        cacheSeq: 0,
        outboxDepth: 0,
        lockdown: false,
        hardware: [],
        ts: Date.now(),
      }),
      { qos: 1 },
    );
  const seen = () => forPath('/edge').flatMap((r) => (r.verified.ok ? [r.verified.payload.data.online] : ['unverified']));

  /**
   * Publishes until the receiver has `n` events, as an edge repeats its status: on a shared external
   * broker another test process's cloud may take a message of the shared subscription (and drop it).
   */
  const reported = async (state: 'online' | 'offline', n: number) => {
    const end = Date.now() + 15_000;
    while (seen().length < n) {
      if (Date.now() > end) throw new Error(`no ${state} event`);
      await status(state);
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  it('raises gate.status_changed where the gate row flips, once per change', async () => {
    await reported('online', 1);
    // The same state again changes nothing.
    for (let i = 0; i < 3; i++) await status('online');
    await reported('offline', 2);
    for (let i = 0; i < 3; i++) await status('offline');
    await new Promise((r) => setTimeout(r, 500));
    expect(seen()).toEqual([true, false]);
    const [row] = await edge.app.ctx.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, hook)).limit(1);
    expect(row?.eventType).toBe('gate.status_changed');
  }, 40_000);
});

describe('master key rotation', () => {
  it('rotate-keys re-seals the signing secrets: under the new key alone they still open', async () => {
    const newKey = randomBytes(32);
    const rotating = new Sealer(newKey, app.ctx.config.masterKey);
    const report = await rotateKeys(app.ctx.db, rotating);
    expect(report.webhookEndpoints).toBeGreaterThanOrEqual(5);
    const onlyNew = new Sealer(newKey, null);
    for (const r of await app.ctx.db.select({ id: webhookEndpoints.id, s: webhookEndpoints.secretEnc }).from(webhookEndpoints))
      expect(onlyNew.open(r.s, secretAad(r.id))).toMatch(/^whsec_/);
    expect((await rotateKeys(app.ctx.db, rotating)).webhookEndpoints).toBe(0);
  });
});

describe('SSRF: endpoints must be public https unless private URLs are allowed', () => {
  let strict: TestApp;
  let owner: Login;
  let strictApp: string;
  /** What the injected resolver answers for each name. */
  const dns = new Map<string, string>([['hooks.example.com', '93.184.216.34']]);

  beforeAll(async () => {
    strict = await startApp({
      webhooks: { allowPrivateUrls: false, timeoutMs: 2_000, retryLimit: 0, retryDelayS: 1, disableAfterDays: 5 },
    });
    useResolver(strict.app.ctx, async (name) => {
      if (name === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
      const a = dns.get(name);
      if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return [{ address: a, family: a.includes(':') ? 6 : 4 }];
    });
    owner = await createOrgWithUser(strict.app, 'Strict Org', ['OrgAdmin']);
    strictApp = await newApp(strict.app, owner.orgId, owner.userId);
  }, 180_000);
  afterAll(async () => strict?.close());

  const create = (url: string) =>
    strict.app.inject({
      method: 'POST',
      url: `/api/devconsole/apps/${strictApp}/webhooks`,
      headers: owner.auth,
      payload: { url, events: ['visitpass.issued'] },
    });

  it('refuses loopback, private, link-local and names resolving to them with 422 at creation', async () => {
    for (const host of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '[::1]', 'localhost', '100.64.0.1', '[::ffff:127.0.0.1]', '0.0.0.0']) {
      // https: the address alone is what refuses it.
      const r = await create(`https://${host}/hook`);
      expect(r.statusCode, `https://${host}`).toBe(422);
      expect((r.json() as { error: { message: string } }).error.message).toMatch(/not a public address/);
      // http is refused too (https only without the setting).
      expect((await create(`http://${host}/hook`)).statusCode, `http://${host}`).toBe(422);
    }
    expect((await create('https://user:pw@hooks.example.com/hook')).statusCode).toBe(422);
    expect((await create('https://nowhere.invalid/hook')).statusCode).toBe(422);
    expect((await create('https://hooks.example.com/hook')).statusCode).toBe(201);
  });

  it('refuses at send time a name that has since turned private (DNS rebinding), without connecting', async () => {
    // A receiver on loopback: it must never be reached.
    const trap = await startWebhookReceiver();
    const { port } = new URL(trap.url());
    dns.set('rebind.example.com', '93.184.216.35');
    const r = await create(`https://rebind.example.com:${port}/hook`);
    expect(r.statusCode, r.body).toBe(201);
    const ep = r.json() as { id: string };
    dns.set('rebind.example.com', '127.0.0.1');
    const sent = await strict.app.inject({ method: 'POST', url: `/api/devconsole/webhooks/${ep.id}/test`, headers: owner.auth });
    const { deliveryId } = sent.json() as { deliveryId: string };
    const d = await until(
      async () => {
        const [row] = await strict.app.ctx.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId));
        return row?.status === 'dead' ? row : null;
      },
      'the refused delivery',
      20_000,
    );
    expect(d.lastError).toMatch(/^refused: .*127\.0\.0\.1.*not a public address/);
    expect(d.responseCode).toBeNull();
    expect(trap.received).toHaveLength(0);
    await trap.close();
  }, 30_000);
});
