/**
 * A site's holiday calendar (DEC-14) in the admin API: create, list by site and dates, change, remove, import;
 * one day per site and date; org scoping; who may write; the audit trail; and the `holiday` change each write
 * leaves for the site's edges (SYNC-4).
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncChanges } from '../src/sync/schema.js';
import { addUser, createOrgWithUser, type Login, onPostgres, seedTopology, startApp, type TestApp } from './helpers.js';

describe(`holiday calendars (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Record<string, unknown>, who: Login = admin) =>
    t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
  const create = async (payload: Record<string, unknown>, who: Login = admin) => {
    const r = await send('POST', '/api/admin/holidays', { siteId: topo.site.id, ...payload }, who);
    expect(r.statusCode, r.body).toBe(201);
    return r.json();
  };
  const changesOf = async (id: string) =>
    t.app.ctx.db
      .select({ siteId: syncChanges.siteId })
      .from(syncChanges)
      .where(and(eq(syncChanges.entity, 'holiday'), eq(syncChanges.entityId, id)));

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Calendar Org', ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
  });
  afterAll(async () => t?.close());

  it('creates, lists in date order within a range, changes and removes a day; each write tells the site’s edges', async () => {
    const other = (await send('POST', '/api/admin/sites', { name: 'Branch', timezone: 'Asia/Tokyo' })).json();
    const xmas = await create({ date: '2031-01-07', kind: 'closed', name: 'Christmas' });
    expect(xmas).toMatchObject({ siteId: topo.site.id, date: '2031-01-07', kind: 'closed', name: 'Christmas', windows: [] });
    const eve = await create({ date: '2030-12-31', kind: 'special', name: 'Eve', windows: [{ from: '09:00', to: '14:00' }] });
    const may = await create({ date: '2031-05-01', kind: 'closed', name: 'May Day' });
    await create({ siteId: other.id, date: '2031-01-07', kind: 'closed', name: 'Branch closed' });

    const all = (await send('GET', `/api/admin/holidays?siteId=${topo.site.id}`)).json();
    expect(all.items.map((h: { date: string }) => h.date)).toEqual(['2030-12-31', '2031-01-07', '2031-05-01']);
    const range = (await send('GET', `/api/admin/holidays?siteId=${topo.site.id}&from=2031-01-01&to=2031-01-31`)).json();
    expect(range.items.map((h: { id: string }) => h.id)).toEqual([xmas.id]);
    // Pages follow the calendar.
    const p1 = (await send('GET', `/api/admin/holidays?siteId=${topo.site.id}&limit=2`)).json();
    expect(p1.items.map((h: { id: string }) => h.id)).toEqual([eve.id, xmas.id]);
    const p2 = (await send('GET', `/api/admin/holidays?siteId=${topo.site.id}&limit=2&cursor=${p1.nextCursor}`)).json();
    expect(p2).toEqual({ items: [expect.objectContaining({ id: may.id })], nextCursor: null });
    expect((await send('GET', `/api/admin/holidays/${eve.id}`)).json()).toEqual(eve);

    // Made closed, the special hours go with it; made special again, it needs hours.
    const closed = await send('PATCH', `/api/admin/holidays/${eve.id}`, { kind: 'closed' });
    expect(closed.json()).toMatchObject({ kind: 'closed', windows: [], name: 'Eve' });
    expect((await send('PATCH', `/api/admin/holidays/${eve.id}`, { kind: 'special' })).statusCode).toBe(422);
    const moved = await send('PATCH', `/api/admin/holidays/${eve.id}`, { date: '2030-12-30', name: 'Eve of the eve' });
    expect(moved.json()).toMatchObject({ date: '2030-12-30', name: 'Eve of the eve' });

    expect((await send('DELETE', `/api/admin/holidays/${may.id}`)).statusCode).toBe(204);
    expect((await send('GET', `/api/admin/holidays/${may.id}`)).statusCode).toBe(404);
    expect((await send('DELETE', `/api/admin/holidays/${may.id}`)).statusCode).toBe(404);
    // The date is free again.
    await create({ date: '2031-05-01', kind: 'closed', name: 'May Day again' });

    // SYNC-4: one change per write, for the day's own site only.
    expect(await changesOf(eve.id)).toEqual(Array(3).fill({ siteId: topo.site.id }));
    expect(await changesOf(may.id)).toEqual(Array(2).fill({ siteId: topo.site.id }));
  });

  it('refuses a second day on the same date (409), a date that does not exist, special without hours and closed with hours', async () => {
    await create({ date: '2032-03-08', kind: 'closed', name: 'Women’s Day' });
    const dup = await send('POST', '/api/admin/holidays', { siteId: topo.site.id, date: '2032-03-08', kind: 'closed', name: 'Again' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('conflict');
    const later = await create({ date: '2032-03-09', kind: 'closed', name: 'Day after' });
    expect((await send('PATCH', `/api/admin/holidays/${later.id}`, { date: '2032-03-08' })).statusCode).toBe(409);

    const bad: [Record<string, unknown>, number][] = [
      [{ date: '2032-02-30', kind: 'closed', name: 'No such day' }, 422],
      [{ date: '2032-13-01', kind: 'closed', name: 'No such month' }, 400],
      [{ date: '8 March', kind: 'closed', name: 'Words' }, 400],
      [{ date: '2032-04-01', kind: 'special', name: 'No hours' }, 422],
      [{ date: '2032-04-01', kind: 'special', name: 'Empty hours', windows: [] }, 422],
      [{ date: '2032-04-02', kind: 'closed', name: 'Hours', windows: [{ from: '09:00', to: '10:00' }] }, 422],
      [{ date: '2032-04-03', kind: 'half', name: 'Kind' }, 400],
      [{ date: '2032-04-04', kind: 'special', name: 'Bad hours', windows: [{ from: '9am', to: '10:00' }] }, 400],
    ];
    for (const [b, status] of bad) {
      const r = await send('POST', '/api/admin/holidays', { siteId: topo.site.id, ...b });
      expect(r.statusCode, JSON.stringify(b)).toBe(status);
      expect(r.json().error.code).toBeTypeOf('string');
    }
  });

  it('imports a list of days in one call: new days added, known ones replaced', async () => {
    const known = await create({ date: '2033-01-01', kind: 'closed', name: 'New Year' });
    const r = await send('POST', '/api/admin/holidays/import', {
      siteId: topo.site.id,
      days: [
        { date: '2033-01-02', kind: 'closed', name: 'Holidays' },
        { date: '2033-01-01', kind: 'special', name: 'New Year (late opening)', windows: [{ from: '12:00', to: '18:00' }] },
        { date: '2033-01-03', kind: 'closed', name: 'Holidays' },
      ],
    });
    expect(r.statusCode, r.body).toBe(200);
    const out = r.json();
    expect(out).toMatchObject({ created: 2, updated: 1 });
    expect(out.items.map((h: { date: string }) => h.date)).toEqual(['2033-01-01', '2033-01-02', '2033-01-03']);
    expect(out.items[0]).toMatchObject({ id: known.id, kind: 'special', name: 'New Year (late opening)' });
    for (const h of out.items) expect(await changesOf(h.id)).toContainEqual({ siteId: topo.site.id });
    const twice = await send('POST', '/api/admin/holidays/import', {
      siteId: topo.site.id,
      days: [
        { date: '2033-02-01', kind: 'closed', name: 'A' },
        { date: '2033-02-01', kind: 'closed', name: 'B' },
      ],
    });
    expect(twice.statusCode).toBe(422);
    // Nothing of a refused import is written.
    const feb = (await send('GET', `/api/admin/holidays?siteId=${topo.site.id}&from=2033-02-01&to=2033-02-28`)).json();
    expect(feb.items).toEqual([]);
  });

  it('is scoped to the organisation: another org’s day is 404, its site cannot be named, its list is its own', async () => {
    const mine = await create({ date: '2034-06-12', kind: 'closed', name: 'Russia Day' });
    const stranger = await createOrgWithUser(t.app, 'Stranger Org', ['OrgAdmin']);
    expect((await send('GET', `/api/admin/holidays/${mine.id}`, undefined, stranger)).statusCode).toBe(404);
    expect((await send('PATCH', `/api/admin/holidays/${mine.id}`, { name: 'Hijacked' }, stranger)).statusCode).toBe(404);
    expect((await send('DELETE', `/api/admin/holidays/${mine.id}`, undefined, stranger)).statusCode).toBe(404);
    const onMySite = await send(
      'POST',
      '/api/admin/holidays',
      { siteId: topo.site.id, date: '2034-06-13', kind: 'closed', name: 'X' },
      stranger,
    );
    expect(onMySite.statusCode).toBe(404);
    const imported = await send(
      'POST',
      '/api/admin/holidays/import',
      { siteId: topo.site.id, days: [{ date: '2034-06-14', kind: 'closed', name: 'X' }] },
      stranger,
    );
    expect(imported.statusCode).toBe(404);
    expect((await send('GET', `/api/admin/holidays?siteId=${topo.site.id}`, undefined, stranger)).json().items).toEqual([]);
    expect((await send('GET', `/api/admin/holidays/${mine.id}`)).json().name).toBe('Russia Day');
  });

  it('a Host may not write the calendar; an Operator may read it; every write is audited', async () => {
    const host = await addUser(t.app, admin.orgId, ['Host']);
    const payload = { siteId: topo.site.id, date: '2035-01-01', kind: 'closed', name: 'By a host' };
    const refused = await send('POST', '/api/admin/holidays', payload, host);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('forbidden');
    const day = await create({ date: '2035-01-01', kind: 'closed', name: 'New Year' });
    expect((await send('PATCH', `/api/admin/holidays/${day.id}`, { name: 'X' }, host)).statusCode).toBe(403);
    expect((await send('DELETE', `/api/admin/holidays/${day.id}`, undefined, host)).statusCode).toBe(403);
    const operator = await addUser(t.app, admin.orgId, ['Operator']);
    expect((await send('GET', `/api/admin/holidays/${day.id}`, undefined, operator)).statusCode).toBe(200);

    await send('PATCH', `/api/admin/holidays/${day.id}`, { name: 'New Year’s Day' });
    await send('DELETE', `/api/admin/holidays/${day.id}`);
    const audit = (await send('GET', `/api/admin/audit-logs?entityType=holiday&limit=500`)).json();
    const actions = audit.items
      .filter((e: { entityId: string }) => e.entityId === day.id)
      .map((e: { action: string; actorId: string }) => [e.action, e.actorId]);
    expect(actions.sort()).toEqual([
      ['holiday.create', admin.userId],
      ['holiday.delete', admin.userId],
      ['holiday.update', admin.userId],
    ]);
  });
});
