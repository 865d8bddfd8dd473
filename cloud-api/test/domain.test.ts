import { type CheckinEvent, KeyRing, parseCredential, uuidv7, verifyStatic } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestCheckins } from '../src/modules/checkins/ingest.js';
import { storeCheckins } from '../src/modules/checkins/service.js';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from './helpers.js';

describe('domain: passes, credentials, check, guest page, check-ins, audit, encryption', () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const get = (url: string, who: Login = admin) => t.app.inject({ method: 'GET', url, headers: who.auth });
  const post = (url: string, payload: Record<string, unknown>, who: Login = admin) =>
    t.app.inject({ method: 'POST', url, headers: who.auth, payload });
  const hour = 3600_000;
  const issue = async (extra: Record<string, unknown> = {}) => {
    const r = await post('/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - hour).toISOString(),
      validTo: new Date(Date.now() + 8 * hour).toISOString(),
      ...extra,
    });
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as { id: string; guestToken: string; guestUrl: string; status: string; validFrom: string; validTo: string };
  };

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Domain Org', ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
  });
  afterAll(async () => t?.close());

  it('refuses an unknown time zone and a zone of another site', async () => {
    const tz = await post('/api/admin/sites', { name: 'X', timezone: 'Mars/Olympus' });
    expect(tz.statusCode).toBe(422);
    const other = (await post('/api/admin/sites', { name: 'Other', timezone: 'Asia/Tokyo' })).json();
    const g = await post('/api/admin/gates', { siteId: other.id, zoneId: topo.zone.id, name: 'G', direction: 'in' });
    expect(g.statusCode).toBe(422);
  });

  it('dynamic credential: parses to this pass, and a fresh one is accepted by check', async () => {
    const p = await issue();
    const c = (await get(`/api/admin/passes/${p.id}/credential?kind=dynamic`)).json();
    const parsed = parseCredential(c.payload);
    expect(parsed).toMatchObject({ kind: 'dynamic', passId: p.id });
    expect(new Date(c.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(new Date(c.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 30_000);
  });

  it('static credential: signed by the org key, verifiable with the public key enrollment hands out', async () => {
    const p = await issue();
    const c = (await get(`/api/admin/passes/${p.id}/credential?kind=static`)).json();
    const parsed = parseCredential(c.payload);
    if (parsed.kind !== 'static') throw new Error(`expected static, got ${parsed.kind}`);
    expect(parsed.passId).toBe(p.id);
    const [org] = await t.app.ctx.db
      .execute<{ signing_public_key: string }>(sql`select signing_public_key from organizations where id = ${admin.orgId}`)
      .then((r) => (r as unknown as { rows: { signing_public_key: string }[] }).rows);
    expect(verifyStatic(parsed, new KeyRing([org!.signing_public_key]))).toBe(true);
    expect(verifyStatic(parsed, new KeyRing([Buffer.alloc(32, 7).toString('base64')]))).toBe(false);
  });

  it('refuses validity a static QR cannot carry, and backwards validity', async () => {
    expect(
      (
        await post('/api/admin/passes', {
          visitorId: topo.visitor.id,
          accessRuleId: topo.rule.id,
          type: 'single',
          validFrom: '2030-01-01T00:00:00Z',
          validTo: '2200-01-01T00:00:00Z',
        })
      ).statusCode,
    ).toBe(422);
    expect(
      (
        await post('/api/admin/passes', {
          visitorId: topo.visitor.id,
          accessRuleId: topo.rule.id,
          type: 'single',
          validFrom: '2030-01-02T00:00:00Z',
          validTo: '2030-01-01T00:00:00Z',
        })
      ).statusCode,
    ).toBe(422);
  });

  it('qr.svg is an SVG', async () => {
    const p = await issue();
    const r = await get(`/api/admin/passes/${p.id}/qr.svg?kind=static`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('image/svg+xml');
    expect(r.body).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });

  it('check follows decide(): not yet valid, expired, outside schedule, wrong zone, lockdown, used up, revoked', async () => {
    const check = async (passId: string, body: Record<string, unknown>) =>
      (await post(`/api/admin/passes/${passId}/check`, { gateId: topo.gate.id, ...body })).json();
    const p = await issue();
    expect(await check(p.id, {})).toEqual({ allow: true, reason: 'ok' });
    expect(await check(p.id, { at: new Date(Date.now() - 2 * hour).toISOString() })).toEqual({ allow: false, reason: 'not_yet_valid' });
    expect(await check(p.id, { at: new Date(Date.now() + 9 * hour).toISOString() })).toEqual({ allow: false, reason: 'expired' });
    expect(await check(p.id, { gateId: topo.serverGate.id })).toEqual({ allow: false, reason: 'wrong_zone' });

    // Monday 09:00–10:00 in Moscow only; Tuesday noon Moscow is outside.
    const rule = (
      await post('/api/admin/access-rules', {
        name: 'Mon 9-10',
        zoneIds: [topo.zone.id],
        weekdays: [1],
        timeWindows: [{ from: '09:00', to: '10:00' }],
      })
    ).json();
    const q = await issue({ accessRuleId: rule.id, validFrom: '2030-01-01T00:00:00Z', validTo: '2030-12-31T00:00:00Z' });
    expect(await check(q.id, { at: '2030-01-07T06:30:00Z' })).toEqual({ allow: true, reason: 'ok' }); // Monday 09:30 MSK
    expect(await check(q.id, { at: '2030-01-08T09:00:00Z' })).toEqual({ allow: false, reason: 'outside_schedule' });

    const lock = await post(`/api/admin/gates/${topo.gate.id}/commands`, { type: 'lockdown' });
    expect(lock.statusCode).toBe(202);
    expect(await check(p.id, {})).toEqual({ allow: false, reason: 'lockdown' });
    await post(`/api/admin/gates/${topo.gate.id}/commands`, { type: 'release' });
    expect(await check(p.id, {})).toEqual({ allow: true, reason: 'ok' });

    // A single pass that was already used once (as the stored check-ins tell) is used up.
    const s = await issue({ type: 'single' });
    await storeCheckins(t.app.ctx.db, { orgId: admin.orgId, siteId: topo.site.id, deviceId: null }, [
      event(s.id, 'in', Date.now() - 60_000),
      event(s.id, 'out', Date.now() - 30_000),
    ]);
    expect(await check(s.id, {})).toEqual({ allow: false, reason: 'used_up' });

    const rv = await post(`/api/admin/passes/${p.id}/revoke`, { reason: 'lost badge' });
    expect(rv.statusCode).toBe(200);
    expect(rv.json()).toMatchObject({ status: 'revoked', revokedReason: 'lost badge' });
    expect(await check(p.id, {})).toEqual({ allow: false, reason: 'revoked' });
    expect((await post(`/api/admin/passes/${p.id}/revoke`, { reason: 'again' })).statusCode).toBe(409);
    expect((await get(`/api/admin/passes/${p.id}/credential`)).statusCode).toBe(409);
  });

  it('a card number names one live pass per org; card passes check by card', async () => {
    const p = await issue({ card: { format: 'w26', number: '00012345' } });
    expect((await get(`/api/admin/passes/${p.id}`)).json().card).toEqual({ format: 'w26', number: '12345' });
    const dup = await post('/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'multi',
      validFrom: new Date().toISOString(),
      validTo: new Date(Date.now() + hour).toISOString(),
      card: { format: 'w26', number: '12345' },
    });
    expect(dup.statusCode).toBe(409);
    expect((await post(`/api/admin/passes/${p.id}/check`, { gateId: topo.gate.id })).json()).toEqual({ allow: true, reason: 'ok' });
  });

  it('the guest link shows the visit but no credential (that takes the one-time code, guest-auth.test.ts), and is no admin token', async () => {
    const p = await issue();
    expect(p.guestUrl).toContain(p.guestToken);
    const r = await t.app.inject({ method: 'GET', url: '/api/guest/pass', headers: { authorization: `Bearer ${p.guestToken}` } });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    // The first name only: a link may have been forwarded.
    expect(body.pass).toMatchObject({ id: p.id, status: 'active', visitorName: 'Ivan' });
    expect(body).toMatchObject({ signedIn: false, payload: null, totpSecret: null, staticPayload: null, secondsUntilChange: null });
    const viaQuery = await t.app.inject({ method: 'GET', url: `/api/guest/pass?token=${p.guestToken}` });
    expect(viaQuery.statusCode).toBe(200);
    // Single purpose: the guest token opens nothing in the admin API.
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/admin/sites', headers: { authorization: `Bearer ${p.guestToken}` } })).statusCode,
    ).toBe(401);
    // …and an admin token is no guest token.
    expect((await t.app.inject({ method: 'GET', url: '/api/guest/pass', headers: admin.auth })).statusCode).toBe(401);
    await post(`/api/admin/passes/${p.id}/revoke`, { reason: 'cancelled' });
    const after = (
      await t.app.inject({ method: 'GET', url: '/api/guest/pass', headers: { authorization: `Bearer ${p.guestToken}` } })
    ).json();
    expect(after.pass.status).toBe('revoked');
    expect(after.payload).toBeNull();
  });

  it('MSG-2: check-ins: stored idempotently, filtered, keyset-paginated; occupancy follows the last counted passage', async () => {
    const p1 = await issue();
    const p2 = await issue();
    const p3 = await issue();
    const base = Date.now() - 10 * 60_000;
    const events = [
      event(p1.id, 'in', base),
      event(p2.id, 'in', base + 1000),
      event(p2.id, 'out', base + 2000),
      ...Array.from({ length: 7 }, (_, i) => event(null, 'in', base + 3000 + i, false)),
    ];
    // SYNC-3: an unlock nobody walked through (a passage sensor saw none) is not counted, so p3 is not inside.
    const unwalked: CheckinEvent[] = [
      { ...event(p3.id, 'in', base + 4000), counted: false },
      { ...event(p3.id, 'in', base + 4500), type: 'no_passage', counted: false },
    ];
    const ctxGate = { orgId: admin.orgId, siteId: topo.site.id, deviceId: 'dev-1' };
    await ingestCheckins(t.app.ctx, ctxGate, [...events, ...unwalked]);
    await ingestCheckins(t.app.ctx, ctxGate, events.slice(0, 3)); // a re-sent batch changes nothing
    const mine = (await get(`/api/admin/checkins?passId=${p2.id}`)).json();
    expect(mine.items.map((i: { direction: string }) => i.direction)).toEqual(['out', 'in']);
    expect(mine.items[0]).toMatchObject({ passId: p2.id, gateId: topo.gate.id, allow: true, reason: 'ok' });

    const listed: { id: string; occurredAt: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string; occurredAt: string }[]; nextCursor: string | null } = (
        await get(
          `/api/admin/checkins?siteId=${topo.site.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}&since=${new Date(base - 1).toISOString()}`,
        )
      ).json();
      expect(page.items.length).toBeLessThanOrEqual(3);
      listed.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const seen = listed.map((i) => i.id);
    const stored = events.map((e) => e.id);
    for (const id of stored) expect(seen).toContain(id);
    // Within a time range: newest first by when it happened, then by id.
    const byTime = [...listed].sort((a, b) => b.occurredAt.localeCompare(a.occurredAt) || b.id.localeCompare(a.id));
    expect(seen).toEqual(byTime.map((i) => i.id));
    expect(new Set(seen).size).toBe(seen.length);
    const until = (
      await get(
        `/api/admin/checkins?gateId=${topo.gate.id}&until=${new Date(base + 1500).toISOString()}&since=${new Date(base - 1).toISOString()}`,
      )
    ).json();
    expect(until.items.map((i: { id: string }) => i.id).sort()).toEqual([events[0]!.id, events[1]!.id].sort());
    expect((await get('/api/admin/checkins?cursor=!!!')).statusCode).toBe(400);

    const occ = (await get(`/api/admin/sites/${topo.site.id}/occupancy`)).json();
    const onSite = occ.items.map((i: { passId: string }) => i.passId);
    expect(onSite).toContain(p1.id);
    expect(onSite).not.toContain(p2.id);
    expect(onSite).not.toContain(p3.id);
    expect(occ.items.find((i: { passId: string }) => i.passId === p1.id)).toMatchObject({
      gateId: topo.gate.id,
      since: new Date(base).toISOString(),
    });
    expect(occ.count).toBe(occ.items.length);
    // One source of truth: the muster of the site names the same passes and the same total.
    const roll = (await get(`/api/admin/muster?siteId=${topo.site.id}`)).json();
    expect(roll.items.map((i: { passId: string }) => i.passId).sort()).toEqual([...onSite].sort());
    expect(roll.sites[0].total).toBe(occ.count);
  });

  it('visitor phone and document number are encrypted at rest and come back in clear through the API', async () => {
    const raw = await t.app.ctx.db.execute(sql`select * from visitors where id = ${topo.visitor.id}`);
    const text = JSON.stringify(raw);
    expect(text).not.toContain('4510 123456');
    expect(text).not.toContain('123-45-67');
    expect(text).toMatch(/v2-[0-9a-f]{8}\./); // sealed (v2: HKDF data subkey, named by key id)
    const v = (await get(`/api/admin/visitors/${topo.visitor.id}`)).json();
    expect(v).toMatchObject({ phone: '+7 900 123-45-67', documentNumber: '4510 123456' });
    const orgRaw = JSON.stringify(await t.app.ctx.db.execute(sql`select signing_key_enc from organizations where id = ${admin.orgId}`));
    expect(orgRaw).toMatch(/v2-[0-9a-f]{8}\./);
    expect(orgRaw).not.toContain('MC4CAQAwBQYDK2Vw'); // PKCS#8 Ed25519 prefix in base64: the key is not stored in clear
  });

  it('writes are audited with actor, ip and user agent; the audit log cannot be changed', async () => {
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/admin/visitors',
      headers: { ...admin.auth, 'user-agent': 'audit-test/1.0' },
      payload: { fullName: 'Audited', documentNumber: 'SECRET-DOC' },
      remoteAddress: '192.0.2.7',
    });
    const id = r.json().id;
    const log = (await get(`/api/admin/audit-logs?entityType=visitor&entityId=${id}`)).json();
    expect(log.items).toHaveLength(1);
    expect(log.items[0]).toMatchObject({
      action: 'visitor.create',
      actorId: admin.userId,
      orgId: admin.orgId,
      ip: '192.0.2.7',
      userAgent: 'audit-test/1.0',
    });
    expect(JSON.stringify(log)).not.toContain('SECRET-DOC');
    const later = (await get(`/api/admin/audit-logs?entityId=${id}&since=${new Date(Date.now() + 60_000).toISOString()}`)).json();
    expect(later.items).toHaveLength(0);
    const window = (
      await get(
        `/api/admin/audit-logs?entityId=${id}&since=${new Date(Date.now() - 60_000).toISOString()}&until=${new Date(Date.now() + 1000).toISOString()}`,
      )
    ).json();
    expect(window.items).toHaveLength(1);
    await expect(t.app.ctx.db.execute(sql`update audit_logs set action = 'x' where entity_id = ${id}`)).rejects.toThrow();
    await expect(t.app.ctx.db.execute(sql`delete from audit_logs where entity_id = ${id}`)).rejects.toThrow();
    for (const method of ['PATCH', 'PUT', 'DELETE'] as const) {
      expect(
        (await t.app.inject({ method, url: `/api/admin/audit-logs/${log.items[0].id}`, headers: admin.auth, payload: {} })).statusCode,
      ).toBe(404);
    }
  });

  it('issuing a pass is audited in the same statement', async () => {
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/admin/passes',
      headers: { ...admin.auth, 'user-agent': 'desk/2' },
      remoteAddress: '198.51.100.4',
      payload: {
        visitorId: topo.visitor.id,
        accessRuleId: topo.rule.id,
        type: 'single',
        validFrom: '2030-01-01T08:00:00Z',
        validTo: '2030-01-01T18:00:00Z',
      },
    });
    const log = (await get(`/api/admin/audit-logs?entityType=pass&entityId=${r.json().id}`)).json();
    expect(log.items).toEqual([
      expect.objectContaining({
        action: 'pass.issue',
        actorId: admin.userId,
        ip: '198.51.100.4',
        userAgent: 'desk/2',
        data: expect.objectContaining({ type: 'single' }),
      }),
    ]);
    const bad = await post('/api/admin/passes', {
      visitorId: uuidv7(),
      accessRuleId: topo.rule.id,
      type: 'single',
      validFrom: '2030-01-01T08:00:00Z',
      validTo: '2030-01-01T18:00:00Z',
    });
    expect(bad.statusCode).toBe(404);
    expect(bad.json().error.message).toMatch(/visitor/);
  });

  it('a failed write leaves no audit row (same transaction)', async () => {
    const before = (await get('/api/admin/audit-logs?entityType=zone')).json().items.length;
    const r = await post('/api/admin/zones', { siteId: uuidv7(), name: 'orphan' });
    expect(r.statusCode).toBe(404);
    expect((await get('/api/admin/audit-logs?entityType=zone')).json().items.length).toBe(before);
  });

  it('enrollment: a one-time code trades once for device credentials and the org public key', async () => {
    const e = (await post(`/api/admin/gates/${topo.gate.id}/enrollment`, {})).json();
    expect(e.code).toMatch(/^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$/);
    const first = await t.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: e.code.toLowerCase() } });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ gateId: topo.gate.id, siteId: topo.site.id, mqtt: { username: first.json().deviceId } });
    expect((await t.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: e.code } })).statusCode).toBe(401);
    const gate = (await get(`/api/admin/gates/${topo.gate.id}`)).json();
    expect(gate.deviceId).toBe(first.json().deviceId);
  });

  it('appointments keep their visitors; host and visitors must exist in this org', async () => {
    const host = (await post('/api/admin/users', { email: `h${Date.now()}@example.test`, fullName: 'Hostess', roles: ['Host'] })).json();
    const a = await post('/api/admin/appointments', {
      hostId: host.hostId,
      visitorIds: [topo.visitor.id],
      startsAt: '2030-01-01T10:00:00Z',
      endsAt: '2030-01-01T11:00:00Z',
      room: '7',
    });
    expect(a.statusCode, a.body).toBe(201);
    expect(a.json().visitorIds).toEqual([topo.visitor.id]);
    const bad = await post('/api/admin/appointments', {
      hostId: host.hostId,
      visitorIds: [uuidv7()],
      startsAt: '2030-01-01T10:00:00Z',
      endsAt: '2030-01-01T11:00:00Z',
    });
    expect(bad.statusCode).toBe(422);
    const backwards = await post('/api/admin/appointments', {
      hostId: host.hostId,
      visitorIds: [topo.visitor.id],
      startsAt: '2030-01-01T10:00:00Z',
      endsAt: '2030-01-01T09:00:00Z',
    });
    expect(backwards.statusCode).toBe(422);
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/appointments/${a.json().id}`,
      headers: admin.auth,
      payload: { status: 'cancelled' },
    });
    expect(patched.json()).toMatchObject({ status: 'cancelled', room: '7' });
  });

  function event(passId: string | null, direction: 'in' | 'out', at: number, allow = true): CheckinEvent {
    return {
      id: uuidv7(at),
      type: 'attempt',
      gateId: topo.gate.id,
      passId,
      credentialKind: passId ? 'dynamic' : 'none',
      direction,
      allow,
      reason: allow ? 'ok' : 'unknown',
      occurredAt: at,
      // As an edge reports an admission at a gate without a passage sensor: it counts (DEC-12).
      ...(allow && passId ? { counted: true } : {}),
    };
  }
});
