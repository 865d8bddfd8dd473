/**
 * Sign-in throttling that holds (counted atomically in the database before the
 * password check, per account+address and per address, shared by every
 * instance, delays instead of a lock a stranger can trigger), the request
 * limits of @fastify/rate-limit on refresh, enrollment, guest and the API at
 * large, and TRUST_PROXY.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/app.js';
import { type Config, ConfigError, loadConfig } from '../src/config.js';
import { sessions } from '../src/db/schema.js';
import { createOrgWithUser, freshDatabase, type Login, login, onPostgres, type TestDb, testConfig } from './helpers.js';

const LOGIN = {
  perAccountAddress: 5,
  perAddress: 20,
  perAccount: 100,
  baseDelayMs: 10_000,
  maxDelayMs: 15 * 60_000,
  windowMs: 15 * 60_000,
};

/** Counts the argon2 verifications the app makes (real and dummy). */
function countVerifications(app: App): { count: number } {
  const seen = { count: 0 };
  const p = app.ctx.passwords;
  const verify = p.verify.bind(p);
  const dummy = p.dummyVerify.bind(p);
  p.verify = async (...a: Parameters<typeof verify>) => {
    seen.count++;
    return verify(...a);
  };
  p.dummyVerify = async (...a: Parameters<typeof dummy>) => {
    seen.count++;
    return dummy(...a);
  };
  return seen;
}

const attempt = (app: App, email: string, password: string, remoteAddress: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, remoteAddress, headers });

