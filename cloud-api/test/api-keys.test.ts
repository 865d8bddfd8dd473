/**
 * Applications' API keys end to end (issue 13): made in the developer
 * console, used as bearer tokens on /api/admin within their scopes and their
 * organisation, refused everywhere else, revoked and rotated with immediate
 * effect (on every instance), rate limited per key, audited as the
 * application.
 */
import type { AddressInfo } from 'node:net';
import { uuidv7 } from '@gatehouse/protocol';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type App, buildApp } from '../src/app.js';
import { apiKeyHash, checksum } from '../src/auth/api-key-format.js';
import { ApiKeyCache } from '../src/auth/api-keys.js';
import type { Principal } from '../src/context.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { apiKeys, auditLogs, visitPasses, webhookEndpoints } from '../src/db/schema.js';
import { addUser, createOrgWithUser, type Login, onPostgres, seedTopology, startApp, type TestApp, testConfig, until } from './helpers.js';

interface AppBody {
  id: string;
  name: string;
  description: string | null;
  sandbox: boolean;
  actsInOrgId: string;
  createdAt: string;
}
interface NewKeyBody {
  id: string;
  key: string;
  prefix: string;
  scopes: string[];
  rateLimitPerMinute: number | null;
  createdAt: string;
}
interface KeyItem {
  id: string;
  prefix: string;
  scopes: string[];
  status: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  rotatedFrom: string | null;
}

let t: TestApp;
let admin: Login;
let topo: Awaited<ReturnType<typeof seedTopology>>;

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const call = (headers: Record<string, string>, method: Method, url: string, payload?: Record<string, unknown>, on: App = t.app) =>
  on.inject({ method, url, headers, ...(payload ? { payload } : {}) });
const as = (who: Login, method: Method, url: string, payload?: Record<string, unknown>) => call(who.auth, method, url, payload);
const withKey = (key: string, method: Method, url: string, payload?: Record<string, unknown>, on?: App) =>
  call({ authorization: `Bearer ${key}` }, method, url, payload, on);

async function newApp(who: Login = admin, body: Record<string, unknown> = { name: 'Building CRM' }): Promise<AppBody> {
  const r = await as(who, 'POST', '/api/devconsole/apps', body);
  expect(r.statusCode, r.body).toBe(201);
  return r.json();
}

async function newKey(appId: string, scopes: string[], extra: Record<string, unknown> = {}, who: Login = admin): Promise<NewKeyBody> {
  const r = await as(who, 'POST', `/api/devconsole/apps/${appId}/keys`, { scopes, ...extra });
  expect(r.statusCode, r.body).toBe(201);
  return r.json();
}

const keysOf = async (appId: string, who: Login = admin): Promise<KeyItem[]> =>
  (await as(who, 'GET', `/api/devconsole/apps/${appId}/keys`)).json().items;

const passBody = () => ({
  visitorId: topo.visitor.id,
  accessRuleId: topo.rule.id,
  type: 'multi',
  validFrom: new Date().toISOString(),
  validTo: new Date(Date.now() + 3600_000).toISOString(),
});

beforeAll(async () => {
  t = await startApp();
  admin = await createOrgWithUser(t.app, 'Keys Org A', ['OrgAdmin']);
  topo = await seedTopology(t.app, admin);
});
afterAll(async () => t?.close());

