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
import { sealPersonalData } from '../src/modules/orgs/personal-data.js';
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

  it("q finds hosts and users by whole words of their sealed names, by e-mail and by id; not another organisation's", async () => {
    const add = async (who: Login, fullName: string, email: string) =>
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/admin/users',
          headers: who.auth,
          payload: { fullName, email, roles: ['Host'], password: 'correct horse battery' },
        })
      ).json() as { id: string; hostId: string };
    const olga = await add(admin, 'Olga Hostova-Kirillova', 'olga.h@example.test');
    const oleg = await add(admin, 'Oleg Hostov', 'oleg.h@example.test');
    const elsewhere = await add(other, 'Olga Hostova', 'olga.other@example.test');
    const raw = JSON.stringify(await t.app.ctx.db.execute(sql`select * from users where id = ${olga.id}`));
    expect(raw).not.toMatch(/hostova/i);
    const ids = (r: { items: Array<{ id: string }> }) => r.items.map((x) => x.id);

    expect(ids(await get('/api/admin/users?q=olga'))).toEqual([olga.id]);
    expect(ids(await get(`/api/admin/users?q=${encodeURIComponent('KIRILLOVA Ólga')}`))).toEqual([olga.id]);
    expect(ids(await get('/api/admin/users?q=Hosto'))).toEqual([]);
    expect(ids(await get(`/api/admin/users?q=${encodeURIComponent('Oleg.H@Example.test')}`))).toEqual([oleg.id]);
    expect(ids(await get(`/api/admin/users?q=${oleg.id}`))).toEqual([oleg.id]);
    expect(ids(await get(`/api/admin/users?q=${elsewhere.id}`))).toEqual([]);
    expect(ids(await get('/api/admin/users?q=hostova', other))).toEqual([elsewhere.id]);

    expect(ids(await get('/api/admin/hosts?q=hostova'))).toEqual([olga.hostId]);
    expect(ids(await get('/api/admin/hosts?q=oleg%20hostov'))).toEqual([oleg.hostId]);
    expect(ids(await get(`/api/admin/hosts?q=${olga.hostId}`))).toEqual([olga.hostId]);
    expect(ids(await get(`/api/admin/hosts?q=${olga.id}`))).toEqual([olga.hostId]);
    expect(ids(await get('/api/admin/hosts?q=olga.h%40example.test'))).toEqual([olga.hostId]);
    expect(ids(await get('/api/admin/hosts?q=olga.other%40example.test'))).toEqual([]);
    expect(ids(await get('/api/admin/hosts?q=nobody'))).toEqual([]);
  });

  it('a renamed user is shown, found and kept under the new name, also across the start-up sealing', async () => {
    const u = (
      await t.app.inject({
        method: 'POST',
        url: '/api/admin/users',
        headers: admin.auth,
        payload: { fullName: 'Renata Before', email: 'renata@example.test', roles: ['Operator'], password: 'correct horse battery' },
      })
    ).json() as { id: string };
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${u.id}`,
      headers: admin.auth,
      payload: { fullName: 'Renata Afterwards' },
    });
    expect(patched.json()).toMatchObject({ fullName: 'Renata Afterwards' });
    expect((await get(`/api/admin/users/${u.id}`)).fullName).toBe('Renata Afterwards');
    const raw = JSON.stringify(await t.app.ctx.db.execute(sql`select * from users where id = ${u.id}`));
    expect(raw).not.toMatch(/renata/i);
    await sealPersonalData(t.app.ctx.db, t.app.ctx.sealer);
    expect((await get(`/api/admin/users/${u.id}`)).fullName).toBe('Renata Afterwards');
    expect((await get('/api/admin/users?q=afterwards')).items.map((x: { id: string }) => x.id)).toEqual([u.id]);
    expect((await get('/api/admin/users?q=before')).items).toHaveLength(0);
    // A rename made before this fix left the new name in plaintext beside the old sealed one: the newer wins, and
    // the start-up sealing keeps it.
    await t.app.ctx.db.execute(sql`update users set full_name = 'Renata Thirdname' where id = ${u.id}`);
    expect((await get(`/api/admin/users/${u.id}`)).fullName).toBe('Renata Thirdname');
    expect(await sealPersonalData(t.app.ctx.db, t.app.ctx.sealer)).toBe(1);
    expect((await get(`/api/admin/users/${u.id}`)).fullName).toBe('Renata Thirdname');
    expect((await get('/api/admin/users?q=thirdname')).items.map((x: { id: string }) => x.id)).toEqual([u.id]);
  });

  it('appointments name their host and visitors, and are found by a visitor or the host (name, e-mail, id) and by visitor', async () => {
    const post = async (url: string, payload: object) => {
      const r = await t.app.inject({ method: 'POST', url, headers: admin.auth, payload });
      expect(r.statusCode, r.body).toBe(201);
      return r.json() as { id: string; hostId: string };
    };
    const host = await post('/api/admin/users', {
      fullName: 'Marta Meetinghost',
      email: 'marta@example.test',
      roles: ['Host'],
      password: 'correct horse battery',
    });
    const ivan = await post('/api/admin/visitors', { fullName: 'Ivan Appointee', email: 'ivan.a@example.test' });
    const lena = await post('/api/admin/visitors', { fullName: 'Lena Appointee' });
    const at = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
    const both = await post('/api/admin/appointments', {
      hostId: host.hostId,
      visitorIds: [lena.id, ivan.id],
      startsAt: at(1),
      endsAt: at(2),
    });
    const lenaOnly = await post('/api/admin/appointments', { hostId: host.hostId, visitorIds: [lena.id], startsAt: at(3), endsAt: at(4) });
    const ids = (r: { items: Array<{ id: string }> }) => r.items.map((x) => x.id);

    const listed = (await get(`/api/admin/appointments?q=${both.id}`)) as {
      items: Array<{ visitorIds: string[]; visitorNames: string[]; hostName: string }>;
    };
    expect(listed.items).toHaveLength(1);
    const [one] = listed.items;
    expect(one!.hostName).toBe('Marta Meetinghost');
    expect(Object.fromEntries(one!.visitorIds.map((id, i) => [id, one!.visitorNames[i]]))).toEqual({
      [ivan.id]: 'Ivan Appointee',
      [lena.id]: 'Lena Appointee',
    });
    expect(await get(`/api/admin/appointments/${both.id}`)).toMatchObject({ hostName: 'Marta Meetinghost' });

    expect(ids(await get('/api/admin/appointments?q=ivan'))).toEqual([both.id]);
    expect(ids(await get('/api/admin/appointments?q=ivan.a%40example.test'))).toEqual([both.id]);
    expect(ids(await get('/api/admin/appointments?q=Lena%20Appointee'))).toEqual([lenaOnly.id, both.id]);
    expect(ids(await get(`/api/admin/appointments?q=${ivan.id}`))).toEqual([both.id]);
    expect(ids(await get('/api/admin/appointments?q=meetinghost'))).toEqual([lenaOnly.id, both.id]);
    expect(ids(await get(`/api/admin/appointments?q=${host.hostId}`))).toEqual([lenaOnly.id, both.id]);
    expect(ids(await get('/api/admin/appointments?q=Appointe'))).toEqual([]);
    expect(ids(await get(`/api/admin/appointments?visitorId=${ivan.id}`))).toEqual([both.id]);
    expect(ids(await get(`/api/admin/appointments?visitorId=${lena.id}&limit=1`))).toEqual([lenaOnly.id]);
    expect(ids(await get('/api/admin/appointments?q=ivan', other))).toEqual([]);

    // Names follow the caller's permissions, as the check-in list's do: a key for appointments alone reads neither.
    const app = await post('/api/devconsole/apps', { name: 'Room planner' });
    const key = (await post(`/api/devconsole/apps/${app.id}/keys`, { scopes: ['appointments:read', 'appointments:any'] })) as unknown as {
      key: string;
    };
    const seen = await t.app.inject({
      method: 'GET',
      url: `/api/admin/appointments?q=${both.id}`,
      headers: { authorization: `Bearer ${key.key}` },
    });
    expect(seen.statusCode, seen.body).toBe(200);
    expect(seen.json().items[0]).toMatchObject({ id: both.id, hostName: null, visitorNames: null });
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
