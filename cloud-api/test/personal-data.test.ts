/**
 * Issue 11 item 9: personal data and keys — the organisation boundary of
 * check-ins and occupancy, e-mails unique per organisation, separate subkeys,
 * personal data encrypted at rest, key rotation.
 */
import { createCipheriv, createDecipheriv, createECDH, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { type CheckinEvent, uuidv7 } from '@gatehouse/protocol';
import { eq, inArray, sql } from 'drizzle-orm';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/app.js';
import { type AppContext, createContext } from '../src/context.js';
import { hostPreferences, notifications, organizations, orgSettings, pushSubscriptions } from '../src/db/schema.js';
import { keyId, Sealer } from '../src/lib/crypto.js';
import { storeCheckins } from '../src/modules/checkins/service.js';
import { chatIdAad, hostRecipients } from '../src/modules/host/preferences.js';
import type { OrgDelivery, Rendered } from '../src/modules/notifications/channels/channel.js';
import { ENDPOINT_LOOKUP, openSubscription } from '../src/modules/notifications/channels/webpush.js';
import { notify } from '../src/modules/notifications/outbox.js';
import { notifySender } from '../src/modules/notifications/sender.js';
import { rotateKeys, sealPersonalData } from '../src/modules/orgs/personal-data.js';
import { getOrgSettings, telegramBotToken, telegramTokenAad } from '../src/modules/orgs/settings.js';
import {
  addUser,
  createOrgWithUser,
  freshDatabase,
  issuePass,
  type Login,
  login,
  seedTopology,
  startApp,
  type TestApp,
  testConfig,
  uniqueEmail,
} from './helpers.js';

const hour = 3600_000;

describe('personal data and keys', () => {
  let t: TestApp;
  let a: Login;
  let b: Login;
  let topoA: Awaited<ReturnType<typeof seedTopology>>;
  let topoB: Awaited<ReturnType<typeof seedTopology>>;
  const get = (url: string, who: Login) => t.app.inject({ method: 'GET', url, headers: who.auth });
  const post = (url: string, payload: Record<string, unknown>, who: Login) =>
    t.app.inject({ method: 'POST', url, headers: who.auth, payload });
  const issue = async (who: Login, topo: typeof topoA, extra: Record<string, unknown> = {}) => {
    const r = await post(
      '/api/admin/passes',
      {
        visitorId: topo.visitor.id,
        accessRuleId: topo.rule.id,
        type: 'multi',
        validFrom: new Date(Date.now() - hour).toISOString(),
        validTo: new Date(Date.now() + 8 * hour).toISOString(),
        ...extra,
      },
      who,
    );
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as { id: string };
  };
  const event = (gateId: string, passId: string | null, direction: 'in' | 'out', at: number): CheckinEvent => ({
    id: uuidv7(at),
    type: 'attempt',
    gateId,
    passId,
    credentialKind: passId ? 'dynamic' : 'none',
    direction,
    allow: true,
    reason: 'ok',
    occurredAt: at,
  });

  beforeAll(async () => {
    t = await startApp();
    a = await createOrgWithUser(t.app, 'Org A', ['OrgAdmin']);
    b = await createOrgWithUser(t.app, 'Org B', ['OrgAdmin']);
    topoA = await seedTopology(t.app, a);
    topoB = await seedTopology(t.app, b);
  });
  afterAll(async () => t?.close());

  it('check-in ingest never stores an event against a pass of another organisation', async () => {
    const foreign = await issue(b, topoB, { type: 'single' });
    const own = await issue(a, topoA);
    const at = Date.now() - 5 * 60_000;
    const evs = [event(topoA.gate.id, foreign.id, 'in', at), event(topoA.gate.id, own.id, 'in', at + 1)];
    const fresh = await storeCheckins(t.app.ctx.db, { orgId: a.orgId, siteId: topoA.site.id, deviceId: 'dev-a' }, evs);
    expect(fresh.map((c) => c.passId)).toEqual([null, own.id]);
    const raw = await t.app.ctx.db.execute(sql`select pass_id from checkins where id = ${evs[0]!.id}`);
    expect(JSON.stringify(raw)).not.toContain(foreign.id);
    // B's single pass is not used up by A's gate, and B sees no check-in of it.
    expect((await get(`/api/admin/checkins?passId=${foreign.id}`, b)).json().items).toEqual([]);
    const check = await post(`/api/admin/passes/${foreign.id}/check`, { gateId: topoB.gate.id }, b);
    expect(check.json()).toEqual({ allow: true, reason: 'ok' });
  });

  it('occupancy counts only passes of the organisation, whatever a stored check-in names', async () => {
    const foreign = await issue(b, topoB);
    // A row written before ingest checked the organisation: A's site, B's pass.
    await t.app.ctx.db.execute(sql`
      insert into checkins (id, org_id, site_id, gate_id, pass_id, device_id, type, credential_kind, direction, allow, reason, occurred_at)
      values (${uuidv7()}, ${a.orgId}, ${topoA.site.id}, ${topoA.gate.id}, ${foreign.id}, 'dev-a', 'attempt', 'dynamic', 'in', true, 'ok', now())`);
    // And the presence such a row would have implied: occupancy reads pass_presence (SYNC-3), as the muster does.
    await t.app.ctx.db.execute(sql`
      insert into pass_presence (site_id, pass_id, org_id, use_count, inside_count, last_direction, last_at, last_gate_id)
      values (${topoA.site.id}, ${foreign.id}, ${a.orgId}, 1, 1, 'in', now(), ${topoA.gate.id})`);
    const occ = await get(`/api/admin/sites/${topoA.site.id}/occupancy`, a);
    expect(occ.statusCode).toBe(200);
    const body = occ.json() as { count: number; items: { passId: string; visitorName: string | null }[] };
    expect(body.items.map((i) => i.passId)).not.toContain(foreign.id);
    expect(body.count).toBe(body.items.length);
  });
});

describe('e-mails are unique per organisation', () => {
  let t: TestApp;
  let a: Login;
  let b: Login;
  beforeAll(async () => {
    t = await startApp();
    a = await createOrgWithUser(t.app, 'Mail Org A', ['OrgAdmin']);
    b = await createOrgWithUser(t.app, 'Mail Org B', ['OrgAdmin']);
  });
  afterAll(async () => t?.close());
  const addUser = (who: Login, email: string, password = 'correct horse battery') =>
    t.app.inject({
      method: 'POST',
      url: '/api/admin/users',
      headers: who.auth,
      payload: { email, fullName: 'Same Address', roles: ['Operator'], password },
    });
  const signIn = (payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload, remoteAddress: '10.77.0.1' });

  it("an admin cannot learn that an e-mail exists in another organisation; 409 only inside one's own", async () => {
    const email = uniqueEmail('shared');
    expect((await addUser(a, email)).statusCode).toBe(201);
    const inB = await addUser(b, email.toUpperCase(), 'another secret pass');
    expect(inB.statusCode, inB.body).toBe(201);
    expect((await addUser(b, email)).statusCode).toBe(409);
    // Each signs in to their own account with their own password.
    const la = await signIn({ email, password: 'correct horse battery' });
    expect(la.statusCode, la.body).toBe(200);
    expect(la.json().user.orgId).toBe(a.orgId);
    const lb = await signIn({ email, password: 'another secret pass' });
    expect(lb.statusCode, lb.body).toBe(200);
    expect(lb.json().user.orgId).toBe(b.orgId);
    expect((await signIn({ email, password: 'wrong password' })).statusCode).toBe(401);
  });

  it('the same e-mail and password in two organisations asks for the organisation, and only then', async () => {
    const email = uniqueEmail('twin');
    expect((await addUser(a, email)).statusCode).toBe(201);
    expect((await addUser(b, email)).statusCode).toBe(201);
    const r = await signIn({ email, password: 'correct horse battery' });
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe('organization_required');
    expect(r.json().error.message).toContain(a.orgId);
    expect(r.json().error.message).toContain(b.orgId);
    const inB = await signIn({ email, password: 'correct horse battery', organizationId: b.orgId });
    expect(inB.statusCode, inB.body).toBe(200);
    expect(inB.json().user.orgId).toBe(b.orgId);
    expect((await signIn({ email, password: 'wrong', organizationId: b.orgId })).statusCode).toBe(401);
  });
});

