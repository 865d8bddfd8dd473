/**
 * Per-application usage (issue 13 item 4): every request made with one of an
 * application's keys is counted — calls and errors (status ≥ 400) per UTC
 * day, written in batches — and shown by GET /api/devconsole/apps/:id/usage
 * with the success rate of its webhook deliveries; the same requests show on
 * /metrics as gatehouse_api_requests_total{app, status_class}. Requests
 * without a key, or with a key that is refused, count for no application.
 */
import { randomUUID } from 'node:crypto';
import { uuidv7 } from '@gatehouse/protocol';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiUsage, webhookDeliveries, webhookEndpoints } from '../src/db/schema.js';
import { utcDay } from '../src/modules/devconsole/usage.js';
import { addUser, createOrgWithUser, type Login, startApp, type TestApp } from './helpers.js';

type Auth = { authorization: string };
type Usage = {
  days: { day: string; calls: number; errors: number }[];
  webhooks: { delivered: number; failed: number; dead: number; pending: number; successRate: number | null };
};

describe('API usage per application', () => {
  let t: TestApp;
  let closed = false;
  let owner: Login;
  let appId: string;
  let otherAppId: string;
  let key: Auth;
  let otherKey: Auth;

  const call = (auth: Auth, url: string, method: 'GET' | 'POST' = 'GET', payload?: object) =>
    t.app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
  const usage = async (id: string, days?: number) => {
    const r = await call(owner.auth, `/api/devconsole/apps/${id}/usage${days ? `?days=${days}` : ''}`);
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as Usage;
  };
  const total = (u: Usage) => u.days.reduce((s, d) => ({ calls: s.calls + d.calls, errors: s.errors + d.errors }), { calls: 0, errors: 0 });
  const newApp = async (name: string) => {
    const a = await call(owner.auth, '/api/devconsole/apps', 'POST', { name });
    expect(a.statusCode, a.body).toBe(201);
    const id = (a.json() as { id: string }).id;
    const k = await call(owner.auth, `/api/devconsole/apps/${id}/keys`, 'POST', { scopes: ['sites:read'] });
    expect(k.statusCode, k.body).toBe(201);
    return { id, auth: { authorization: `Bearer ${(k.json() as { key: string }).key}` } };
  };

  beforeAll(async () => {
    t = await startApp();
    owner = await createOrgWithUser(t.app, 'Usage Co', ['OrgAdmin']);
    const a = await newApp('Counted');
    appId = a.id;
    key = a.auth;
    const b = await newApp('Other');
    otherAppId = b.id;
    otherKey = b.auth;
  });
  afterAll(async () => {
    if (closed) await t?.db.drop();
    else await t?.close();
  });

  it('counts calls and errors per day for the application whose key made them (5 calls, 2 of them 4xx → 5 and 2)', async () => {
    expect((await call(key, '/api/admin/sites')).statusCode).toBe(200);
    expect((await call(key, '/api/admin/sites')).statusCode).toBe(200);
    expect((await call(key, '/api/admin/sites?limit=1')).statusCode).toBe(200);
    expect((await call(key, `/api/admin/sites/${randomUUID()}`)).statusCode).toBe(404);
    expect((await call(key, '/api/admin/users')).statusCode).toBe(403); // not in its scopes
    // Not this application's: another's key, a person's token, a key that does not exist.
    expect((await call(otherKey, '/api/admin/sites')).statusCode).toBe(200);
    expect((await call(owner.auth, '/api/admin/sites')).statusCode).toBe(200);
    expect((await call({ authorization: `Bearer ghk_live_${'x'.repeat(38)}` }, '/api/admin/sites')).statusCode).toBe(401);
    // Counted in memory: nothing written per request.
    expect(total(await usage(appId))).toEqual({ calls: 0, errors: 0 });
    await t.app.usage.flush();
    const u = await usage(appId, 7);
    expect(u.days).toHaveLength(7);
    expect(u.days.at(-1)?.day).toBe(utcDay(Date.now()));
    expect(u.days.map((d) => d.day)).toEqual([...u.days.map((d) => d.day)].sort());
    expect(total(u)).toEqual({ calls: 5, errors: 2 });
    expect(total(await usage(otherAppId))).toEqual({ calls: 1, errors: 0 });
    // A second flush adds to the day's row.
    await call(key, '/api/admin/sites');
    await t.app.usage.flush();
    expect(total(await usage(appId))).toEqual({ calls: 6, errors: 2 });
    const rows = await t.app.ctx.db.select().from(apiUsage).where(eq(apiUsage.appId, appId));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.orgId).toBe(owner.orgId);
  });

  it('counts a request its key’s rate limit refused (429) as an error', async () => {
    const a = await call(owner.auth, '/api/devconsole/apps', 'POST', { name: 'Limited' });
    const id = (a.json() as { id: string }).id;
    const k = await call(owner.auth, `/api/devconsole/apps/${id}/keys`, 'POST', { scopes: ['sites:read'], rateLimitPerMinute: 1 });
    const limited = { authorization: `Bearer ${(k.json() as { key: string }).key}` };
    expect((await call(limited, '/api/admin/sites')).statusCode).toBe(200);
    expect((await call(limited, '/api/admin/sites')).statusCode).toBe(429);
    await t.app.usage.flush();
    expect(total(await usage(id))).toEqual({ calls: 2, errors: 1 });
  });

  it('shows them on /metrics by application and status class', async () => {
    const m = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(m).toContain(`gatehouse_api_requests_total{app="${appId}",status_class="2xx"} 4`);
    expect(m).toContain(`gatehouse_api_requests_total{app="${appId}",status_class="4xx"} 2`);
    expect(m).toContain(`gatehouse_api_requests_total{app="${otherAppId}",status_class="2xx"} 1`);
  });

  it('reports its webhook deliveries by status and the success rate', async () => {
    expect((await usage(appId)).webhooks).toEqual({ delivered: 0, failed: 0, dead: 0, pending: 0, successRate: null });
    const endpointId = uuidv7();
    await t.app.ctx.db.insert(webhookEndpoints).values({
      id: endpointId,
      orgId: owner.orgId,
      appId,
      eventOrgId: owner.orgId,
      url: 'https://receiver.example/hook',
      events: ['visitpass.issued'],
      secretEnc: 'not used here',
    });
    const statuses = ['delivered', 'delivered', 'delivered', 'dead', 'pending'] as const;
    await t.app.ctx.db.insert(webhookDeliveries).values(
      statuses.map((status) => ({
        id: uuidv7(),
        orgId: owner.orgId,
        endpointId,
        appId,
        eventType: 'visitpass.issued',
        payload: { type: 'visitpass.issued', timestamp: new Date().toISOString(), data: {} },
        status,
      })),
    );
    expect((await usage(appId)).webhooks).toEqual({ delivered: 3, failed: 0, dead: 1, pending: 1, successRate: 0.75 });
    expect((await usage(otherAppId)).webhooks.successRate).toBeNull();
  });

  it('is the owner’s to read: another organisation gets 404, a role without devconsole:manage 403, a bad range 400', async () => {
    const stranger = await createOrgWithUser(t.app, 'Elsewhere', ['OrgAdmin']);
    expect((await call(stranger.auth, `/api/devconsole/apps/${appId}/usage`)).statusCode).toBe(404);
    const operator = await addUser(t.app, owner.orgId, ['Operator']);
    expect((await call(operator.auth, `/api/devconsole/apps/${appId}/usage`)).statusCode).toBe(403);
    expect((await call(owner.auth, `/api/devconsole/apps/${appId}/usage?days=91`)).statusCode).toBe(400);
    expect((await call(owner.auth, `/api/devconsole/apps/${appId}/usage?days=0`)).statusCode).toBe(400);
    // A key is not accepted on the developer console's API.
    expect((await call(key, `/api/devconsole/apps/${appId}/usage`)).statusCode).toBe(401);
  });

  it('writes what is left when the app closes', async () => {
    const before = await t.app.ctx.db
      .select({ calls: apiUsage.calls })
      .from(apiUsage)
      .where(and(eq(apiUsage.appId, otherAppId), eq(apiUsage.day, utcDay(Date.now()))));
    await call(otherKey, '/api/admin/sites');
    await call(otherKey, '/api/admin/users');
    await t.app.close();
    closed = true;
    const [after] = await t.db.database.db
      .select({ calls: apiUsage.calls, errors: apiUsage.errors })
      .from(apiUsage)
      .where(and(eq(apiUsage.appId, otherAppId), eq(apiUsage.day, utcDay(Date.now()))));
    expect(after).toEqual({ calls: (before[0]?.calls ?? 0) + 2, errors: 1 });
  });
});
