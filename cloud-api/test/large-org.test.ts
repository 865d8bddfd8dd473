/**
 * Issue 17 item 4 (large organisations), at small sizes on both databases: keyset pages stay
 * stable while check-ins arrive, the server-side search (`q`) matches ids, sealed e-mails and
 * phones by their keyed hashes and card numbers, the result filter, and the dashboard's hourly
 * counts equal a count made here from the stored rows. The sizes themselves: npm run bench:large.
 */
import { type CheckinEvent, uuidv7 } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeCheckins } from '../src/modules/checkins/service.js';
import { createOrgWithUser, issuePass, type Login, seedTopology, startApp, type TestApp } from './helpers.js';

describe('large organisation lists', () => {
  let t: TestApp;
  let admin: Login;
  let other: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const get = async (url: string, who: Login = admin) => {
    const r = await t.app.inject({ method: 'GET', url, headers: who.auth });
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  };
  const event = (passId: string | null, at: number, allow: boolean, gateId = topo.gate.id): CheckinEvent => ({
    id: uuidv7(at),
    type: 'attempt',
    gateId,
    passId,
    credentialKind: passId ? 'dynamic' : 'none',
    direction: 'in',
    allow,
    reason: allow ? 'ok' : 'unknown',
    occurredAt: at,
  });
  const store = (events: CheckinEvent[]) =>
    storeCheckins(t.app.ctx.db, { orgId: admin.orgId, siteId: topo.site.id, deviceId: null }, events);

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Large Org', ['OrgAdmin']);
    other = await createOrgWithUser(t.app, 'Other Org', ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('check-in pages by keyset stay stable while new check-ins arrive: no row twice, none skipped', async () => {
    const base = Date.now() - 3_600_000;
    await store(Array.from({ length: 25 }, (_, i) => event(null, base + i * 1000, i % 3 !== 0)));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const p = (await get(`/api/admin/checkins?limit=7&siteId=${topo.site.id}${cursor ? `&cursor=${cursor}` : ''}`)) as {
        items: Array<{ id: string }>;
        nextCursor: string | null;
      };
      seen.push(...p.items.map((c) => c.id));
      cursor = p.nextCursor;
      // Newer check-ins land between pages: they sort before the cursor, so the walk neither repeats nor skips.
      await store([event(null, Date.now() + pages, true)]);
      pages++;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const { rows } = (await t.app.ctx.db.execute(
      sql`select count(*)::int as n from checkins where org_id = ${admin.orgId} and occurred_at <= ${new Date(base + 24_000)}`,
    )) as unknown as { rows: Array<{ n: number }> };
    expect(seen.length).toBeGreaterThanOrEqual(rows[0]!.n);
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  it('q finds a visitor by e-mail and phone (sealed, by hash), a pass by card number and id, a name by whole words (sealed, by hashes of its words), their check-ins', async () => {
    const v = (
      await t.app.inject({
        method: 'POST',
        url: '/api/admin/visitors',
        headers: admin.auth,
        payload: { fullName: 'Anna Searchova', email: 'Anna.S@Example.test', phone: '+7 (901) 555-12-34' },
      })
    ).json() as { id: string };
    // The same e-mail in another organisation: never found from this one.
    await t.app.inject({
      method: 'POST',
      url: '/api/admin/visitors',
      headers: other.auth,
      payload: { fullName: 'Anna Elsewhere', email: 'anna.s@example.test' },
    });
    const raw = JSON.stringify(await t.app.ctx.db.execute(sql`select * from visitors where id = ${v.id}`));
    expect(raw).not.toContain('anna.s@example.test');
    const p = await issuePass(t.app, admin, { visitorId: v.id, accessRuleId: topo.rule.id });
    const card = (
      await t.app.inject({
        method: 'POST',
        url: '/api/admin/passes',
        headers: admin.auth,
        payload: {
          visitorId: topo.visitor.id,
          accessRuleId: topo.rule.id,
          type: 'multi',
          validFrom: new Date().toISOString(),
          validTo: new Date(Date.now() + 3_600_000).toISOString(),
          card: { format: 'w26', number: '4242421' },
        },
      })
    ).json() as { id: string };
    await store([event(p.id, Date.now() - 5000, true), event(card.id, Date.now() - 4000, false)]);

    const ids = (r: { items: Array<{ id: string }> }) => r.items.map((x) => x.id);
    expect(ids(await get('/api/admin/visitors?q=%20anna.s%40example.TEST'))).toEqual([v.id]);
    expect(ids(await get(`/api/admin/visitors?q=${encodeURIComponent('79015551234')}`))).toEqual([v.id]);
    expect(ids(await get(`/api/admin/visitors?q=${v.id}`))).toEqual([v.id]);
    // A name by its whole words, any case, accents ignored; every word must be there; never part of a word.
    expect(ids(await get('/api/admin/visitors?q=Anna'))).toEqual([v.id]);
    expect(ids(await get(`/api/admin/visitors?q=${encodeURIComponent('searchova  ANNA')}`))).toEqual([v.id]);
    expect(ids(await get(`/api/admin/visitors?q=${encodeURIComponent('Searchóva')}`))).toEqual([v.id]);
    expect(ids(await get('/api/admin/visitors?q=Searcho'))).toEqual([]);
    expect(ids(await get(`/api/admin/visitors?q=${encodeURIComponent('Anna Petrova')}`))).toEqual([]);
    expect(raw).not.toMatch(/searchova/i);
    expect(ids(await get('/api/admin/visitors?q=anna.s%40example.test', other))).toHaveLength(1);
    expect(ids(await get('/api/admin/visitors?q=anna.s%40example.test', other))).not.toContain(v.id);

    expect(ids(await get('/api/admin/passes?q=anna.s%40example.test'))).toEqual([p.id]);
    expect(ids(await get(`/api/admin/passes?q=${encodeURIComponent('+7 901 555 12 34')}`))).toEqual([p.id]);
    expect(ids(await get('/api/admin/passes?q=4242421'))).toEqual([card.id]);
    expect(ids(await get(`/api/admin/passes?q=${p.id}`))).toEqual([p.id]);
    expect(ids(await get(`/api/admin/passes?q=${v.id}`))).toEqual([p.id]);

    const byEmail = (await get('/api/admin/checkins?q=anna.s%40example.test')) as { items: Array<{ passId: string }> };
    expect(byEmail.items.map((c) => c.passId)).toEqual([p.id]);
    const byCard = (await get('/api/admin/checkins?q=4242421')) as { items: Array<{ passId: string }> };
    expect(byCard.items.map((c) => c.passId)).toEqual([card.id]);
    const byPass = (await get(`/api/admin/checkins?q=${card.id}&result=deny`)) as { items: Array<{ passId: string; allow: boolean }> };
    expect(byPass.items).toHaveLength(1);
    expect((await get(`/api/admin/checkins?q=${card.id}&result=allow`)).items).toHaveLength(0);
    expect(ids(await get('/api/admin/passes?q=searchova'))).toEqual([p.id]);
    // A page of passes names its visitors itself (the console no longer loads every visitor to do it).
    expect((await get('/api/admin/passes?q=searchova')).items[0]).toMatchObject({ visitorId: v.id, visitorName: 'Anna Searchova' });
    expect((await get('/api/admin/checkins?q=Anna%20Searchova')).items.map((c: { passId: string }) => c.passId)).toEqual([p.id]);
    expect((await get('/api/admin/checkins?q=Searcho')).items).toHaveLength(0);
  });

  it('result=deny lists only refused check-ins, allow only allowed ones', async () => {
    const deny = (await get('/api/admin/checkins?limit=500&result=deny')) as { items: Array<{ allow: boolean }> };
    const allow = (await get('/api/admin/checkins?limit=500&result=allow')) as { items: Array<{ allow: boolean }> };
    const all = (await get('/api/admin/checkins?limit=500')) as { items: Array<{ allow: boolean }> };
    expect(deny.items.length).toBeGreaterThan(0);
    expect(deny.items.every((c) => !c.allow)).toBe(true);
    expect(allow.items.every((c) => c.allow)).toBe(true);
    expect(deny.items.length + allow.items.length).toBe(all.items.length);
  });

  it('the dashboard counts check-ins per hour in SQL, equal to a count of the stored rows', async () => {
    const now = Date.now();
    // Spread over the last day and a few older ones that fall outside it.
    await store([
      ...Array.from({ length: 40 }, (_, i) => event(null, now - i * 37 * 60_000, i % 4 !== 0, i % 2 ? topo.gate.id : topo.serverGate.id)),
      event(null, now - 30 * 3_600_000, true),
    ]);
    const d = (await get(`/api/admin/dashboard?siteId=${topo.site.id}`)) as {
      since: string;
      allowed: number;
      denied: number;
      hours: Array<{ start: string; allowed: number; denied: number }>;
    };
    expect(d.hours).toHaveLength(24);
    const { rows } = (await t.app.ctx.db.execute(
      sql`select occurred_at, allow from checkins where org_id = ${admin.orgId} and site_id = ${topo.site.id} and occurred_at >= ${new Date(d.since)}`,
    )) as unknown as { rows: Array<{ occurred_at: string | Date; allow: boolean }> };
    const expected = d.hours.map((h) => {
      const start = Date.parse(h.start);
      const inHour = rows.filter((r) => {
        const at = new Date(r.occurred_at).getTime();
        return at >= start && at < start + 3_600_000;
      });
      return { start: h.start, allowed: inHour.filter((r) => r.allow).length, denied: inHour.filter((r) => !r.allow).length };
    });
    expect(d.hours).toEqual(expected);
    expect(d.allowed).toBe(expected.reduce((s, h) => s + h.allowed, 0));
    expect(d.denied).toBe(expected.reduce((s, h) => s + h.denied, 0));
    expect(d.allowed + d.denied).toBeGreaterThanOrEqual(40);
    // Another organisation sees none of them.
    const o = (await get('/api/admin/dashboard', other)) as { allowed: number; denied: number };
    expect(o.allowed + o.denied).toBe(0);
  });

  it('the time indexes the dashboard counts from hold `allow`, so a day of a site or of the organisation is counted from the index alone', async () => {
    // Whether the planner then takes an index-only scan depends on the table's size: bench:large shows it at ten million.
    const { rows } = (await t.app.ctx.db.execute(
      sql`select indexname, indexdef from pg_indexes where tablename = 'checkins' and indexname in ('checkins_site_time_idx', 'checkins_occurred_idx') order by 1`,
    )) as unknown as { rows: Array<{ indexname: string; indexdef: string }> };
    expect(rows.map((r) => r.indexname)).toEqual(['checkins_occurred_idx', 'checkins_site_time_idx']);
    for (const r of rows) expect(r.indexdef, r.indexname).toMatch(/\(org_id, (site_id, )?occurred_at\) INCLUDE \(allow\)$/);
  });
});