describe('login throttling', () => {
  let db: TestDb;
  let a: App;
  let b: App;
  let user: Login;
  let verifications: { count: number };
  beforeAll(async () => {
    db = await freshDatabase();
    const config = testConfig({ loginThrottle: LOGIN });
    a = await buildApp(config, { database: db.database, migrate: false, logger: false });
    // A second instance on the same database (and master key): its own pool on PostgreSQL, the same PGlite otherwise.
    b = onPostgres
      ? await buildApp({ ...config, databaseUrl: db.url }, { migrate: false, logger: false })
      : await buildApp(config, { database: db.database, migrate: false, logger: false });
    await a.ready();
    await b.ready();
    verifications = countVerifications(a);
    user = await createOrgWithUser(a, 'Throttle Org', ['Operator']);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await db?.drop();
  });

  it('of 20 concurrent wrong passwords on one account, at most the configured 5 reach the password check', async () => {
    verifications.count = 0;
    const res = await Promise.all(Array.from({ length: 20 }, () => attempt(a, user.email, 'wrong-wrong', '198.51.100.1')));
    const codes = res.map((r) => r.statusCode);
    expect(verifications.count).toBeLessThanOrEqual(LOGIN.perAccountAddress);
    expect(codes.filter((c) => c === 401).length).toBeLessThanOrEqual(LOGIN.perAccountAddress);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(20 - LOGIN.perAccountAddress);
    const refused = res.find((r) => r.statusCode === 429)!;
    expect(refused.json().error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The delays grow: the stranger's address stays refused, even with the right password.
    expect((await attempt(a, user.email, user.password, '198.51.100.1')).statusCode).toBe(429);
  });

  it('after a stranger’s burst from another address the right password is accepted, from a new and from the usual address', async () => {
    const victim = await createOrgWithUser(a, 'Victim Org', ['Host']);
    const burst = await Promise.all(Array.from({ length: 20 }, () => attempt(a, victim.email, 'guess', '198.51.100.2')));
    expect(burst.some((r) => r.statusCode === 429)).toBe(true);
    expect((await attempt(a, victim.email, victim.password, '203.0.113.50')).statusCode).toBe(200);
    // The helper signed the victim in from 10.9.x.y: that address too.
    expect((await login(a, victim.email, victim.password)).accessToken).toBeTruthy();
  });

  it('unknown accounts are throttled the same way (no enumeration by the answer)', async () => {
    verifications.count = 0;
    const res = await Promise.all(Array.from({ length: 10 }, () => attempt(a, 'ghost-throttle@example.test', 'x', '198.51.100.3')));
    expect(verifications.count).toBeLessThanOrEqual(LOGIN.perAccountAddress);
    expect(res.filter((r) => r.statusCode === 429).length).toBeGreaterThanOrEqual(5);
  });

  it('one address is limited across accounts', async () => {
    const codes: number[] = [];
    for (let i = 0; i < LOGIN.perAddress + 1; i++)
      codes.push((await attempt(a, `nobody-${i}@example.test`, 'x', '198.51.100.4')).statusCode);
    expect(codes.slice(0, LOGIN.perAddress).every((c) => c === 401)).toBe(true);
    expect(codes[LOGIN.perAddress]).toBe(429);
  });

  it('two instances on one database share the count', async () => {
    const other = await createOrgWithUser(a, 'Shared Org', ['Operator']);
    const codes: number[] = [];
    for (let i = 0; i < LOGIN.perAccountAddress; i++)
      codes.push((await attempt(i % 2 ? b : a, other.email, 'wrong', '198.51.100.5')).statusCode);
    expect(codes.every((c) => c === 401)).toBe(true);
    const next = await attempt(b, other.email, 'wrong', '198.51.100.5');
    expect(next.statusCode).toBe(429);
    expect(next.headers['retry-after']).toBeDefined();
    expect((await attempt(a, other.email, 'wrong', '198.51.100.5')).statusCode).toBe(429);
  });

  it('guessing spread over many addresses is bounded per account, but not for the owner at a usual address', async () => {
    const c = await buildApp(testConfig({ loginThrottle: { ...LOGIN, perAccountAddress: 2, perAddress: 100, perAccount: 4 } }), {
      database: db.database,
      migrate: false,
      logger: false,
    });
    try {
      const owner = await createOrgWithUser(c, 'Spread Org', ['Operator']);
      // The helper signed the owner in from a 10.9.x.y address: that address is now a usual one.
      const usual = (await c.ctx.db.select({ ip: sessions.ip }).from(sessions).where(eq(sessions.userId, owner.userId)))[0]?.ip;
      expect(usual).toMatch(/^10\.9\./);
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await attempt(c, owner.email, 'guess', `198.18.0.${i + 1}`)).statusCode);
      expect(codes).toEqual([401, 401, 401, 401]);
      // Past the account's count, a new address waits, even with the right password …
      const fresh = await attempt(c, owner.email, owner.password, '198.18.1.1');
      expect(fresh.statusCode).toBe(429);
      expect(fresh.headers['retry-after']).toBeDefined();
      // … while the owner at the usual address gets in.
      expect((await attempt(c, owner.email, owner.password, usual!)).statusCode).toBe(200);
    } finally {
      await c.close();
    }
  });

  it('a success resets the account+address count', async () => {
    const u = await createOrgWithUser(a, 'Reset Org', ['Operator']);
    for (let i = 0; i < LOGIN.perAccountAddress - 1; i++) expect((await attempt(a, u.email, 'typo', '198.51.100.6')).statusCode).toBe(401);
    expect((await attempt(a, u.email, u.password, '198.51.100.6')).statusCode).toBe(200);
    for (let i = 0; i < LOGIN.perAccountAddress - 1; i++) expect((await attempt(a, u.email, 'typo', '198.51.100.6')).statusCode).toBe(401);
  });
});

