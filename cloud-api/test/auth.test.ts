import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, createOrgWithUser, type Login, login, startApp, type TestApp } from './helpers.js';

describe('password login, refresh rotation, logout, rate limits', () => {
  let t: TestApp;
  let user: Login;
  beforeAll(async () => {
    t = await startApp();
    user = await createOrgWithUser(t.app, 'Auth Org', ['Operator']);
  });
  afterAll(async () => t?.close());

  const me = (token: string) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });
  const refresh = (refreshToken: string) => t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } });

  it('login answers the contract shape; the access token works', async () => {
    const l = await login(t.app, user.email, user.password);
    expect(l.accessToken.split('.')).toHaveLength(3);
    const r = await me(l.accessToken);
    expect(r.json()).toEqual({ id: user.userId, orgId: user.orgId, email: user.email, roles: ['Operator'], language: null });
  });

  it('a wrong password and an unknown e-mail are the same 401', async () => {
    const a = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: user.email, password: 'nope-nope' },
      remoteAddress: '10.1.0.1',
    });
    const b = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'ghost@example.test', password: 'nope-nope' },
      remoteAddress: '10.1.0.2',
    });
    expect(a.statusCode).toBe(401);
    expect(b.statusCode).toBe(401);
    expect(a.json()).toEqual(b.json());
  });

  it('refresh rotates: the new pair works, the old refresh token does not, and reusing it ends the family', async () => {
    const l = await login(t.app, user.email, user.password);
    const r1 = await refresh(l.refreshToken);
    expect(r1.statusCode).toBe(200);
    const pair = r1.json() as { accessToken: string; refreshToken: string };
    expect(pair.refreshToken).not.toBe(l.refreshToken);
    expect((await me(pair.accessToken)).statusCode).toBe(200);
    // The old token again: refused, and treated as theft, so the descendant dies too.
    expect((await refresh(l.refreshToken)).statusCode).toBe(401);
    expect((await refresh(pair.refreshToken)).statusCode).toBe(401);
    expect((await me(pair.accessToken)).statusCode).toBe(401);
  });

  it('logout revokes the session: its access and refresh tokens stop working', async () => {
    const l = await login(t.app, user.email, user.password);
    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: l.auth });
    expect(out.statusCode).toBe(204);
    expect((await me(l.accessToken)).statusCode).toBe(401);
    expect((await refresh(l.refreshToken)).statusCode).toBe(401);
    // Another session of the same user is untouched.
    expect((await me(user.accessToken)).statusCode).toBe(200);
  });

  it('refresh tokens are stored only as hashes', async () => {
    const l = await login(t.app, user.email, user.password);
    const rows = await t.app.ctx.db.execute(sql`select refresh_hash from sessions`);
    const all = JSON.stringify(rows);
    expect(all).not.toContain(l.refreshToken);
  });

  it('after 5 attempts on one account from one address the 6th is 429; the owner elsewhere still signs in', async () => {
    const victim = await addUser(t.app, user.orgId, ['Host']);
    const email = victim.email;
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email, password: 'wrong' },
        remoteAddress: '10.2.0.1',
      });
      codes.push(r.statusCode);
    }
    expect(codes.slice(0, 5).every((c) => c === 401)).toBe(true);
    expect(codes[5]).toBe(429);
    const refused = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email, password: victim.password },
      remoteAddress: '10.2.0.1',
    });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.json().error.code).toBe('rate_limited');
    // No lock a stranger can trigger: the right password from another address is accepted (throttle.test.ts has more).
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email, password: victim.password },
      remoteAddress: '10.2.0.99',
    });
    expect(r.statusCode).toBe(200);
  });

  it('after the per-address limit (20 by default) the next attempt from that address is 429, whatever the account', async () => {
    const limit = t.app.ctx.config.loginThrottle.perAddress;
    expect(limit).toBe(20);
    const codes: number[] = [];
    for (let i = 0; i < limit + 1; i++) {
      const r = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: `nobody${i}@example.test`, password: 'x' },
        remoteAddress: '10.3.0.1',
      });
      codes.push(r.statusCode);
    }
    expect(codes).toEqual([...Array(limit).fill(401), 429]);
  });

  it('disabling a user or changing their password ends their sessions at once; a role change applies at once', async () => {
    const boss = await addUser(t.app, user.orgId, ['OrgAdmin']);
    const worker = await addUser(t.app, user.orgId, ['Operator']);
    const patch = (payload: Record<string, unknown>) =>
      t.app.inject({ method: 'PATCH', url: `/api/admin/users/${worker.userId}`, headers: boss.auth, payload });
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/audit-logs', headers: worker.auth })).statusCode).toBe(403);
    expect((await patch({ roles: ['SecurityOfficer'] })).json()).toMatchObject({ roles: ['SecurityOfficer'] });
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/audit-logs', headers: worker.auth })).statusCode).toBe(200);
    expect((await patch({ status: 'disabled' })).json()).toMatchObject({ status: 'disabled' });
    expect((await me(worker.accessToken)).statusCode).toBe(401);
    expect((await refresh(worker.refreshToken)).statusCode).toBe(401);
    const relogin = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: worker.email, password: worker.password },
      remoteAddress: '10.4.0.1',
    });
    expect(relogin.statusCode).toBe(401);
    await patch({ status: 'active', password: 'a brand new secret' });
    const fresh = await login(t.app, worker.email, 'a brand new secret');
    expect((await me(fresh.accessToken)).statusCode).toBe(200);
    // An OrgAdmin can neither make nor touch a PlatformAdmin, and nobody deletes themselves.
    expect((await patch({ roles: ['PlatformAdmin'] })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${boss.userId}`, headers: boss.auth })).statusCode).toBe(409);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${worker.userId}`, headers: boss.auth })).statusCode).toBe(204);
    expect((await me(fresh.accessToken)).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/users/${worker.userId}`, headers: boss.auth })).statusCode).toBe(404);
  });

  it('a garbage or foreign bearer is 401', async () => {
    expect((await me('not-a-jwt')).statusCode).toBe(401);
    const forged = new SignJWT({ org: user.orgId, sid: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'access+jwt' })
      .setSubject(user.userId)
      .setIssuer('gatehouse')
      .setExpirationTime('5m');
    expect((await me(await forged.sign(new Uint8Array(32)))).statusCode).toBe(401);
  });
});

describe('OIDC bearer tokens', () => {
  let t: TestApp;
  let issuerServer: Server;
  let issuer: string;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let user: Login;
  const audience = 'gatehouse-console';

  beforeAll(async () => {
    keys = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    issuerServer = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/realms/test/.well-known/openid-configuration')
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` }));
      else if (req.url === '/realms/test/protocol/openid-connect/certs') res.end(JSON.stringify({ keys: [jwk] }));
      else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => issuerServer.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}/realms/test`;
    t = await startApp({ oidc: { issuer, audience } });
    user = await createOrgWithUser(t.app, 'OIDC Org', ['SecurityOfficer']);
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((r) => issuerServer?.close(r));
  });

  const token = (
    claims: Record<string, unknown>,
    opts: { aud?: string; iss?: string; exp?: string; key?: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'] } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(opts.iss ?? issuer)
      .setAudience(opts.aud ?? audience)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(opts.key ?? keys.privateKey);
  const me = (tok: string) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${tok}` } });

  it('a valid token with a verified e-mail of an existing user signs that user in, with the user’s roles', async () => {
    const r = await me(await token({ email: user.email.toUpperCase(), email_verified: true, realm_access: { roles: ['PlatformAdmin'] } }));
    expect(r.statusCode).toBe(200);
    // Roles come from our users table, never from the token's claims.
    expect(r.json()).toEqual({ id: user.userId, orgId: user.orgId, email: user.email, roles: ['SecurityOfficer'], language: null });
    const audit = await t.app.inject({
      method: 'GET',
      url: '/api/admin/audit-logs',
      headers: { authorization: `Bearer ${await token({ email: user.email, email_verified: true })}` },
    });
    expect(audit.statusCode).toBe(200);
  });

  it('anything else is 401', async () => {
    const other = await generateKeyPair('RS256');
    const cases = [
      await token({ email: user.email, email_verified: false }),
      await token({ email: user.email }),
      await token({ email: 'stranger@example.test', email_verified: true }),
      await token({ email: user.email, email_verified: true }, { aud: 'someone-else' }),
      await token({ email: user.email, email_verified: true }, { iss: 'http://evil.example/realms/test' }),
      await token({ email: user.email, email_verified: true }, { exp: '-1m' }),
      await token({ email: user.email, email_verified: true }, { key: other.privateKey }),
    ];
    for (const c of cases) expect((await me(c)).statusCode).toBe(401);
  });

  it('password login keeps working beside OIDC', async () => {
    const l = await login(t.app, user.email, user.password);
    expect((await me(l.accessToken)).statusCode).toBe(200);
  });
});
