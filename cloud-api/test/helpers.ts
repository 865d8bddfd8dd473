/**
 * Each test file gets its own database: a fresh PostgreSQL database on the
 * server of DATABASE_URL (dropped afterwards), or a new in-memory PGlite.
 */
import { randomBytes } from 'node:crypto';
import { uuidv7 } from '@gatehouse/protocol';
import pg from 'pg';
import { type App, type BuildOptions, buildApp } from '../src/app.js';
import type { Role } from '../src/auth/rbac.js';
import { type Config, loadConfig } from '../src/config.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { hosts, userRoles, users } from '../src/db/schema.js';
import { sealedUser } from '../src/modules/orgs/personal-data.js';
import { createOrganization, createUser } from '../src/modules/orgs/service.js';

export const onPostgres = !!process.env.DATABASE_URL;

/**
 * Polls `fn` until it answers something truthy and returns that, or throws
 * after `ms` naming `what`. The one wait of the tests (the end-to-end tests'
 * harness re-exports it through `@gatehouse/cloud-api/testing`).
 */
export async function until<T>(fn: () => T | Promise<T>, what: string, ms = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TestDb {
  database: Database;
  url: string | null;
  drop(): Promise<void>;
}

/** A database of its own, not migrated: a new one on DATABASE_URL's server (dropped by `drop`), else in-memory PGlite. */
export async function emptyDatabase(opts: { poolSize?: number; preparedStatements?: boolean } = {}): Promise<TestDb> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const database = await openDatabase({ databaseUrl: null, dataDir: null });
    return { database, url: null, drop: () => database.close() };
  }
  const name = `gh_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  const database = await openDatabase({
    databaseUrl: u.toString(),
    dataDir: null,
    poolSize: opts.poolSize ?? 5,
    ...(opts.preparedStatements !== undefined ? { preparedStatements: opts.preparedStatements } : {}),
  });
  return {
    database,
    url: u.toString(),
    drop: async () => {
      await database.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function freshDatabase(): Promise<TestDb> {
  const db = await emptyDatabase();
  await db.database.migrate();
  return db;
}

/** Request limits high enough that no test is throttled unless it sets its own (throttle.test.ts). */
export const UNTHROTTLED: Config['rateLimits'] = { api: 1_000_000, refresh: 1_000_000, enroll: 1_000_000, guest: 1_000_000 };

/** Cheap argon2 for tests only; production keeps the defaults of config.ts. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return loadConfig(
    { GATEHOUSE_MASTER_KEY: randomBytes(32).toString('hex') },
    {
      ephemeral: true,
      overrides: {
        argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
        logLevel: 'silent',
        rateLimits: UNTHROTTLED,
        // Test files run in parallel against one external broker: each app's events and sync requests must reach
        // its own instances (its config's group), not another file's cloud that knows nothing of the device.
        mqttShareGroup: `t${randomBytes(6).toString('hex')}`,
        // Receivers are test servers on 127.0.0.1; retries come within seconds, not over a day.
        webhooks: { allowPrivateUrls: true, timeoutMs: 5_000, retryLimit: 2, retryDelayS: 1, disableAfterDays: 5 },
        // A controller's offline alarm at once, unless a test is about the grace period.
        alarms: {
          controllerOfflineSeconds: 0,
          syncLagAlertSeconds: 30,
          outboxAlarmRises: 10,
          outboxAlarmDepth: 1000,
          outboxAlarmSeconds: 300,
        },
        ...overrides,
      },
    },
  );
}

export interface TestApp {
  app: App;
  db: TestDb;
  close(): Promise<void>;
}

export async function startApp(
  overrides: Partial<Config> = {},
  opts: Pick<BuildOptions, 'liveAuthTimeoutMs' | 'sync'> = {},
): Promise<TestApp> {
  const db = await freshDatabase();
  const app = await buildApp(testConfig(overrides), { database: db.database, migrate: false, logger: false, ...opts });
  await app.ready();
  return {
    app,
    db,
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}

let n = 0;
export function uniqueEmail(tag = 'u'): string {
  return `${tag}-${Date.now().toString(36)}-${n++}@example.test`;
}

export interface Login {
  userId: string;
  orgId: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
  /** The user's host record (users with the Host role), else null. */
  hostId: string | null;
}

export async function createOrgWithUser(app: App, orgName: string, roles: Role[]): Promise<Login> {
  const org = await createOrganization(app.ctx, app.ctx.db, orgName);
  return addUser(app, org.id, roles);
}

export async function addUser(app: App, orgId: string, roles: Role[]): Promise<Login> {
  const email = uniqueEmail(roles.join('-').toLowerCase() || 'none');
  const password = 'correct horse battery';
  const u = await createUser(app.ctx, app.ctx.db, { orgId, email, fullName: `Test ${roles.join(' ')}`, roles, password });
  return { ...(await login(app, email, password)), hostId: u.hostId };
}

/**
 * Hosts without a password (nobody signs in as them), sealed as the users API seals them, in three statements
 * however many: a large organisation's staff for the lists and pickers that must not load them all.
 */
export async function seedHosts(app: App, orgId: string, names: readonly string[]): Promise<{ userId: string; hostId: string }[]> {
  const made = names.map((fullName) => ({ userId: uuidv7(), hostId: uuidv7(), fullName }));
  if (!made.length) return [];
  const { sealer, db } = app.ctx;
  await db
    .insert(users)
    .values(
      made.map((m) => ({ id: m.userId, orgId, ...sealedUser(sealer, m.userId, { email: uniqueEmail('host'), fullName: m.fullName }) })),
    );
  await db.insert(userRoles).values(made.map((m) => ({ userId: m.userId, orgId, role: 'Host' })));
  await db.insert(hosts).values(made.map((m) => ({ id: m.hostId, orgId, userId: m.userId })));
  return made.map(({ userId, hostId }) => ({ userId, hostId }));
}

export async function login(app: App, email: string, password: string): Promise<Login> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email, password },
    remoteAddress: `10.9.${n % 250}.${n++ % 250}`,
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const body = res.json() as { accessToken: string; refreshToken: string; user: { id: string; orgId: string } };
  return {
    userId: body.user.id,
    orgId: body.user.orgId,
    email,
    password,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    auth: { authorization: `Bearer ${body.accessToken}` },
    hostId: null,
  };
}

/** Site, zone, gate, rule, visitor in the org of `admin` — the fixture most tests start from. */
export async function seedTopology(app: App, admin: Login, opts: { timezone?: string } = {}) {
  const post = async (url: string, payload: Record<string, unknown>) => {
    const r = await app.inject({ method: 'POST', url, headers: admin.auth, payload });
    if (r.statusCode !== 201) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return r.json() as { id: string } & Record<string, unknown>;
  };
  const site = await post('/api/admin/sites', { name: 'HQ', timezone: opts.timezone ?? 'Europe/Moscow' });
  const zone = await post('/api/admin/zones', { siteId: site.id, name: 'Lobby' });
  const otherZone = await post('/api/admin/zones', { siteId: site.id, name: 'Server room' });
  const gate = await post('/api/admin/gates', { siteId: site.id, zoneId: zone.id, name: 'Turnstile 1', direction: 'in' });
  const serverGate = await post('/api/admin/gates', { siteId: site.id, zoneId: otherZone.id, name: 'Server door', direction: 'in' });
  const rule = await post('/api/admin/access-rules', { name: 'Always lobby', zoneIds: [zone.id], weekdays: [], timeWindows: [] });
  const visitor = await post('/api/admin/visitors', {
    fullName: 'Ivan Petrov',
    phone: '+7 900 123-45-67',
    documentNumber: '4510 123456',
    company: 'ACME',
  });
  return { site, zone, otherZone, gate, serverGate, rule, visitor };
}

/** Issues a pass through the API as `admin` (201 or it throws): a multi-entry pass valid from now for an hour unless told otherwise. */
export async function issuePass(
  app: App,
  admin: Login,
  p: { visitorId: string; accessRuleId: string; type?: 'single' | 'multi'; validFrom?: Date; validTo?: Date },
) {
  const validFrom = p.validFrom ?? new Date();
  const r = await app.inject({
    method: 'POST',
    url: '/api/admin/passes',
    headers: admin.auth,
    payload: {
      visitorId: p.visitorId,
      accessRuleId: p.accessRuleId,
      type: p.type ?? 'multi',
      validFrom: validFrom.toISOString(),
      validTo: (p.validTo ?? new Date(validFrom.getTime() + 3600_000)).toISOString(),
    },
  });
  if (r.statusCode !== 201) throw new Error(`issuePass: ${r.statusCode} ${r.body}`);
  return r.json() as { id: string; status: string; guestToken: string };
}

/** A gate's event batch stored as the cloud's MQTT link stores it (insert, presence, webhooks, journey), for benches. */
export { ingestCheckins } from '../src/modules/checkins/ingest.js';
