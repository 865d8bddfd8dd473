/**
 * The typed client (`@gatehouse/cloud-api/client`: openapi-typescript types of
 * the OpenAPI document, used with openapi-fetch): the committed
 * client/schema.d.ts is what the app's document generates now (else run
 * `npm run api:client`), and a client built on it signs in, creates a site,
 * issues a pass and reads it back from a listening app, every request and
 * answer typed by the generated paths (tsc checks this file).
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { paths } from '@gatehouse/cloud-api/client';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SCHEMA, generateClientSchema } from './generate-client.js';
import { createOrgWithUser, type Login, startApp, type TestApp } from './helpers.js';

describe('typed API client', () => {
  let t: TestApp;
  let admin: Login;
  let baseUrl: string;
  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Client Org', ['OrgAdmin']);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => t?.close());

  it('the committed client/schema.d.ts is what the OpenAPI document generates (else: npm run api:client)', async () => {
    const fresh = await generateClientSchema();
    const committed = readFileSync(CLIENT_SCHEMA, 'utf8');
    // Compared line by line first, so a stale file names the first route that differs rather than 14k lines.
    const a = committed.split('\n');
    const b = fresh.split('\n');
    const first = b.findIndex((line, i) => line !== a[i]);
    expect(first === -1 ? null : { line: first + 1, committed: a[first], generated: b[first] }).toBeNull();
    expect(committed).toBe(fresh);
    // Generating 20k lines of types takes openapi-typescript ~20 s on a quiet core, more on a busy CI machine.
  }, 120_000);

  it('signs in, creates a site, issues a pass and reads it, typed end to end', async () => {
    const api = createClient<paths>({ baseUrl });
    const signedIn = await api.POST('/api/auth/login', { body: { email: admin.email, password: admin.password } });
    expect(signedIn.response.status).toBe(200);
    if (!signedIn.data) throw new Error('no token pair');
    const token: string = signedIn.data.accessToken;
    api.use({
      onRequest: ({ request }) => {
        request.headers.set('authorization', `Bearer ${token}`);
        return request;
      },
    });

    const site = await api.POST('/api/admin/sites', { body: { name: 'Typed HQ', timezone: 'Europe/London' } });
    expect(site.response.status).toBe(201);
    if (!site.data) throw new Error('no site');
    const siteId: string = site.data.id;
    expect(site.data.timezone).toBe('Europe/London');

    const zone = await api.POST('/api/admin/zones', { body: { siteId, name: 'Lobby' } });
    if (!zone.data) throw new Error(`no zone: ${JSON.stringify(zone.error)}`);
    const rule = await api.POST('/api/admin/access-rules', {
      body: { name: 'Lobby, any time', zoneIds: [zone.data.id], weekdays: [], timeWindows: [] },
    });
    if (!rule.data) throw new Error(`no rule: ${JSON.stringify(rule.error)}`);
    const visitor = await api.POST('/api/admin/visitors', { body: { fullName: 'Grace Hopper', company: 'Navy' } });
    if (!visitor.data) throw new Error(`no visitor: ${JSON.stringify(visitor.error)}`);

    const validFrom = new Date();
    const issued = await api.POST('/api/admin/passes', {
      body: {
        visitorId: visitor.data.id,
        accessRuleId: rule.data.id,
        type: 'multi',
        validFrom: validFrom.toISOString(),
        validTo: new Date(validFrom.getTime() + 3600_000).toISOString(),
      },
    });
    expect(issued.response.status).toBe(201);
    if (!issued.data) throw new Error(`no pass: ${JSON.stringify(issued.error)}`);
    const guestUrl: string = issued.data.guestUrl;
    expect(guestUrl).toContain('/guest#token=');

    const read = await api.GET('/api/admin/passes/{id}', { params: { path: { id: issued.data.id } } });
    expect(read.response.status).toBe(200);
    expect(read.data).toMatchObject({ id: issued.data.id, visitorId: visitor.data.id, status: 'active', type: 'multi' });

    // Errors are typed too: the shared ErrorResponse of each documented status.
    const missing = await api.GET('/api/admin/passes/{id}', { params: { path: { id: '00000000-0000-7000-8000-000000000000' } } });
    expect(missing.response.status).toBe(404);
    const code: string | undefined = missing.error?.error.code;
    expect(code).toBe('not_found');
  });
});
