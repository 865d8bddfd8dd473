import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from './helpers.js';

describe('sites and zones: edit and delete', () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const req = (method: 'PATCH' | 'DELETE' | 'GET', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, `sz-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
  });
  afterAll(async () => {
    await t.close();
  });

  it('renames a site and changes its time zone; an unknown zone name is refused', async () => {
    const r = await req('PATCH', `/api/admin/sites/${topo.site.id}`, { name: 'HQ North', timezone: 'Asia/Yekaterinburg' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ name: 'HQ North', timezone: 'Asia/Yekaterinburg' });
    expect((await req('PATCH', `/api/admin/sites/${topo.site.id}`, { timezone: 'Mars/Olympus' })).statusCode).toBe(422);
    expect((await req('PATCH', `/api/admin/sites/${topo.site.id}`, {})).statusCode).toBe(400);
  });

  it('refuses to delete a zone or a site that still has gates, and deletes them once empty', async () => {
    expect((await req('DELETE', `/api/admin/zones/${topo.zone.id}`)).json()).toMatchObject({ error: { code: 'conflict' } });
    expect((await req('DELETE', `/api/admin/sites/${topo.site.id}`)).statusCode).toBe(409);
    expect((await req('PATCH', `/api/admin/zones/${topo.zone.id}`, { name: 'Front lobby' })).json()).toMatchObject({ name: 'Front lobby' });
    for (const g of [topo.gate, topo.serverGate]) expect((await req('DELETE', `/api/admin/gates/${g.id}`)).statusCode).toBe(204);
    expect((await req('DELETE', `/api/admin/zones/${topo.zone.id}`)).statusCode).toBe(204);
    expect((await req('GET', `/api/admin/zones/${topo.zone.id}`)).statusCode).toBe(404);
    expect((await req('DELETE', `/api/admin/zones/${topo.otherZone.id}`)).statusCode).toBe(204);
    expect((await req('DELETE', `/api/admin/sites/${topo.site.id}`)).statusCode).toBe(204);
    expect((await req('GET', `/api/admin/sites/${topo.site.id}`)).statusCode).toBe(404);
  });
});