describe('applications and keys in the developer console', () => {
  it('an OrgAdmin creates an application and a key; the key is answered once and only its SHA-256 is stored', async () => {
    const app = await newApp(admin, { name: 'Building CRM', description: 'syncs visitors' });
    expect(app).toMatchObject({ name: 'Building CRM', description: 'syncs visitors', sandbox: false, actsInOrgId: admin.orgId });
    const created = await newKey(app.id, ['passes:issue', 'passes:read'], { rateLimitPerMinute: 600 });
    expect(created.key).toMatch(/^ghk_live_[0-9A-Za-z]{38}$/);
    expect(created.prefix).toBe(created.key.slice(0, 13));
    expect(created).toMatchObject({ scopes: ['passes:issue', 'passes:read'], rateLimitPerMinute: 600 });

    // Never again: not in the list, not in the application.
    const listed = await as(admin, 'GET', `/api/devconsole/apps/${app.id}/keys`);
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(created.key);
    expect(listed.body).not.toContain(created.key.slice(13, 41));
    const [item] = listed.json().items as KeyItem[];
    expect(item).toMatchObject({ id: created.id, prefix: created.prefix, status: 'active', lastUsedAt: null, revokedAt: null });
    expect(item).not.toHaveProperty('key');
    expect((await as(admin, 'GET', `/api/devconsole/apps/${app.id}`)).json()).toEqual(app);
    expect((await as(admin, 'GET', '/api/devconsole/apps')).json().items.map((a: AppBody) => a.id)).toContain(app.id);

    // The row: a SHA-256 hex of the key, its 13-character prefix, nothing else of it.
    const rows = (await t.app.ctx.db.execute(sql`select * from api_keys where id = ${created.id}`)) as unknown as {
      rows: Record<string, unknown>[];
    };
    const row = rows.rows[0]!;
    expect(row.key_hash).toBe(apiKeyHash(created.key));
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(created.key);
    expect(stored).not.toContain(created.key.slice(13, 41));
    // The audit row of its creation names it by prefix only.
    const audit = await t.app.ctx.db.select().from(auditLogs).where(eq(auditLogs.entityId, created.id));
    expect(audit.map((a) => a.action)).toEqual(['apikey.create']);
    expect(JSON.stringify(audit)).not.toContain(created.key.slice(13, 41));
  });

  it('renames and deletes an application; scopes are permission names other than the console and the portal', async () => {
    const app = await newApp();
    const renamed = await as(admin, 'PATCH', `/api/devconsole/apps/${app.id}`, { name: 'HR sync', description: null });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'HR sync', description: null });
    for (const scopes of [['devconsole:manage'], ['host:portal'], ['passes:fly'], []]) {
      const r = await as(admin, 'POST', `/api/devconsole/apps/${app.id}/keys`, { scopes });
      expect(r.statusCode, JSON.stringify(scopes)).toBe(400);
    }
    for (const rateLimitPerMinute of [0, 100_001]) {
      const r = await as(admin, 'POST', `/api/devconsole/apps/${app.id}/keys`, { scopes: ['sites:read'], rateLimitPerMinute });
      expect(r.statusCode).toBe(400);
    }
    expect((await as(admin, 'DELETE', `/api/devconsole/apps/${app.id}`)).statusCode).toBe(204);
    expect((await as(admin, 'GET', `/api/devconsole/apps/${app.id}`)).statusCode).toBe(404);
    expect((await as(admin, 'POST', `/api/devconsole/apps/${app.id}/keys`, { scopes: ['sites:read'] })).statusCode).toBe(404);
    expect((await as(admin, 'GET', '/api/devconsole/apps?limit=500')).json().items.map((a: AppBody) => a.id)).not.toContain(app.id);
  });

  it('a Developer cannot give a key a scope they do not hold (403 scope_not_held), nor rotate one that has it; an OrgAdmin can', async () => {
    const dev = await addUser(t.app, admin.orgId, ['Developer']);
    const app = await newApp(dev, { name: 'Dev app' });
    const refused = await as(dev, 'POST', `/api/devconsole/apps/${app.id}/keys`, { scopes: ['sites:read', 'passes:issue'] });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('scope_not_held');
    expect(refused.json().error.message).toContain('passes:issue');
    expect(await keysOf(app.id, dev)).toEqual([]);
    const own = await newKey(app.id, ['sites:read', 'gates:read'], {}, dev);
    expect(own.scopes).toEqual(['sites:read', 'gates:read']);
    // The OrgAdmin holds passes:issue and may give it, on the Developer's application too…
    const strong = await newKey(app.id, ['passes:issue'], {}, admin);
    // …but rotating shows the new key to whoever rotates: a Developer may not.
    const rotate = await as(dev, 'POST', `/api/devconsole/apps/${app.id}/keys/${strong.id}/rotate`, { graceSeconds: 60 });
    expect(rotate.statusCode).toBe(403);
    expect(rotate.json().error.code).toBe('scope_not_held');
    // Revoking takes nothing from anyone: allowed.
    expect((await as(dev, 'DELETE', `/api/devconsole/apps/${app.id}/keys/${strong.id}`)).statusCode).toBe(204);
    // The Developer's own key works within its scopes.
    expect((await withKey(own.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    expect((await withKey(own.key, 'GET', '/api/admin/passes')).statusCode).toBe(403);
  });

  it('a sandbox application gets ghk_test_ keys acting in its sandbox organisation, with any scope even for a Developer', async () => {
    const dev = await addUser(t.app, admin.orgId, ['Developer']);
    const app = await newApp(dev, { name: 'Sandbox app', sandbox: true });
    expect(app.sandbox).toBe(true);
    expect(app.actsInOrgId).not.toBe(admin.orgId);
    const k = await newKey(app.id, ['passes:issue', 'passes:read', 'sites:read'], {}, dev);
    expect(k.key).toMatch(/^ghk_test_/);
    const sites = await withKey(k.key, 'GET', '/api/admin/sites');
    expect(sites.statusCode).toBe(200);
    const siteIds = sites.json().items.map((s: { id: string; orgId: string }) => s.orgId);
    expect(siteIds).not.toContain(admin.orgId);
    expect(sites.body).not.toContain(topo.site.id);
    expect((await withKey(k.key, 'GET', `/api/admin/sites/${topo.site.id}`)).statusCode).toBe(404);
  });
});

describe('a key as a bearer token', () => {
  it('with passes:issue it issues a pass, audited as the application; without it, 403', async () => {
    const app = await newApp(admin, { name: 'Front desk kiosk' });
    const k = await newKey(app.id, ['passes:issue', 'passes:read']);
    const issued = await withKey(k.key, 'POST', '/api/admin/passes', passBody());
    expect(issued.statusCode, issued.body).toBe(201);
    const passId = issued.json().id as string;
    // Without appointments:any it reads passes as a host with no meetings would: none, its own included.
    expect((await withKey(k.key, 'GET', `/api/admin/passes/${passId}`)).statusCode).toBe(404);
    const reader = await newKey(app.id, ['passes:read', 'appointments:any']);
    expect((await withKey(reader.key, 'GET', `/api/admin/passes/${passId}`)).statusCode).toBe(200);

    // The rows it wrote name no user; the audit row names the application.
    const [pass] = await t.app.ctx.db.select().from(visitPasses).where(eq(visitPasses.id, passId));
    expect(pass!.createdBy).toBeNull();
    const [row] = await t.app.ctx.db.select().from(auditLogs).where(eq(auditLogs.entityId, passId));
    expect(row).toMatchObject({ action: 'pass.issue', actorId: null, actorAppId: app.id, orgId: admin.orgId });
    // The audit list says who: the application, by name.
    const listed = await as(admin, 'GET', `/api/admin/audit-logs?entityId=${passId}`);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items[0]).toMatchObject({
      actorId: null,
      actorAppId: app.id,
      actor: { type: 'application', id: app.id, name: 'Front desk kiosk' },
    });
    const byApp = (await as(admin, 'GET', `/api/admin/audit-logs?actorAppId=${app.id}`)).json().items;
    expect(byApp.map((a: { action: string }) => a.action)).toEqual(['pass.issue']);
    // A user's rows keep their shape, with the actor said the same way (named, for a reader of users).
    const mine = (await as(admin, 'GET', `/api/admin/audit-logs?actorId=${admin.userId}&limit=1`)).json().items[0];
    expect(mine).toMatchObject({
      actorId: admin.userId,
      actorAppId: null,
      actor: { type: 'user', id: admin.userId, name: 'Test OrgAdmin', email: admin.email },
    });

    // A key without passes:issue is refused like a user without it.
    const readOnly = await newKey(app.id, ['passes:read']);
    const refused = await withKey(readOnly.key, 'POST', '/api/admin/passes', passBody());
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('forbidden');
    expect((await withKey(readOnly.key, 'GET', '/api/admin/passes')).statusCode).toBe(200);
  });

  it('last_used_at is written on use, at most once a minute', async () => {
    const app = await newApp();
    const k = await newKey(app.id, ['sites:read']);
    const lastUsed = async () => (await t.app.ctx.db.select().from(apiKeys).where(eq(apiKeys.id, k.id)))[0]!.lastUsedAt;
    expect(await lastUsed()).toBeNull();
    expect((await withKey(k.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    const first = await lastUsed();
    expect(first).toBeInstanceOf(Date);
    expect((await keysOf(app.id))[0]!.lastUsedAt).toBe(first!.toISOString());
    for (let i = 0; i < 3; i++) expect((await withKey(k.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    expect((await lastUsed())!.getTime()).toBe(first!.getTime());
  });

  it('unknown, malformed and made-up keys are 401', async () => {
    const made = `ghk_live_${'a'.repeat(32)}`;
    for (const key of ['ghk_live_short', `${made}000000`, made + checksum(made)]) {
      const r = await withKey(key, 'GET', '/api/admin/sites');
      expect(r.statusCode, key).toBe(401);
      expect(r.json().error.code).toBe('unauthorized');
    }
  });

  it('is refused everywhere but /api/admin: the console, /api/auth/me, the host portal, the guest API, the live feed', async () => {
    const app = await newApp();
    const k = await newKey(app.id, ['sites:read', 'checkins:read']);
    for (const [method, url] of [
      ['GET', '/api/devconsole/apps'],
      ['POST', '/api/devconsole/apps'],
      ['GET', `/api/devconsole/apps/${app.id}/keys`],
      ['GET', '/api/auth/me'],
      ['GET', '/api/host/visits'],
      ['GET', '/api/guest/pass'],
    ] as const) {
      const r = await withKey(k.key, method, url, method === 'POST' ? { name: 'x' } : undefined);
      expect(r.statusCode, `${method} ${url}`).toBe(401);
      expect(r.json().error.code, `${method} ${url}`).toBe('api_key_not_allowed_here');
    }
    // The live feed, though under /api/admin, is for people watching a console.
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const ws = new WebSocket(`ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/admin/live`);
    const closed = new Promise<[number, string]>((r) => ws.on('close', (code, reason) => r([code, reason.toString()])));
    ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: k.key })));
    expect(await closed).toEqual([4401, 'api_key_not_allowed_here']);
    // Still fine where it belongs.
    expect((await withKey(k.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
  });

  it('a key of organisation B sees nothing of organisation A: 404 on its ids, none of its rows in lists', async () => {
    const passA = (await withKey((await newKey((await newApp()).id, ['passes:issue'])).key, 'POST', '/api/admin/passes', passBody())).json()
      .id as string;
    const appA = await newApp();
    const keyA = await newKey(appA.id, ['sites:read']);
    const adminB = await createOrgWithUser(t.app, 'Keys Org B', ['OrgAdmin']);
    await seedTopology(t.app, adminB);
    const appB = await newApp(adminB, { name: 'B app' });
    const everything = [
      'sites:read',
      'zones:read',
      'gates:read',
      'rules:read',
      'visitors:read',
      'passes:read',
      'appointments:read',
      'appointments:any',
      'checkins:read',
      'audit:read',
      'users:read',
    ];
    const keyB = (await newKey(appB.id, everything, {}, adminB)).key;
    for (const url of [
      `/api/admin/passes/${passA}`,
      `/api/admin/visitors/${topo.visitor.id}`,
      `/api/admin/sites/${topo.site.id}`,
      `/api/admin/gates/${topo.gate.id}`,
      `/api/admin/access-rules/${topo.rule.id}`,
      `/api/admin/users/${admin.userId}`,
    ]) {
      const r = await withKey(keyB, 'GET', url);
      expect(r.statusCode, url).toBe(404);
    }
    const ours = [passA, topo.visitor.id, topo.site.id, topo.gate.id, topo.rule.id, admin.userId, admin.orgId, appA.id];
    for (const url of [
      '/api/admin/passes',
      '/api/admin/visitors',
      '/api/admin/sites',
      '/api/admin/gates',
      '/api/admin/users',
      '/api/admin/audit-logs',
      '/api/admin/checkins',
    ]) {
      const r = await withKey(keyB, 'GET', `${url}?limit=500`);
      expect(r.statusCode, url).toBe(200);
      for (const id of ours) expect(r.body, `${url} leaks ${id}`).not.toContain(id);
    }
    // Nor does B's console reach A's applications and keys.
    for (const [method, url] of [
      ['GET', `/api/devconsole/apps/${appA.id}`],
      ['PATCH', `/api/devconsole/apps/${appA.id}`],
      ['DELETE', `/api/devconsole/apps/${appA.id}`],
      ['GET', `/api/devconsole/apps/${appA.id}/keys`],
      ['POST', `/api/devconsole/apps/${appA.id}/keys`],
      ['DELETE', `/api/devconsole/apps/${appA.id}/keys/${keyA.id}`],
      ['POST', `/api/devconsole/apps/${appA.id}/keys/${keyA.id}/rotate`],
      ['DELETE', `/api/devconsole/apps/${appB.id}/keys/${keyA.id}`],
    ] as const) {
      const payload =
        method === 'PATCH' ? { name: 'x' } : method === 'POST' ? (url.endsWith('/keys') ? { scopes: ['sites:read'] } : {}) : undefined;
      const r = await as(adminB, method, url, payload);
      expect(r.statusCode, `${method} ${url}`).toBe(404);
    }
    const listB = (await as(adminB, 'GET', '/api/devconsole/apps?limit=500')).body;
    expect(listB).not.toContain(appA.id);
    // A's key still works: nothing above touched it.
    expect((await withKey(keyA.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
  });

  it('without appointments:any a key reaches what a host with no meetings does: no appointments, visitors or passes', async () => {
    const app = await newApp();
    const k = await newKey(app.id, ['appointments:read', 'visitors:read', 'visitors:write', 'passes:read']);
    for (const url of ['/api/admin/appointments', '/api/admin/visitors', '/api/admin/passes']) {
      const r = await withKey(k.key, 'GET', `${url}?limit=500`);
      expect(r.statusCode, url).toBe(200);
      expect(r.json().items, url).toEqual([]);
    }
    expect((await withKey(k.key, 'GET', `/api/admin/visitors/${topo.visitor.id}`)).statusCode).toBe(404);
    // What it registers is not "its own" either (its rows have no creator): no key reads back through another's registration.
    const v = await withKey(k.key, 'POST', '/api/admin/visitors', { fullName: 'Registered by a key' });
    expect(v.statusCode, v.body).toBe(201);
    expect((await withKey(k.key, 'GET', '/api/admin/visitors?limit=500')).json().items).toEqual([]);
  });
});

describe('revocation, rotation, expiry', () => {
  it('a revoked key is 401 at once, even right after a call that cached it', async () => {
    const app = await newApp();
    const k = await newKey(app.id, ['sites:read']);
    expect((await withKey(k.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    expect((await withKey(k.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    expect((await as(admin, 'DELETE', `/api/devconsole/apps/${app.id}/keys/${k.id}`)).statusCode).toBe(204);
    const r = await withKey(k.key, 'GET', '/api/admin/sites');
    expect(r.statusCode).toBe(401);
    expect((await keysOf(app.id))[0]).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
    // Again is a no-op, audited once.
    expect((await as(admin, 'DELETE', `/api/devconsole/apps/${app.id}/keys/${k.id}`)).statusCode).toBe(204);
    const audit = await t.app.ctx.db.select().from(auditLogs).where(eq(auditLogs.entityId, k.id));
    expect(audit.map((a) => a.action).sort()).toEqual(['apikey.create', 'apikey.revoke']);
  });

  it('deleting the application revokes its keys at once and disables its webhooks', async () => {
    const app = await newApp();
    const k = await newKey(app.id, ['sites:read']);
    const hookId = uuidv7();
    await t.app.ctx.db.insert(webhookEndpoints).values({
      id: hookId,
      orgId: admin.orgId,
      appId: app.id,
      eventOrgId: admin.orgId,
      url: 'https://example.org/hook',
      events: ['visitpass.issued'],
      secretEnc: 'sealed',
    });
    expect((await withKey(k.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    expect((await as(admin, 'DELETE', `/api/devconsole/apps/${app.id}`)).statusCode).toBe(204);
    expect((await withKey(k.key, 'GET', '/api/admin/sites')).statusCode).toBe(401);
    const [hook] = await t.app.ctx.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, hookId));
    expect(hook).toMatchObject({ status: 'disabled', disabledReason: 'application deleted' });
    const [key] = await t.app.ctx.db.select().from(apiKeys).where(eq(apiKeys.id, k.id));
    expect(key!.revokedAt).toBeInstanceOf(Date);
  });

  it('a rotated key: old and new both work during the grace period, the old one is 401 after it', async () => {
    const app = await newApp();
    const old = await newKey(app.id, ['sites:read', 'gates:read'], { rateLimitPerMinute: 1000 });
    expect((await withKey(old.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    const rotated = await as(admin, 'POST', `/api/devconsole/apps/${app.id}/keys/${old.id}/rotate`, { graceSeconds: 2 });
    expect(rotated.statusCode, rotated.body).toBe(201);
    const fresh = rotated.json() as NewKeyBody;
    expect(fresh.key).not.toBe(old.key);
    expect(fresh).toMatchObject({ scopes: ['sites:read', 'gates:read'], rateLimitPerMinute: 1000 });
    const rotatedAt = Date.now();
    expect((await withKey(old.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    expect((await withKey(fresh.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    const byId = Object.fromEntries((await keysOf(app.id)).map((k) => [k.id, k]));
    expect(byId[old.id]).toMatchObject({ status: 'expiring', expiresAt: expect.any(String) });
    expect(byId[fresh.id]).toMatchObject({ status: 'active', expiresAt: null, rotatedFrom: old.id });
    // An expiring key is not rotated again (its successor is).
    expect((await as(admin, 'POST', `/api/devconsole/apps/${app.id}/keys/${old.id}/rotate`, {})).statusCode).toBe(409);
    // Kept warm in the cache right up to the end: the cache honours the key's end too.
    await until(async () => (await withKey(old.key, 'GET', '/api/admin/sites')).statusCode === 401, 'the old key to expire', 5000);
    expect(Date.now() - rotatedAt).toBeGreaterThanOrEqual(1900);
    expect((await withKey(fresh.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    expect((await keysOf(app.id)).find((k) => k.id === old.id)!.status).toBe('expired');
    // Default grace: a day.
    const again = (await as(admin, 'POST', `/api/devconsole/apps/${app.id}/keys/${fresh.id}/rotate`, {})).json() as NewKeyBody;
    const exp = (await keysOf(app.id)).find((k) => k.id === fresh.id)!.expiresAt!;
    expect(Math.abs(new Date(exp).getTime() - Date.now() - 86_400_000)).toBeLessThan(60_000);
    expect((await withKey(again.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
  });

  it('an expired key is 401', async () => {
    const app = await newApp();
    const k = await newKey(app.id, ['sites:read']);
    await t.app.ctx.db
      .update(apiKeys)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiKeys.id, k.id));
    expect((await withKey(k.key, 'GET', '/api/admin/sites')).statusCode).toBe(401);
    expect((await keysOf(app.id))[0]!.status).toBe('expired');
  });
});

describe('per-key rate limit', () => {
  it('the 4th call of a 3-a-minute key is 429 with RateLimit-* and Retry-After; another key of the app is not affected', async () => {
    const app = await newApp();
    const limited = await newKey(app.id, ['sites:read'], { rateLimitPerMinute: 3 });
    const other = await newKey(app.id, ['sites:read']);
    for (let i = 0; i < 3; i++) {
      const r = await withKey(limited.key, 'GET', '/api/admin/sites');
      expect(r.statusCode).toBe(200);
      expect(r.headers['ratelimit-limit']).toBe('3');
      expect(r.headers['ratelimit-remaining']).toBe(String(2 - i));
    }
    const r = await withKey(limited.key, 'GET', '/api/admin/sites');
    expect(r.statusCode).toBe(429);
    expect(r.json().error.code).toBe('rate_limited');
    expect(r.headers['ratelimit-limit']).toBe('3');
    expect(r.headers['ratelimit-remaining']).toBe('0');
    expect(Number(r.headers['ratelimit-reset'])).toBeGreaterThan(0);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect((await withKey(other.key, 'GET', '/api/admin/sites')).statusCode).toBe(200);
    // Nor is the person who made the key.
    expect((await as(admin, 'GET', '/api/admin/sites')).statusCode).toBe(200);
  });
});

describe('another instance on the same database', () => {
  let second: App;
  let secondDb: Database | null = null;

  beforeAll(async () => {
    // PostgreSQL: another pool, as another process would have; PGlite: the one in-process database, shared.
    secondDb = onPostgres ? await openDatabase({ databaseUrl: t.db.url, dataDir: null, poolSize: 3 }) : null;
    // A minute-long cache: only the NOTIFY can make it forget a key in time.
    second = await buildApp(testConfig({ masterKey: t.app.ctx.config.masterKey, authCacheMs: 60_000 }), {
      database: secondDb ?? t.db.database,
      migrate: false,
      logger: false,
    });
    await second.ready();
  });
  afterAll(async () => {
    await second?.close();
    await secondDb?.close();
  });

  it('a key revoked on one instance is refused by the other at once, though the other had just cached it', async () => {
    const app = await newApp();
    const k = await newKey(app.id, ['sites:read']);
    const other = await newKey(app.id, ['sites:read']);
    expect((await withKey(k.key, 'GET', '/api/admin/sites', undefined, second)).statusCode).toBe(200);
    expect((await withKey(other.key, 'GET', '/api/admin/sites', undefined, second)).statusCode).toBe(200);
    expect((await as(admin, 'DELETE', `/api/devconsole/apps/${app.id}/keys/${k.id}`)).statusCode).toBe(204);
    const revokedAt = Date.now();
    await until(
      async () => (await withKey(k.key, 'GET', '/api/admin/sites', undefined, second)).statusCode === 401,
      'the revocation',
      2000,
    );
    const ms = Date.now() - revokedAt;
    expect(ms).toBeLessThan(1000);
    // Only that key: the app's other key is still served (from the cache or not).
    expect((await withKey(other.key, 'GET', '/api/admin/sites', undefined, second)).statusCode).toBe(200);
    // Deleting the application reaches the other instance the same way.
    expect((await as(admin, 'DELETE', `/api/devconsole/apps/${app.id}`)).statusCode).toBe(204);
    await until(
      async () => (await withKey(other.key, 'GET', '/api/admin/sites', undefined, second)).statusCode === 401,
      'the deletion',
      2000,
    );
    console.log(`revocation seen by the other instance after ${ms} ms`);
  });
});

describe('ApiKeyCache', () => {
  const principal = (keyId: string, appId: string): Principal => ({
    userId: appId,
    orgId: 'o',
    email: '',
    roles: [],
    permissions: new Set(),
    via: 'apikey',
    sessionId: null,
    app: { id: appId, keyId, rateLimitPerMinute: null },
  });

  it('serves for its TTL and until the key ends, whichever is first', () => {
    const c = new ApiKeyCache(5000);
    c.set('h1', principal('k1', 'a'), Number.POSITIVE_INFINITY, c.generation, 1000);
    c.set('h2', principal('k2', 'a'), 2000, c.generation, 1000);
    expect(c.get('h1', 1500)?.app?.keyId).toBe('k1');
    expect(c.get('h2', 1999)?.app?.keyId).toBe('k2');
    expect(c.get('h2', 2000)).toBeNull();
    expect(c.get('h1', 6000)).toBeNull();
  });

  it('drops one key, or every key of an application, by message; a lookup begun before a drop is not cached', () => {
    const c = new ApiKeyCache(5000);
    const now = Date.now();
    c.set('h1', principal('11111111-1111-7111-8111-111111111111', 'aaaaaaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa'), Infinity, c.generation, now);
    c.set('h2', principal('22222222-2222-7222-8222-222222222222', 'aaaaaaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa'), Infinity, c.generation, now);
    c.set('h3', principal('33333333-3333-7333-8333-333333333333', 'bbbbbbbb-bbbb-7bbb-8bbb-bbbbbbbbbbbb'), Infinity, c.generation, now);
    c.onMessage('key:11111111-1111-7111-8111-111111111111');
    expect(c.get('h1', now)).toBeNull();
    expect(c.get('h2', now)).not.toBeNull();
    c.onMessage('app:aaaaaaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa');
    expect(c.get('h2', now)).toBeNull();
    expect(c.get('h3', now)).not.toBeNull();
    const before = c.generation;
    c.onMessage('garbage');
    expect(c.get('h3', now)).toBeNull();
    // A lookup that read the database before the drop does not put its (stale) answer back.
    c.set('h3', principal('33333333-3333-7333-8333-333333333333', 'b'), Infinity, before, now);
    expect(c.get('h3', now)).toBeNull();
  });

  it('last use is due once a minute per key', () => {
    const c = new ApiKeyCache(5000);
    expect(c.lastUsedDue('k', 0)).toBe(true);
    expect(c.lastUsedDue('k', 59_999)).toBe(false);
    expect(c.lastUsedDue('other', 1)).toBe(true);
    expect(c.lastUsedDue('k', 60_000)).toBe(true);
  });
});
