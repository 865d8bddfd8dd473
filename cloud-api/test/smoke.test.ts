import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createOrgWithUser, issuePass, type Login, seedTopology, startApp, type TestApp, testConfig } from './helpers.js';

describe('cloud-api smoke', () => {
  let t: TestApp;
  let admin: Login;
  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Smoke Org', ['OrgAdmin']);
  });
  afterAll(async () => t?.close());

  it('answers health, ready, version, metrics and docs', async () => {
    expect((await t.app.inject('/api/internal/health')).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject('/api/internal/ready')).json()).toMatchObject({ status: 'ready' });
    expect((await t.app.inject('/api/internal/version')).json()).toMatchObject({ name: '@gatehouse/cloud-api' });
    const metrics = await t.app.inject('/metrics');
    expect(metrics.body).toContain('gatehouse_http_request_duration_seconds');
    const docs = await t.app.inject('/docs/json');
    expect(docs.statusCode).toBe(200);
    expect(Object.keys(docs.json().paths)).toContain('/api/admin/passes/{id}/check');
  });

  it('issues a pass and checks it at a gate', async () => {
    const topo = await seedTopology(t.app, admin);
    const now = Date.now();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/admin/passes',
      headers: admin.auth,
      payload: {
        visitorId: topo.visitor.id,
        accessRuleId: topo.rule.id,
        type: 'multi',
        validFrom: new Date(now - 60_000).toISOString(),
        validTo: new Date(now + 3600_000).toISOString(),
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const pass = res.json();
    expect(pass.status).toBe('active');
    const check = await t.app.inject({
      method: 'POST',
      url: `/api/admin/passes/${pass.id}/check`,
      headers: admin.auth,
      payload: { gateId: topo.gate.id },
    });
    expect(check.json()).toEqual({ allow: true, reason: 'ok' });
    const wrong = await t.app.inject({
      method: 'POST',
      url: `/api/admin/passes/${pass.id}/check`,
      headers: admin.auth,
      payload: { gateId: topo.serverGate.id },
    });
    expect(wrong.json()).toEqual({ allow: false, reason: 'wrong_zone' });
  });

  it('errors have the contract shape and no stack', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/api/admin/sites', headers: admin.auth, payload: { name: 'x' } });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: { code: 'validation', message: expect.any(String) } });
    const nf = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error.code).toBe('not_found');
    const broken = await t.app.inject({
      method: 'POST',
      url: '/api/admin/sites',
      headers: { ...admin.auth, 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(broken.statusCode).toBe(400);
    expect(Object.keys(broken.json())).toEqual(['error']);
    const wrongType = await t.app.inject({
      method: 'POST',
      url: '/api/admin/sites',
      headers: { ...admin.auth, 'content-type': 'text/csv' },
      payload: 'a,b',
    });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().error.code).toBe('unsupported_media_type');
    const badId = await t.app.inject({ method: 'GET', url: '/api/admin/sites/not-a-uuid', headers: admin.auth });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.code).toBe('validation');
    for (const r of [broken, wrongType, badId]) expect(r.body).not.toMatch(/\bat .*\.(js|ts):\d+/);
    const unauth = await t.app.inject({ method: 'GET', url: '/api/admin/sites' });
    expect(unauth.statusCode).toBe(401);
    expect(unauth.json().error.code).toBe('unauthorized');
  });

  it('logs carry request ids but no password, token or guest link secret', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logged = await buildApp(testConfig({ logLevel: 'info' }), { database: t.db.database, migrate: false, logStream: sink });
    await logged.ready();
    try {
      const topo = await seedTopology(t.app, admin);
      const pass = await issuePass(t.app, admin, {
        visitorId: topo.visitor.id,
        accessRuleId: topo.rule.id,
        type: 'single',
        validTo: new Date(Date.now() + 60_000),
      });
      const login = await logged.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: admin.email, password: admin.password },
        headers: { 'x-request-id': 'req-abc-1' },
      });
      expect(login.headers['x-request-id']).toBe('req-abc-1');
      const { accessToken, refreshToken } = login.json();
      await logged.inject({ method: 'GET', url: `/api/guest/pass?token=${pass.guestToken}` });
      await logged.inject({ method: 'GET', url: '/api/admin/sites', headers: { authorization: `Bearer ${accessToken}` } });
      const all = lines.join('');
      expect(all).toContain('req-abc-1');
      expect(all).toContain('/api/guest/pass?token=[redacted]');
      for (const secret of [admin.password, accessToken, refreshToken, pass.guestToken]) expect(all).not.toContain(secret);
    } finally {
      await logged.close();
    }
  });
});