describe('request limits (@fastify/rate-limit)', () => {
  let db: TestDb;
  let app: App;
  let user: Login;
  beforeAll(async () => {
    db = await freshDatabase();
    app = await buildApp(testConfig({ rateLimits: { api: 8, refresh: 3, enroll: 3, guest: 3 } }), {
      database: db.database,
      migrate: false,
      logger: false,
    });
    await app.ready();
    user = await createOrgWithUser(app, 'Limits Org', ['Operator']);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const expectLimited = (r: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, limit: number) => {
    expect(r.statusCode).toBe(429);
    expect(r.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
    expect(r.headers['ratelimit-limit']).toBe(String(limit));
    expect(r.headers['ratelimit-remaining']).toBe('0');
    expect(Number(r.headers['ratelimit-reset'])).toBeGreaterThan(0);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
  };

  it('refresh: 3 a minute per address, then 429 with the headers', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        payload: { refreshToken: 'x'.repeat(20) },
        remoteAddress: '192.0.2.1',
      });
      codes.push(r.statusCode);
      expect(r.headers['ratelimit-limit']).toBe('3');
    }
    expect(codes).toEqual([401, 401, 401]);
    const r = await app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: 'x'.repeat(20) },
      remoteAddress: '192.0.2.1',
    });
    expectLimited(r, 3);
    // Another address is not affected.
    const other = await app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: 'y'.repeat(20) },
      remoteAddress: '192.0.2.2',
    });
    expect(other.statusCode).toBe(401);
  });

  it('enrollment: 3 a minute per address, then 429', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await app.inject({
        method: 'POST',
        url: '/api/edge/enroll',
        payload: { code: `BAD-CODE-${i}` },
        remoteAddress: '192.0.2.3',
      });
      expect(r.statusCode).not.toBe(429);
    }
    expectLimited(
      await app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: 'BAD-CODE-9' }, remoteAddress: '192.0.2.3' }),
      3,
    );
  });

  it('guest routes: 3 a minute per address, then 429', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await app.inject({ method: 'GET', url: '/api/guest/pass?token=nope', remoteAddress: '192.0.2.4' });
      expect(r.statusCode).toBe(401);
    }
    expectLimited(await app.inject({ method: 'GET', url: '/api/guest/pass?token=nope', remoteAddress: '192.0.2.4' }), 3);
  });

  it('the API at large: per signed-in user wherever they call from, else per address', async () => {
    const me = (u: Login, remoteAddress: string) => app.inject({ method: 'GET', url: '/api/auth/me', headers: u.auth, remoteAddress });
    const other = await createOrgWithUser(app, 'Limits Org 2', ['Operator']);
    for (let i = 0; i < 8; i++) expect((await me(user, `192.0.2.${10 + i}`)).statusCode).toBe(200);
    expectLimited(await me(user, '192.0.2.30'), 8);
    // Another user from the same address is not affected.
    expect((await me(other, '192.0.2.17')).statusCode).toBe(200);
    // Without a principal, the address is the key.
    for (let i = 0; i < 8; i++)
      expect((await app.inject({ method: 'GET', url: '/api/internal/health', remoteAddress: '192.0.2.40' })).statusCode).toBe(200);
    expectLimited(await app.inject({ method: 'GET', url: '/api/internal/health', remoteAddress: '192.0.2.40' }), 8);
  });
});

describe('TRUST_PROXY', () => {
  it('parses false (default), true, a hop count and a list of addresses/CIDRs', () => {
    const env = (v?: string) =>
      loadConfig({ GATEHOUSE_MASTER_KEY: '00'.repeat(32), ...(v === undefined ? {} : { TRUST_PROXY: v }) }, { ephemeral: true }).trustProxy;
    expect(env()).toBe(false);
    expect(env('false')).toBe(false);
    expect(env('true')).toBe(true);
    expect(env('2')).toBe(2);
    expect(env('10.0.0.0/8, 127.0.0.1,::1')).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    expect(() => env('not an address')).toThrow(ConfigError);
    expect(() => env('10.0.0.0/99')).toThrow(ConfigError);
  });

  let db: TestDb;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => db?.drop());

  async function sessionIpWith(trustProxy: Config['trustProxy']): Promise<string | null> {
    const app = await buildApp(testConfig({ trustProxy }), { database: db.database, migrate: false, logger: false });
    try {
      const u = await createOrgWithUser(app, `Proxy Org ${JSON.stringify(trustProxy)}`, ['Operator']);
      const r = await attempt(app, u.email, u.password, '127.0.0.1', { 'x-forwarded-for': '203.0.113.9' });
      expect(r.statusCode).toBe(200);
      const [s] = await app.ctx.db
        .select({ ip: sessions.ip })
        .from(sessions)
        .where(eq(sessions.refreshHash, (await import('../src/lib/crypto.js')).sha256(r.json().refreshToken)));
      return s?.ip ?? null;
    } finally {
      await app.close();
    }
  }

  it('the X-Forwarded-For address is the client only when set', async () => {
    expect(await sessionIpWith(false)).toBe('127.0.0.1');
    expect(await sessionIpWith(true)).toBe('203.0.113.9');
    expect(await sessionIpWith(['127.0.0.1/32'])).toBe('203.0.113.9');
    expect(await sessionIpWith(['10.0.0.0/8'])).toBe('127.0.0.1');
  }, 60_000);
});
