/**
 * What is written down, and what is not: sign-ins (good and bad) and
 * credential downloads land in the audit log; a failed database write never
 * puts the row's values (names, e-mails, password hashes) in the server log.
 */
import { PassThrough } from 'node:stream';
import { uuidv7 } from '@gatehouse/protocol';
import { and, count, eq, type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/app.js';
import { auditLogs, syncChanges as syncChangesTable } from '../src/db/schema.js';
import { writeAudit } from '../src/lib/audit.js';
import { errSerializer } from '../src/lib/log.js';
import { AUDIT_SEARCH_WINDOW } from '../src/modules/audit/service.js';
import { createOrgWithUser, freshDatabase, issuePass, type Login, seedTopology, type TestDb, testConfig, uniqueEmail } from './helpers.js';

describe('audit log and server log', () => {
  let db: TestDb;
  let app: App;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const lines: string[] = [];

  beforeAll(async () => {
    db = await freshDatabase();
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    app = await buildApp(testConfig({ logLevel: 'info' }), { database: db.database, migrate: false, logStream });
    await app.ready();
    admin = await createOrgWithUser(app, 'Audit Org', ['OrgAdmin']);
    topo = await seedTopology(app, admin);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const rows = (where: SQL) => app.ctx.db.select().from(auditLogs).where(where);
  const syncChanges = async () => (await app.ctx.db.select({ n: count() }).from(syncChangesTable))[0]!.n;
  const login = (email: string, password: string, ip: string) =>
    app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, remoteAddress: ip });

  it('a sign-in is audited in the user’s organisation, with the address it came from', async () => {
    const res = await login(admin.email, admin.password, '10.77.0.1');
    expect(res.statusCode).toBe(200);
    const found = await rows(and(eq(auditLogs.action, 'auth.login'), eq(auditLogs.ip, '10.77.0.1'))!);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ orgId: admin.orgId, actorId: admin.userId, entityType: 'session' });
    // Visible to the organisation's auditors through the API.
    const list = await app.inject({ method: 'GET', url: '/api/admin/audit-logs?limit=200', headers: admin.auth });
    expect((list.json() as { items: { action: string }[] }).items.map((e) => e.action)).toContain('auth.login');
  });

  it('a wrong password is audited against the account, without the password', async () => {
    const res = await login(admin.email, 'not the password at all', '10.77.0.2');
    expect(res.statusCode).toBe(401);
    const found = await rows(and(eq(auditLogs.action, 'auth.login_failed'), eq(auditLogs.ip, '10.77.0.2'))!);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ orgId: admin.orgId, actorId: null, entityType: 'user', entityId: admin.userId });
    expect(JSON.stringify(found)).not.toContain('not the password at all');
  });

  it('a failed sign-in for an unknown e-mail is audited with the address and a keyed hash, never the e-mail or the password', async () => {
    const email = uniqueEmail('nobody');
    const res = await login(email, 'guessing-this-one', '10.77.0.3');
    expect(res.statusCode).toBe(401);
    const found = await rows(and(eq(auditLogs.action, 'auth.login_failed'), eq(auditLogs.ip, '10.77.0.3'))!);
    expect(found).toHaveLength(1);
    const row = found[0]!;
    expect(row.orgId).not.toBe(admin.orgId);
    expect(row.entityId).toBeNull();
    expect(row.data?.emailHash).toMatch(/^[0-9a-f]{64}$/);
    const text = JSON.stringify(row);
    expect(text).not.toContain(email);
    expect(text).not.toContain(email.split('@')[0]);
    expect(text).not.toContain('guessing-this-one');
    // The same address hashes the same (attempts can be correlated); another one does not.
    await login(email.toUpperCase(), 'again', '10.77.0.3');
    await login(uniqueEmail('nobody'), 'again', '10.77.0.3');
    const hashes = (await rows(and(eq(auditLogs.action, 'auth.login_failed'), eq(auditLogs.ip, '10.77.0.3'))!)).map(
      (r) => r.data?.emailHash,
    );
    expect(new Set(hashes).size).toBe(2);
    // No organisation sees it.
    const list = await app.inject({ method: 'GET', url: '/api/admin/audit-logs?limit=200', headers: admin.auth });
    expect(list.body).not.toContain(String(row.data?.emailHash));
  });

  it('credential downloads (JSON and QR image) are audited, and do not make the edges resync', async () => {
    const pass = await issuePass(app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    const before = await syncChanges();
    const cred = await app.inject({ method: 'GET', url: `/api/admin/passes/${pass.id}/credential?kind=static`, headers: admin.auth });
    expect(cred.statusCode).toBe(200);
    const svg = await app.inject({ method: 'GET', url: `/api/admin/passes/${pass.id}/qr.svg`, headers: admin.auth });
    expect(svg.statusCode).toBe(200);
    const found = await rows(and(eq(auditLogs.action, 'pass.credential_read'), eq(auditLogs.entityId, pass.id))!);
    expect(found.map((r) => r.data)).toEqual(
      expect.arrayContaining([
        { kind: 'static', format: 'json' },
        { kind: 'dynamic', format: 'svg' },
      ]),
    );
    for (const r of found) expect(r).toMatchObject({ orgId: admin.orgId, actorId: admin.userId });
    expect(await syncChanges()).toBe(before);
  });

  it('names the user who acted (name and e-mail) for a caller with users:read, and only for one', async () => {
    const post = async (url: string, payload: object) => {
      const r = await app.inject({ method: 'POST', url, headers: admin.auth, payload });
      expect(r.statusCode, r.body).toBe(201);
      return r.json();
    };
    const visitor = (await post('/api/admin/visitors', { fullName: 'Audited Visitor' })) as { id: string };
    const entry = async (headers: Record<string, string>) => {
      const r = await app.inject({ url: `/api/admin/audit-logs?entityId=${visitor.id}`, headers });
      expect(r.statusCode, r.body).toBe(200);
      return (r.json() as { items: Array<{ action: string; actor: object }> }).items.find((a) => a.action === 'visitor.create');
    };
    expect((await entry(admin.auth))?.actor).toEqual({ type: 'user', id: admin.userId, name: 'Test OrgAdmin', email: admin.email });
    // A key for the audit log alone reads who acted by id only, as it reads no user.
    const reader = (await post('/api/devconsole/apps', { name: 'Audit export' })) as { id: string };
    const key = (await post(`/api/devconsole/apps/${reader.id}/keys`, { scopes: ['audit:read'] })) as { key: string };
    expect((await entry({ authorization: `Bearer ${key.key}` }))?.actor).toEqual({
      type: 'user',
      id: admin.userId,
      name: null,
      email: null,
    });
  });

  it('q searches the whole log on the server: an id, or every word in the action, the object or the details', async () => {
    const org = await createOrgWithUser(app, 'Audit Search Org', ['OrgAdmin']);
    const other = await createOrgWithUser(app, 'Audit Search Other', ['OrgAdmin']);
    const actor = { orgId: org.orgId, userId: org.userId, ip: '192.0.2.7', userAgent: null };
    const pass = uuidv7();
    const app1 = uuidv7();
    // The oldest rows: one revocation, and what an application did; then more than a page of newer rows.
    await writeAudit(app.ctx.db, actor, { action: 'pass.revoke', entityType: 'pass', entityId: pass, data: { reason: 'Lost_100% badge' } });
    await writeAudit(app.ctx.db, { ...actor, userId: null, appId: app1 }, { action: 'visitor.create', entityType: 'visitor' });
    for (let i = 0; i < 120; i++) await writeAudit(app.ctx.db, actor, { action: 'gate.update', entityType: 'gate', data: { n: i } });
    await writeAudit(
      app.ctx.db,
      { ...actor, orgId: other.orgId, userId: other.userId },
      {
        action: 'pass.revoke',
        entityType: 'pass',
        entityId: pass,
        data: { reason: 'lost' },
      },
    );
    const search = async (q: string, limit = 50) => {
      const r = await app.inject({ url: `/api/admin/audit-logs?limit=${limit}&q=${encodeURIComponent(q)}`, headers: org.auth });
      expect(r.statusCode, r.body).toBe(200);
      return (r.json() as { items: Array<{ action: string; entityId: string | null; actorAppId: string | null; orgId: string }> }).items;
    };
    const revoked = [{ action: 'pass.revoke', entityId: pass, orgId: org.orgId }];
    expect(await search('revoke')).toMatchObject(revoked);
    // Every word, in any case, anywhere in the row; `%` and `_` are themselves, not wildcards.
    expect(await search('  PASS.Revoke   lost_100% ')).toMatchObject(revoked);
    expect(await search('badge pass')).toMatchObject(revoked);
    expect(await search('revoke stolen')).toEqual([]);
    expect(await search('lost_1000')).toEqual([]);
    expect(await search('lost%badge')).toEqual([]);
    expect(await search('l_st')).toEqual([]);
    // An id: the object's history, or what the application of that id did (upper case as pasted).
    expect(await search(pass.toUpperCase())).toMatchObject(revoked);
    expect(await search(app1)).toMatchObject([{ action: 'visitor.create', actorAppId: app1 }]);
    // Pages of matches, newest first, each row once.
    const first = await search('gate.update', 100);
    expect(first).toHaveLength(100);
    const all = await app.inject({ url: '/api/admin/audit-logs?limit=100&q=gate.update', headers: org.auth });
    const next = (all.json() as { nextCursor: string }).nextCursor;
    const second = await app.inject({ url: `/api/admin/audit-logs?limit=100&q=gate.update&cursor=${next}`, headers: org.auth });
    const ids = [...first, ...(second.json() as { items: typeof first }).items].map((a) => (a as unknown as { id: string }).id);
    expect(new Set(ids).size).toBe(120);
    expect((await app.inject({ url: `/api/admin/audit-logs?q=${'x'.repeat(201)}`, headers: org.auth })).statusCode).toBe(400);
  });

  it('a word search reads the log a window at a time: a page short of matches says where to read on', async () => {
    const org = await createOrgWithUser(app, 'Audit Window Org', ['OrgAdmin']);
    const actor = { orgId: org.orgId, userId: org.userId, ip: null, userAgent: null };
    await writeAudit(app.ctx.db, actor, { action: 'pass.revoke', entityType: 'pass', data: { reason: 'needle' } });
    // A window and a half of newer rows (UUIDv7 ids of the coming seconds, as the log's own are), none of them a match.
    const newer = Math.round(AUDIT_SEARCH_WINDOW * 1.5);
    await app.ctx.db.execute(sql`
      insert into audit_logs (id, org_id, actor_id, action, entity_type, data)
      select (lpad(to_hex(${Date.now() + 1_000}::bigint + i), 12, '0') || '7000' || '8' || lpad(to_hex(i), 15, '0'))::uuid,
             ${org.orgId}, ${org.userId}, 'gate.update', 'gate', jsonb_build_object('n', i)
      from generate_series(1, ${newer}) i`);
    const search = async (cursor?: string) => {
      const r = await app.inject({
        url: `/api/admin/audit-logs?q=needle${cursor ? `&cursor=${cursor}` : ''}`,
        headers: org.auth,
      });
      expect(r.statusCode, r.body).toBe(200);
      return r.json() as { items: Array<{ action: string }>; nextCursor: string | null };
    };
    const first = await search();
    expect(first.items).toEqual([]);
    expect(first.nextCursor).not.toBeNull();
    const second = await search(first.nextCursor!);
    expect(second.items).toMatchObject([{ action: 'pass.revoke' }]);
    expect(second.nextCursor).toBeNull();
    // A word that matches the newer rows fills its page from the first window, and goes on from its last row.
    const dense = await app.inject({ url: '/api/admin/audit-logs?q=gate.update&limit=100', headers: org.auth });
    expect((dense.json() as { items: unknown[]; nextCursor: string | null }).items).toHaveLength(100);
    expect((dense.json() as { nextCursor: string | null }).nextCursor).not.toBeNull();
  }, 60_000);

  it('a failed insert logs neither the e-mail, the name nor the password hash', async () => {
    // Make the next insert into users fail inside the database, as any unexpected error would.
    await app.ctx.db.execute(
      sql.raw(`create function gh_test_refuse() returns trigger language plpgsql as $$
      begin raise exception 'refused by the test'; end $$`),
    );
    await app.ctx.db.execute(
      sql.raw('create trigger gh_test_refuse before insert on users for each row execute function gh_test_refuse()'),
    );
    const email = uniqueEmail('leak');
    const fullName = 'Zinaida Leakmeister';
    const res = await app.inject({
      method: 'POST',
      url: '/api/admin/users',
      headers: admin.auth,
      payload: { email, fullName, roles: ['Host'], password: 'a secret password' },
    });
    expect(res.statusCode).toBe(500);
    await new Promise((r) => setTimeout(r, 50));
    const failed = lines.filter((l) => l.includes('request failed'));
    expect(failed.length).toBeGreaterThan(0);
    // The log still says what went wrong…
    expect(failed.join('\n')).toContain('refused by the test');
    expect(failed.join('\n')).toContain('P0001');
    expect(failed.join('\n')).toContain('insert into');
    // …but not with what.
    const all = lines.join('\n');
    expect(all).not.toContain(email);
    expect(all).not.toContain(fullName);
    expect(all).not.toContain('$argon2');
    expect(all).not.toContain('a secret password');
  });
});

describe('log error serializer', () => {
  it('drops the values a PostgreSQL error carries in detail, where and its message, keeping code and constraint', () => {
    const pgError = Object.assign(new Error('invalid input syntax for type uuid: "alice@example.test"'), {
      code: '22P02',
      severity: 'ERROR',
      detail: 'Key (lower(email))=(alice@example.test) already exists.',
      where: "SQL function with argument 'alice@example.test'",
      constraint: 'users_email_uq',
    });
    const wrapped = Object.assign(new Error('Failed query: select 1 where x = $1\nparams: alice@example.test', { cause: pgError }), {
      query: 'select 1 where x = $1',
      params: ['alice@example.test'],
    });
    const out = errSerializer(wrapped);
    expect(JSON.stringify(out)).not.toContain('alice');
    expect(out).toMatchObject({
      message: 'Failed query: select 1 where x = $1\nparams: [redacted]',
      query: 'select 1 where x = $1',
      cause: { code: '22P02', constraint: 'users_email_uq', message: 'invalid input syntax for type uuid: "[redacted]"' },
    });
    expect(out.stack).toMatch(/^Error: Failed query: select 1 where x = \$1\nparams: \[redacted\]\n\s+at /);
  });
});