describe('separate HKDF subkeys of the master key', () => {
  const master = Buffer.alloc(32, 7);
  const hkdf = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.from('gatehouse/hkdf/v2'), info, 32));
  const oldHmac = (label: string) => createHmac('sha256', master).update(label).digest();

  it('JWTs are signed with the HKDF jwt subkey, not the data key nor the old HMAC derivation', async () => {
    const ctx = await createContext(testConfig({ masterKey: master }), { database: (await freshDatabase()).database, migrate: true });
    try {
      const token = await ctx.tokens.signAccess({ sub: 'u', org: 'o', sid: 's' });
      const jwtKey = hkdf('gatehouse/jwt-signing/v2');
      await expect(jwtVerify(token, jwtKey)).resolves.toBeTruthy();
      await expect(jwtVerify(token, oldHmac('gatehouse/jwt/v1'))).rejects.toThrow();
      await expect(jwtVerify(token, hkdf('gatehouse/data-encryption/v2'))).rejects.toThrow();
      // The data key is another subkey: a value sealed now does not open with the JWT key.
      const sealed = ctx.sealer.seal('secret', 'x');
      const [, iv, tag, ct] = sealed.split('.');
      const tryOpen = (key: Buffer) => {
        const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64url'));
        d.setAAD(Buffer.from('x'));
        d.setAuthTag(Buffer.from(tag!, 'base64url'));
        return Buffer.concat([d.update(Buffer.from(ct!, 'base64url')), d.final()]).toString();
      };
      expect(tryOpen(hkdf('gatehouse/data-encryption/v2'))).toBe('secret');
      expect(() => tryOpen(jwtKey)).toThrow();
      expect(() => tryOpen(oldHmac('gatehouse/at-rest/v1'))).toThrow();
    } finally {
      await ctx.database.close();
    }
  });

  it('values sealed with the old derivation (v1) still open', () => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', oldHmac('gatehouse/at-rest/v1'), iv);
    c.setAAD(Buffer.from('visitors.phone:1'));
    const ct = Buffer.concat([c.update('+7 900', 'utf8'), c.final()]);
    const v1 = `v1.${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`;
    const s = new Sealer(master);
    expect(s.open(v1, 'visitors.phone:1')).toBe('+7 900');
    expect(s.isCurrent(v1)).toBe(false);
    const again = s.reseal(v1, 'visitors.phone:1');
    expect(again.startsWith(`v2-${s.keyId}.`)).toBe(true);
    expect(s.open(again, 'visitors.phone:1')).toBe('+7 900');
  });
});

