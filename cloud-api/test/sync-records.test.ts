/**
 * What a site's edges are sent of its calendar and of the passes' presence (SYNC-3, SYNC-4): a snapshot holds
 * the days from yesterday (local) on and the presence of the passes it carries; a delta renders a day's current
 * state or its delete, and a pass's presence as the edge merges it (a guard's forgiveness as "not inside"), or
 * nothing when there is none; gate records carry the emergency flag.
 */
import { localDate } from '@gatehouse/protocol';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gates, passPresence } from '../src/db/schema.js';
import { materialize, siteSnapshot } from '../src/sync/records.js';
import { createOrgWithUser, issuePass, type Login, onPostgres, seedTopology, startApp, type TestApp } from './helpers.js';

describe(`sync records of calendars and presence (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const day = 86_400_000;
  const moscow = (ms: number) => localDate(ms, 'Europe/Moscow');
  const addDay = async (siteId: string, date: string, name = date) => {
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/admin/holidays',
      headers: admin.auth,
      payload: { siteId, date, kind: 'closed', name },
    });
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as { id: string };
  };

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Records Org', ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
  });
  afterAll(async () => t?.close());

  it('a snapshot carries the calendar from yesterday on, in date order, and the presence of its passes only', async () => {
    const now = Date.now();
    const old = await addDay(topo.site.id, moscow(now - 3 * day));
    const yesterday = await addDay(topo.site.id, moscow(now - day));
    const next = await addDay(topo.site.id, moscow(now + 30 * day));
    const today = await addDay(topo.site.id, moscow(now));
    const other = (
      await t.app.inject({ method: 'POST', url: '/api/admin/sites', headers: admin.auth, payload: { name: 'B', timezone: 'UTC' } })
    ).json();
    await addDay(other.id, moscow(now + day));

    const live = await issuePass(t.app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    const gone = await issuePass(t.app, admin, {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      validFrom: new Date(now - 2 * day),
      validTo: new Date(now - day),
    });
    const at = new Date(now - 60_000);
    await t.app.ctx.db.insert(passPresence).values([
      { siteId: topo.site.id, passId: live.id, orgId: admin.orgId, useCount: 2, lastDirection: 'in', lastAt: at },
      { siteId: topo.site.id, passId: gone.id, orgId: admin.orgId, useCount: 1, lastDirection: 'in', lastAt: at },
    ]);

    const snap = await siteSnapshot(t.app.ctx, admin.orgId, topo.site.id);
    expect(snap.holidays.map((h) => h.id)).toEqual([yesterday.id, today.id, next.id]);
    expect(snap.holidays.map((h) => h.id)).not.toContain(old.id);
    expect(snap.holidays[0]).toEqual({
      id: yesterday.id,
      siteId: topo.site.id,
      date: moscow(now - day),
      kind: 'closed',
      name: moscow(now - day),
      windows: [],
    });
    // The expired pass is not cached, so its presence is not sent either.
    expect([...snap.presence.values()]).toEqual([{ passId: live.id, useCount: 2, lastDirection: 'in', lastAt: at.getTime() }]);
    expect(snap.gates.every((g) => g.emergency === false)).toBe(true);
  });

  it('a delta renders a day as it is now, a removed day or one of another site as a delete', async () => {
    const a = await addDay(topo.site.id, '2031-09-01');
    const b = await addDay(topo.site.id, '2031-09-02');
    const other = (
      await t.app.inject({ method: 'POST', url: '/api/admin/sites', headers: admin.auth, payload: { name: 'C', timezone: 'UTC' } })
    ).json();
    const c = await addDay(other.id, '2031-09-03');
    await t.app.inject({ method: 'PATCH', url: `/api/admin/holidays/${a.id}`, headers: admin.auth, payload: { name: 'Knowledge Day' } });
    await t.app.inject({ method: 'DELETE', url: `/api/admin/holidays/${b.id}`, headers: admin.auth });
    const changes = await materialize(t.app.ctx, admin.orgId, topo.site.id, [
      { seq: 1, entity: 'holiday', entityId: a.id },
      { seq: 2, entity: 'holiday', entityId: b.id },
      { seq: 3, entity: 'holiday', entityId: c.id },
      { seq: 4, entity: 'holiday', entityId: a.id },
    ]);
    expect(changes).toEqual([
      { seq: 2, entity: 'holiday', op: 'delete', id: b.id },
      { seq: 3, entity: 'holiday', op: 'delete', id: c.id },
      {
        seq: 4,
        entity: 'holiday',
        op: 'upsert',
        id: a.id,
        data: { id: a.id, siteId: topo.site.id, date: '2031-09-01', kind: 'closed', name: 'Knowledge Day', windows: [] },
      },
    ]);
  });

  it('a delta renders presence as the edge merges it, a forgiveness as not inside, and nothing without a row; gates carry emergency', async () => {
    const p = await issuePass(t.app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    const q = await issuePass(t.app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    const none = await issuePass(t.app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    const entered = new Date('2030-01-01T08:00:00Z');
    const forgiven = new Date('2030-01-01T08:05:00Z');
    await t.app.ctx.db.insert(passPresence).values([
      { siteId: topo.site.id, passId: p.id, orgId: admin.orgId, useCount: 3, lastDirection: 'out', lastAt: entered },
      { siteId: topo.site.id, passId: q.id, orgId: admin.orgId, useCount: 1, lastDirection: 'in', lastAt: entered, forgivenAt: forgiven },
    ]);
    await t.app.ctx.db.update(gates).set({ emergency: true }).where(eq(gates.id, topo.gate.id));
    const changes = await materialize(t.app.ctx, admin.orgId, topo.site.id, [
      { seq: 1, entity: 'presence', entityId: p.id },
      { seq: 2, entity: 'presence', entityId: q.id },
      { seq: 3, entity: 'presence', entityId: none.id },
      { seq: 4, entity: 'gate', entityId: topo.gate.id },
    ]);
    expect(changes).toEqual([
      {
        seq: 1,
        entity: 'presence',
        op: 'upsert',
        id: p.id,
        data: { passId: p.id, useCount: 3, lastDirection: 'out', lastAt: entered.getTime() },
      },
      {
        seq: 2,
        entity: 'presence',
        op: 'upsert',
        id: q.id,
        data: { passId: q.id, useCount: 1, lastDirection: null, lastAt: forgiven.getTime() },
      },
      { seq: 4, entity: 'gate', op: 'upsert', id: topo.gate.id, data: expect.objectContaining({ emergency: true, lockdown: false }) },
    ]);
    await t.app.ctx.db.update(gates).set({ emergency: false }).where(eq(gates.id, topo.gate.id));
  });
});
