/**
 * Developer sandboxes (issue 13 item 3): a sandbox application's keys act in
 * an organisation of its own, seeded with demo data and a simulated gate;
 * with them an integrator issues a pass and "scans" it, and the scan becomes
 * a check-in through the edges' own ingestion — the checkins list and the
 * live feed show it as they show a real gate's. Neither the owner's data nor
 * the sandbox's is visible from the other side, and a real organisation
 * cannot simulate a scan.
 */

import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkins, notifications, organizations, visitPasses, webhookDeliveries } from '../src/db/schema.js';
import type { LiveEvent } from '../src/lib/events.js';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp, until } from './helpers.js';
import { startWebhookReceiver, type WebhookReceiver } from './stand-ins/webhook-receiver.js';

type Auth = { authorization: string };
type Listed = { items: ({ id: string; name?: string } & Record<string, unknown>)[] };

const SANDBOX_SCOPES = [
  'sites:read',
  'gates:read',
  'rules:read',
  'visitors:read',
  'appointments:any',
  'passes:read',
  'passes:issue',
  'passes:revoke',
  'passes:check',
  'checkins:read',
  'hosts:read',
  'appointments:write',
];

describe('developer sandbox', () => {
  let t: TestApp;
  let receiver: WebhookReceiver | undefined;
  let owner: Login;
  let ownerGateId: string;
  let ownerVisitorId: string;
  let sandboxOrgId: string;
  let sandboxAppId: string;
  let key: Auth;
  let passId: string;

  const call = async (auth: Auth, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    t = await startApp();
    owner = await createOrgWithUser(t.app, 'Northwind', ['OrgAdmin']);
    const topo = await seedTopology(t.app, owner);
    ownerGateId = topo.gate.id;
    ownerVisitorId = topo.visitor.id;
    const app = await call(owner.auth, 'POST', '/api/devconsole/apps', { name: 'CRM sandbox', sandbox: true });
    expect(app.statusCode, app.body).toBe(201);
    const a = app.json() as { id: string; sandbox: boolean; actsInOrgId: string };
    expect(a.sandbox).toBe(true);
    expect(a.actsInOrgId).not.toBe(owner.orgId);
    sandboxOrgId = a.actsInOrgId;
    sandboxAppId = a.id;
    const k = await call(owner.auth, 'POST', `/api/devconsole/apps/${a.id}/keys`, { scopes: SANDBOX_SCOPES });
    expect(k.statusCode, k.body).toBe(201);
    const made = k.json() as { key: string };
    expect(made.key).toMatch(/^ghk_test_/);
    key = { authorization: `Bearer ${made.key}` };
  });
  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });

  it('creates "<owner> — sandbox 1", marked as the owner’s sandbox', async () => {
    const [org] = await t.app.ctx.db.select().from(organizations).where(eq(organizations.id, sandboxOrgId));
    expect(org?.name).toBe('Northwind — sandbox 1');
    expect(org?.sandboxOf).toBe(owner.orgId);
    // The next one is numbered on.
    const second = await call(owner.auth, 'POST', '/api/devconsole/apps', { name: 'Second', sandbox: true });
    const [next] = await t.app.ctx.db
      .select({ name: organizations.name })
      .from(organizations)
      .where(eq(organizations.id, (second.json() as { actsInOrgId: string }).actsInOrgId));
    expect(next?.name).toBe('Northwind — sandbox 2');
  });

  it('the key sees the seeded sandbox (the simulated gate, an any-time rule, two visitors) and none of the owner’s data', async () => {
    const gates = (await call(key, 'GET', '/api/admin/gates')).json() as Listed;
    expect(gates.items.map((g) => g.name)).toEqual(['Simulated gate']);
    const rules = (await call(key, 'GET', '/api/admin/access-rules')).json() as Listed;
    expect(rules.items).toHaveLength(1);
    expect(rules.items[0]).toMatchObject({ weekdays: [], timeWindows: [] });
    const visitors = (await call(key, 'GET', '/api/admin/visitors')).json() as Listed;
    expect(visitors.items).toHaveLength(2);
    expect((await call(key, 'GET', `/api/admin/gates/${ownerGateId}`)).statusCode).toBe(404);
    expect((await call(key, 'GET', `/api/admin/visitors/${ownerVisitorId}`)).statusCode).toBe(404);
    // And the owner's people do not see the sandbox.
    const ownerGates = (await call(owner.auth, 'GET', '/api/admin/gates')).json() as Listed;
    expect(ownerGates.items.map((g) => g.name)).not.toContain('Simulated gate');
    expect((await call(owner.auth, 'GET', `/api/admin/gates/${gates.items[0]!.id}`)).statusCode).toBe(404);
  });

  it('a pass issued with the key, scanned at the simulated gate, is allowed and recorded as a check-in the list and the live feed show', async () => {
    const rule = ((await call(key, 'GET', '/api/admin/access-rules')).json() as Listed).items[0]!;
    const visitor = ((await call(key, 'GET', '/api/admin/visitors')).json() as Listed).items[0]!;
    const now = Date.now();
    const issued = await call(key, 'POST', '/api/admin/passes', {
      visitorId: visitor.id,
      accessRuleId: rule.id,
      type: 'multi',
      validFrom: new Date(now - 60_000).toISOString(),
      validTo: new Date(now + 3600_000).toISOString(),
    });
    expect(issued.statusCode, issued.body).toBe(201);
    passId = (issued.json() as { id: string }).id;

    const heard: LiveEvent[] = [];
    const ownerHeard: LiveEvent[] = [];
    const stop = t.app.ctx.events.subscribe(sandboxOrgId, (e) => heard.push(e));
    const stopOwner = t.app.ctx.events.subscribe(owner.orgId, (e) => ownerHeard.push(e));
    const scan = await call(key, 'POST', '/api/admin/sandbox/scan', { passId });
    stop();
    stopOwner();
    expect(scan.statusCode, scan.body).toBe(200);
    const r = scan.json() as { allow: boolean; reason: string; checkinId: string };
    expect(r).toMatchObject({ allow: true, reason: 'ok' });

    const [row] = await t.app.ctx.db.select().from(checkins).where(eq(checkins.id, r.checkinId));
    expect(row).toMatchObject({ orgId: sandboxOrgId, passId, allow: true, reason: 'ok', type: 'attempt', direction: 'in' });
    const listed = (await call(key, 'GET', `/api/admin/checkins?passId=${passId}`)).json() as Listed;
    expect(listed.items.map((c) => c.id)).toEqual([r.checkinId]);
    expect(heard).toEqual([
      expect.objectContaining({ type: 'checkin.created', data: expect.objectContaining({ id: r.checkinId, passId }) }),
    ]);
    expect(ownerHeard).toEqual([]);
    // The owner's check-ins are untouched.
    expect(((await call(owner.auth, 'GET', '/api/admin/checkins')).json() as Listed).items).toEqual([]);
  });

  it('a scan of a pass of the seeded host’s meeting carries the visit on: the guest has arrived and the host is told', async () => {
    const host = ((await call(key, 'GET', '/api/admin/hosts')).json() as Listed).items[0]!;
    const rule = ((await call(key, 'GET', '/api/admin/access-rules')).json() as Listed).items[0]!;
    const visitor = ((await call(key, 'GET', '/api/admin/visitors')).json() as Listed).items[1]!;
    const now = Date.now();
    const appt = await call(key, 'POST', '/api/admin/appointments', {
      hostId: host.id,
      visitorIds: [visitor.id],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3600_000).toISOString(),
    });
    expect(appt.statusCode, appt.body).toBe(201);
    const pass = await call(key, 'POST', '/api/admin/passes', {
      visitorId: visitor.id,
      accessRuleId: rule.id,
      appointmentId: (appt.json() as { id: string }).id,
      type: 'multi',
      validFrom: new Date(now - 60_000).toISOString(),
      validTo: new Date(now + 3600_000).toISOString(),
    });
    expect(pass.statusCode, pass.body).toBe(201);
    const id = (pass.json() as { id: string }).id;
    const scan = await call(key, 'POST', '/api/admin/sandbox/scan', { passId: id });
    expect(scan.json()).toMatchObject({ allow: true, reason: 'ok' });
    const [p] = await t.app.ctx.db.select({ arrivedAt: visitPasses.arrivedAt }).from(visitPasses).where(eq(visitPasses.id, id));
    expect(p?.arrivedAt).not.toBeNull();
    const notices = await t.app.ctx.db
      .select({ id: notifications.id })
      .from(notifications)
      .where(and(eq(notifications.passId, id), eq(notifications.template, 'arrival')));
    expect(notices).toHaveLength(1);
  });

  it('a sandbox webhook receives visitpass.checked_in, signed per Standard Webhooks, after a simulated scan', async () => {
    receiver = await startWebhookReceiver();
    const url = receiver.url('/hook');
    const hook = await call(owner.auth, 'POST', `/api/devconsole/apps/${sandboxAppId}/webhooks`, { url, events: ['visitpass.checked_in'] });
    expect(hook.statusCode, hook.body).toBe(201);
    receiver.secrets.set('/hook', (hook.json() as { secret: string }).secret);
    // The owner's own application subscribes too: the sandbox's check-ins are not its events.
    const ownApp = (await call(owner.auth, 'POST', '/api/devconsole/apps', { name: 'Real CRM' })).json() as { id: string };
    const ownHook = await call(owner.auth, 'POST', `/api/devconsole/apps/${ownApp.id}/webhooks`, {
      url: `${url}/owner`,
      events: ['visitpass.checked_in'],
    });
    expect(ownHook.statusCode, ownHook.body).toBe(201);

    const rule = ((await call(key, 'GET', '/api/admin/access-rules')).json() as Listed).items[0]!;
    const visitor = ((await call(key, 'GET', '/api/admin/visitors')).json() as Listed).items[0]!;
    const issued = await call(key, 'POST', '/api/admin/passes', {
      visitorId: visitor.id,
      accessRuleId: rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 3600_000).toISOString(),
    });
    const id = (issued.json() as { id: string }).id;
    const scan = (await call(key, 'POST', '/api/admin/sandbox/scan', { passId: id })).json() as { allow: boolean; checkinId: string };
    expect(scan.allow).toBe(true);
    const event = await until(
      () => receiver?.received.find((r) => r.verified.ok && r.verified.payload.data.checkinId === scan.checkinId),
      'visitpass.checked_in at the receiver',
    );
    // Verified with the specification's own library: a forged or unsigned request would not be `ok`.
    expect(event.verified).toMatchObject({ ok: true, payload: { type: 'visitpass.checked_in', data: { passId: id, direction: 'in' } } });
    // Emitted in the check-in's transaction: by now the owner's endpoint would have its delivery row, and has none.
    const ownDeliveries = await t.app.ctx.db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, (ownHook.json() as { id: string }).id));
    expect(ownDeliveries).toEqual([]);
  });

  it('a revoked pass is denied `revoked`, and that denial is recorded too', async () => {
    const rv = await call(key, 'POST', `/api/admin/passes/${passId}/revoke`, { reason: 'test' });
    expect(rv.statusCode, rv.body).toBe(200);
    const scan = await call(key, 'POST', '/api/admin/sandbox/scan', { passId, direction: 'in' });
    expect(scan.statusCode, scan.body).toBe(200);
    const r = scan.json() as { allow: boolean; reason: string; checkinId: string };
    expect(r).toMatchObject({ allow: false, reason: 'revoked' });
    const [row] = await t.app.ctx.db.select().from(checkins).where(eq(checkins.id, r.checkinId));
    expect(row).toMatchObject({ allow: false, reason: 'revoked' });
  });

  it('a real organisation cannot simulate scans (403 not_sandbox); the sandbox cannot scan another organisation’s pass or gate', async () => {
    const real = await call(owner.auth, 'POST', '/api/admin/sandbox/scan', { passId });
    expect(real.statusCode).toBe(403);
    expect(real.json()).toMatchObject({ error: { code: 'not_sandbox' } });
    const ownerRule = ((await call(owner.auth, 'GET', '/api/admin/access-rules')).json() as Listed).items[0]!;
    const ownerPass = await call(owner.auth, 'POST', '/api/admin/passes', {
      visitorId: ownerVisitorId,
      accessRuleId: ownerRule.id,
      type: 'multi',
      validFrom: new Date().toISOString(),
      validTo: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(ownerPass.statusCode, ownerPass.body).toBe(201);
    const foreign = await call(key, 'POST', '/api/admin/sandbox/scan', { passId: (ownerPass.json() as { id: string }).id });
    expect(foreign.statusCode).toBe(404);
    expect((await call(key, 'POST', '/api/admin/sandbox/scan', { passId, gateId: ownerGateId })).statusCode).toBe(404);
  });

  it('a key without passes:check cannot scan', async () => {
    const apps = (await call(owner.auth, 'GET', '/api/devconsole/apps')).json() as Listed;
    const app = apps.items.find((a) => a.actsInOrgId === sandboxOrgId)!;
    const k = await call(owner.auth, 'POST', `/api/devconsole/apps/${app.id}/keys`, { scopes: ['passes:read'] });
    const weak = { authorization: `Bearer ${(k.json() as { key: string }).key}` };
    expect((await call(weak, 'POST', '/api/admin/sandbox/scan', { passId })).statusCode).toBe(403);
  });
});