describe('names, e-mails and companies are sealed at rest', () => {
  let t: TestApp;
  let admin: Login;
  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Sealed Org', ['OrgAdmin']);
  });
  afterAll(async () => t?.close());

  it('the raw rows of users and visitors hold no plaintext name, e-mail or company; the API shows them in clear', async () => {
    const email = uniqueEmail('Zinaida.Sealed').replace('zinaida', 'Zinaida');
    const u = await t.app.inject({
      method: 'POST',
      url: '/api/admin/users',
      headers: admin.auth,
      payload: { email, fullName: 'Zinaida Sealedova', roles: ['Host'], password: 'a secret password' },
    });
    expect(u.statusCode, u.body).toBe(201);
    const v = await t.app.inject({
      method: 'POST',
      url: '/api/admin/visitors',
      headers: admin.auth,
      payload: { fullName: 'Ivan Hiddenov', email: 'ivan.hidden@example.test', company: 'Secretive LLC' },
    });
    expect(v.statusCode, v.body).toBe(201);
    const rawUsers = JSON.stringify(await t.app.ctx.db.execute(sql`select * from users`)).toLowerCase();
    expect(rawUsers).not.toContain(email.toLowerCase());
    expect(rawUsers).not.toContain('sealedova');
    expect(rawUsers).not.toContain(admin.email.toLowerCase());
    const rawAudit = JSON.stringify(await t.app.ctx.db.execute(sql`select * from audit_logs`)).toLowerCase();
    expect(rawAudit).not.toContain(email.toLowerCase());
    const rawVisitors = JSON.stringify(await t.app.ctx.db.execute(sql`select * from visitors`)).toLowerCase();
    expect(rawVisitors).not.toContain('hiddenov');
    expect(rawVisitors).not.toContain('ivan.hidden');
    expect(rawVisitors).not.toContain('secretive');
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/users/${u.json().id}`, headers: admin.auth })).json()).toMatchObject({
      email: email.toLowerCase(),
      fullName: 'Zinaida Sealedova',
    });
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/visitors/${v.json().id}`, headers: admin.auth })).json()).toMatchObject({
      fullName: 'Ivan Hiddenov',
      email: 'ivan.hidden@example.test',
      company: 'Secretive LLC',
    });
    // Sign-in finds the account by the keyed hash, whatever the case of the address.
    const li = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: email.toUpperCase(), password: 'a secret password' },
      remoteAddress: '10.78.0.1',
    });
    expect(li.statusCode, li.body).toBe(200);
    expect(li.json().user.email).toBe(email.toLowerCase());
  });

  it('rows written in plaintext before are sealed at start, and still sign in', async () => {
    const id = uuidv7();
    const email = uniqueEmail('legacy');
    const vid = uuidv7();
    await t.app.ctx.db.execute(sql`
      insert into users (id, org_id, email, full_name, password_hash) values
        (${id}, ${admin.orgId}, ${email}, 'Legacy Plainov', ${await t.app.ctx.passwords.hash('legacy password')})`);
    await t.app.ctx.db.execute(sql`
      insert into visitors (id, org_id, full_name, email, company) values (${vid}, ${admin.orgId}, 'Old Visitorov', 'old@example.test', 'Old Co')`);
    const n = await sealPersonalData(t.app.ctx.db, t.app.ctx.sealer);
    expect(n).toBeGreaterThanOrEqual(2);
    expect(await sealPersonalData(t.app.ctx.db, t.app.ctx.sealer)).toBe(0);
    const raw = JSON.stringify(await t.app.ctx.db.execute(sql`select * from users where id = ${id}`));
    expect(raw).not.toContain(email);
    expect(raw).not.toContain('Plainov');
    const rawV = JSON.stringify(await t.app.ctx.db.execute(sql`select * from visitors where id = ${vid}`));
    expect(rawV).not.toContain('Visitorov');
    expect(rawV).not.toContain('Old Co');
    // Found by name once sealed (the hashes of its words were made from the plaintext on the way).
    const byName = async (q: string) =>
      (
        (await t.app.inject({ url: `/api/admin/visitors?q=${encodeURIComponent(q)}`, headers: admin.auth })).json() as {
          items: { id: string }[];
        }
      ).items.map((x) => x.id);
    expect(await byName('old visitorov')).toEqual([vid]);
    // A row sealed before names were searchable (migration 0026) gets its word hashes at the next start.
    await t.app.ctx.db.execute(sql`update visitors set name_tokens = null where id = ${vid}`);
    expect(await byName('visitorov')).toEqual([]);
    expect(await sealPersonalData(t.app.ctx.db, t.app.ctx.sealer)).toBe(1);
    expect(await byName('visitorov')).toEqual([vid]);
    // The same for staff: found by name once sealed; a user sealed before migration 0028 is hashed at the next start.
    const userByName = async (q: string) =>
      (
        (await t.app.inject({ url: `/api/admin/users?q=${encodeURIComponent(q)}`, headers: admin.auth })).json() as {
          items: { id: string; fullName: string }[];
        }
      ).items;
    expect(await userByName('legacy plainov')).toMatchObject([{ id, fullName: 'Legacy Plainov' }]);
    await t.app.ctx.db.execute(sql`update users set name_tokens = null where id = ${id}`);
    expect(await userByName('plainov')).toEqual([]);
    expect(await sealPersonalData(t.app.ctx.db, t.app.ctx.sealer)).toBe(1);
    expect(await userByName('plainov')).toMatchObject([{ id, fullName: 'Legacy Plainov' }]);
    const li = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email, password: 'legacy password' },
      remoteAddress: '10.78.0.2',
    });
    expect(li.statusCode, li.body).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/visitors/${vid}`, headers: admin.auth })).json()).toMatchObject({
      fullName: 'Old Visitorov',
      email: 'old@example.test',
      company: 'Old Co',
    });
  });
  it('the start-up backfill writes a batch of rows per statement, not a statement per row', async () => {
    // 450 visitors in plaintext (before migration 0010) and 450 sealed without name hashes (before 0026).
    const plain = Array.from({ length: 450 }, () => uuidv7());
    const unhashed = Array.from({ length: 450 }, () => uuidv7());
    await t.app.ctx.db.execute(sql`
      insert into visitors (id, org_id, full_name, email)
      select u.id, ${admin.orgId}, 'Batch Plainov ' || u.n, 'batch' || u.n || '@example.test'
      from unnest(${sql.param(plain)}::uuid[]) with ordinality as u(id, n)`);
    await sealPersonalData(t.app.ctx.db, t.app.ctx.sealer);
    await t.app.ctx.db.execute(sql`
      insert into visitors (id, org_id, full_name_enc)
      select u.id, ${admin.orgId}, u.enc from unnest(${sql.param(unhashed)}::uuid[], ${sql.param(unhashed.map((id) => t.app.ctx.sealer.seal('Batch Sealova', `visitors.full_name:${id}`)))}::text[]) as u(id, enc)`);
    await t.app.ctx.db.execute(
      sql`update visitors set full_name = 'Batch Again', full_name_enc = null where id = any(${sql.param(plain)}::uuid[])`,
    );
    // Every statement the backfill sends, counted by wrapping the executor it is given.
    let writes = 0;
    const db = t.app.ctx.db;
    const counting = new Proxy(db, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop === 'update' || prop === 'execute')
          return (...args: unknown[]) => {
            writes++;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    expect(await sealPersonalData(counting, t.app.ctx.sealer)).toBe(900);
    // 200 rows a batch: 3 statements for each kind of row, where there were 900.
    expect(writes).toBeLessThanOrEqual(6);
    expect(await sealPersonalData(t.app.ctx.db, t.app.ctx.sealer)).toBe(0);
    const rows = (await t.app.ctx.db.execute(sql`
      select count(*) filter (where name_tokens is not null and full_name_enc is not null)::int as n,
             count(*) filter (where full_name is not null or email is not null)::int as plain
      from visitors where id = any(${sql.param([...plain, ...unhashed])}::uuid[])`)) as unknown as { rows: unknown[] };
    expect(rows.rows[0]).toEqual({ n: 900, plain: 0 });
    // Every start looks for such rows again: through the partial index of them (migration 0027), not a scan of all.
    await t.app.ctx.db.execute(sql`analyze visitors`);
    const plan = JSON.stringify(
      await t.app.ctx.db.execute(sql`explain select id from visitors
        where (email_enc is not null and email_hash is null) or (phone_enc is not null and phone_hash is null)
           or (full_name_enc is not null and name_tokens is null) order by id limit 200`),
    );
    expect(plan).toContain('visitors_unsealed_idx');
    const found = (
      (await t.app.inject({ url: '/api/admin/visitors?limit=200&q=batch%20sealova', headers: admin.auth })).json() as {
        items: { id: string; fullName: string }[];
      }
    ).items;
    expect(found).toHaveLength(200);
    expect(found.every((x) => unhashed.includes(x.id) && x.fullName === 'Batch Sealova')).toBe(true);
    const again = (await t.app.inject({ url: `/api/admin/visitors/${plain[7]}`, headers: admin.auth })).json() as {
      fullName: string;
      email: string;
    };
    expect(again).toMatchObject({ fullName: 'Batch Again', email: 'batch8@example.test' });
  });
});

describe('master key rotation (GATEHOUSE_MASTER_KEY_PREVIOUS + rotate-keys)', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  let t: TestApp;
  let admin: Login;
  let visitorId: string;
  let passId: string;
  let host: Login;
  let queuedId: string;
  let subA: string;
  const BOT_TOKEN = '123456789:AAH-rotation_test_token';
  const CHAT_ID = '987654321';
  const ENDPOINT_A = 'https://push.example.test/send/made-under-key-a';
  const ENDPOINT_B = 'https://push.example.test/send/made-under-key-b';
  /** A browser's subscription as PushManager gives it (a real P-256 point and auth secret), registered by `who`. */
  const subscribe = async (app: App, who: Login, endpoint: string) => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const r = await app.inject({
      method: 'POST',
      url: '/api/host/push/subscriptions',
      headers: who.auth,
      payload: { endpoint, keys: { p256dh: ecdh.getPublicKey('base64url', 'uncompressed'), auth: randomBytes(16).toString('base64url') } },
    });
    expect(r.statusCode, r.body).toBe(201);
    return (r.json() as { id: string }).id;
  };
  const apps: App[] = [];
  const appWith = async (overrides: Parameters<typeof testConfig>[0]) => {
    const app = await buildApp(testConfig(overrides), { database: t.db.database, migrate: false, logger: false });
    await app.ready();
    apps.push(app);
    return app;
  };
  beforeAll(async () => {
    t = await startApp({ masterKey: keyA });
    admin = await createOrgWithUser(t.app, 'Rotating Org', ['OrgAdmin']);
    const topo = await seedTopology(t.app, admin);
    visitorId = topo.visitor.id;
    passId = (await issuePass(t.app, admin, { visitorId, accessRuleId: topo.rule.id })).id;

    // The visitor journey's sealed columns, all under key A: a message still queued (never handed to the
    // job queue, so nothing sends it before the rotation), the organisation's bot token, a host's linked
    // Telegram chat and a browser's push subscription.
    const ctxA = t.app.ctx;
    const unqueued = Object.assign(Object.create(ctxA) as AppContext, { jobs: { send: async () => null } });
    queuedId = await notify(unqueued, ctxA.db, {
      orgId: admin.orgId,
      channel: 'email',
      to: 'queued.guest@example.test',
      template: 'test',
      language: 'en',
      vars: { orgName: 'Rotating Org', marker: 'sealed-before-rotation' },
    });
    await ctxA.db.insert(orgSettings).values({
      orgId: admin.orgId,
      telegramBotTokenEnc: ctxA.sealer.seal(BOT_TOKEN, telegramTokenAad(admin.orgId)),
      telegramBotUsername: 'rot_bot',
    });
    host = await addUser(t.app, admin.orgId, ['Host']);
    await ctxA.db.insert(hostPreferences).values({
      userId: host.userId,
      orgId: admin.orgId,
      channels: ['email', 'telegram', 'webpush'],
      telegramChatIdEnc: ctxA.sealer.seal(CHAT_ID, chatIdAad(host.userId)),
    });
    subA = await subscribe(t.app, host, ENDPOINT_A);
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await t?.close();
  });
  const sealedColumns = async () =>
    JSON.stringify([
      await t.app.ctx.db.execute(sql`select signing_key_enc from organizations`),
      await t.app.ctx.db.execute(sql`select totp_secret_enc from visit_passes`),
      await t.app.ctx.db.execute(sql`select email_enc, full_name_enc from users`),
      await t.app.ctx.db.execute(
        sql`select full_name_enc, email_enc, company_enc, phone_enc, document_number_enc from visitors where id = ${visitorId}`,
      ),
      await t.app.ctx.db.execute(sql`select recipient_enc, payload_enc from notifications`),
      await t.app.ctx.db.execute(sql`select telegram_bot_token_enc from org_settings`),
      await t.app.ctx.db.execute(sql`select telegram_chat_id_enc from host_preferences`),
      await t.app.ctx.db.execute(sql`select subscription_enc from push_subscriptions`),
    ]);

  it('reads data of key A under B with A as previous; after rotate-keys, under B alone; tokens of A are refused, refresh tokens survive', async () => {
    const during = await appWith({ masterKey: keyB, previousMasterKey: keyA });
    // The access token signed under A is refused: the client refreshes (the refresh token is opaque and survives).
    expect((await during.inject({ method: 'GET', url: '/api/auth/me', headers: admin.auth })).statusCode).toBe(401);
    const refreshed = await during.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: admin.refreshToken } });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const authB = { authorization: `Bearer ${refreshed.json().accessToken}` };
    const v = await during.inject({ method: 'GET', url: `/api/admin/visitors/${visitorId}`, headers: authB });
    expect(v.json()).toMatchObject({ fullName: 'Ivan Petrov', phone: '+7 900 123-45-67', company: 'ACME' });
    // Found by name through the word hashes made under A (the previous key's are searched too).
    const byName = async (app: App, auth: Record<string, string>) =>
      ((await app.inject({ url: '/api/admin/visitors?q=petrov%20ivan', headers: auth })).json() as { items: { id: string }[] }).items.map(
        (x) => x.id,
      );
    expect(await byName(during, authB)).toContain(visitorId);
    const hostByName = async (app: App, auth: Record<string, string>) =>
      ((await app.inject({ url: '/api/admin/hosts?q=test%20host', headers: auth })).json() as { items: { userId: string }[] }).items.map(
        (x) => x.userId,
      );
    expect(await hostByName(during, authB)).toEqual([host.userId]);
    expect((await login(during, admin.email, admin.password)).orgId).toBe(admin.orgId);

    // A browser subscribing during the rotation gets the new key's VAPID pair, and its row is sealed under B.
    const hostB = await login(during, host.email, host.password);
    const subB = await subscribe(during, hostB, ENDPOINT_B);

    const first = await rotateKeys(during.ctx.db, during.ctx.sealer, 1);
    expect(first.organizations).toBeGreaterThanOrEqual(1);
    expect(first.passes).toBeGreaterThanOrEqual(1);
    expect(first.users).toBeGreaterThanOrEqual(1);
    expect(first.visitors).toBeGreaterThanOrEqual(1);
    expect(first).toMatchObject({ notifications: 1, orgSettings: 1, hostPreferences: 1, pushSubscriptionsRemoved: 1 });
    expect(await rotateKeys(during.ctx.db, during.ctx.sealer)).toEqual({
      organizations: 0,
      passes: 0,
      users: 0,
      visitors: 0,
      notifications: 0,
      orgSettings: 0,
      hostPreferences: 0,
      webhookEndpoints: 0,
      pushSubscriptionsRemoved: 0,
    });
    const after = await sealedColumns();
    expect(after).not.toContain(`v2-${keyId(keyA)}.`);
    expect(after).toContain(`v2-${keyId(keyB)}.`);

    const onlyB = await appWith({ masterKey: keyB });
    const again = await login(onlyB, admin.email, admin.password);
    const v2 = await onlyB.inject({ method: 'GET', url: `/api/admin/visitors/${visitorId}`, headers: again.auth });
    expect(v2.json()).toMatchObject({ fullName: 'Ivan Petrov', phone: '+7 900 123-45-67', documentNumber: '4510 123456' });
    // Hashed again under B by the rotation.
    expect(await byName(onlyB, again.auth)).toContain(visitorId);
    expect(await hostByName(onlyB, again.auth)).toEqual([host.userId]);
    const cred = await onlyB.inject({ method: 'GET', url: `/api/admin/passes/${passId}/credential?kind=dynamic`, headers: again.auth });
    expect(cred.statusCode, cred.body).toBe(200);
    const [org] = await onlyB.ctx.db
      .select({ enc: organizations.signingKeyEnc })
      .from(organizations)
      .where(eq(organizations.id, admin.orgId));
    expect(onlyB.ctx.sealer.open(org!.enc, `organizations.signing_key:${admin.orgId}`).length).toBeGreaterThan(0);
    // Key A alone no longer opens anything.
    expect(() => new Sealer(keyA).open(org!.enc, `organizations.signing_key:${admin.orgId}`)).toThrow();

    // The message queued under A is delivered under B alone: its address and variables open, and so does the
    // organisation's bot token the sender hands every adapter.
    const sent: { to: string; message: Rendered; org: OrgDelivery }[] = [];
    const capture = { send: async (to: string, message: Rendered, o: OrgDelivery) => void sent.push({ to, message, org: o }) };
    await notifySender(onlyB.ctx, { email: capture })({ orgId: admin.orgId, id: queuedId }, { id: 'rotation', attempt: 1, final: true });
    const [msg] = await onlyB.ctx.db
      .select({ status: notifications.status, lastError: notifications.lastError })
      .from(notifications)
      .where(eq(notifications.id, queuedId));
    expect(msg, JSON.stringify(msg)).toMatchObject({ status: 'sent', lastError: null });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.to).toBe('queued.guest@example.test');
    expect(sent[0]!.org.telegramBotToken).toBe(BOT_TOKEN);
    expect(telegramBotToken(onlyB.ctx.sealer, await getOrgSettings(onlyB.ctx.db, admin.orgId))).toBe(BOT_TOKEN);

    // The host's linked chat opens; of the push subscriptions only the one made for B's VAPID key is left
    // (A's could never deliver again: the push service refuses a message signed with another key).
    expect(await hostRecipients(onlyB.ctx, onlyB.ctx.db, host.userId)).toEqual([
      { channel: 'email', to: host.email },
      { channel: 'telegram', to: CHAT_ID },
      { channel: 'webpush', to: subB },
    ]);
    expect(await openSubscription(onlyB.ctx, onlyB.ctx.db, admin.orgId, subA)).toBeNull();
    expect(await openSubscription(onlyB.ctx, onlyB.ctx.db, admin.orgId, subB)).toMatchObject({ endpoint: ENDPOINT_B });
    const found = await onlyB.ctx.db
      .select({ id: pushSubscriptions.id })
      .from(pushSubscriptions)
      .where(inArray(pushSubscriptions.endpointHash, onlyB.ctx.sealer.lookupHashes(ENDPOINT_B, ENDPOINT_LOOKUP)));
    expect(found).toEqual([{ id: subB }]);
    // The host's page says no browser of A's is subscribed any more, so they enable push again.
    const hostOnlyB = await login(onlyB, host.email, host.password);
    const prefs = await onlyB.inject({ method: 'GET', url: '/api/host/preferences', headers: hostOnlyB.auth });
    expect(prefs.statusCode, prefs.body).toBe(200);
    expect(prefs.json()).toMatchObject({ telegram: { linked: true }, push: { subscriptions: 1 } });
  });
});
