/**
 * GET /api/admin/checkins.csv: the check-in history as a streamed CSV (issue 17, large organisations): every
 * row the filters match across many keyset pages, the reasons in words in the asked language, names only as far
 * as the caller may read them, formulas defused, the export on record, and a database failure part-way never
 * passed off as a complete file.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { type CheckinEvent, uuidv7 } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_COLUMNS } from '../src/modules/checkins/export.js';
import { storeCheckins } from '../src/modules/checkins/service.js';
import { createOrgWithUser, issuePass, type Login, seedTopology, startApp, type TestApp } from './helpers.js';

describe('check-in export (CSV)', () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let passId: string;
  const TOTAL = 2_345;
  const base = Date.now() - 10 * 3_600_000;

  /** The body without its byte-order mark, split into records (the CSV here has no line breaks inside cells). */
  const records = (body: string) => {
    expect(body.startsWith('\ufeff')).toBe(true);
    expect(body.endsWith('\r\n')).toBe(true);
    return body.slice(1, -2).split('\r\n');
  };
  const exportCsv = async (query: string, headers: Record<string, string> = admin.auth) => {
    const r = await t.app.inject({ method: 'GET', url: `/api/admin/checkins.csv${query}`, headers });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.headers['content-disposition']).toMatch(/^attachment; filename="checkins-\d{4}-\d{2}-\d{2}T\d{6}\.csv"$/);
    return records(r.body);
  };

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Export Org', ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    const v = (
      await t.app.inject({
        method: 'POST',
        url: '/api/admin/visitors',
        headers: admin.auth,
        payload: { fullName: '=HYPERLINK("http://evil.test") Petrov' },
      })
    ).json() as { id: string };
    passId = (await issuePass(t.app, admin, { visitorId: v.id, accessRuleId: topo.rule.id })).id;
    // One check-in a second: every 7th refused; every 3rd with the pass.
    const events: CheckinEvent[] = Array.from({ length: TOTAL }, (_, i) => ({
      id: uuidv7(base + i * 1000),
      type: 'attempt',
      gateId: topo.gate.id,
      passId: i % 3 === 0 ? passId : null,
      credentialKind: i % 3 === 0 ? 'dynamic' : 'none',
      direction: 'in',
      allow: i % 7 !== 0,
      reason: i % 7 !== 0 ? 'ok' : 'outside_schedule',
      occurredAt: base + i * 1000,
    }));
    for (let i = 0; i < events.length; i += 500)
      await storeCheckins(t.app.ctx.db, { orgId: admin.orgId, siteId: topo.site.id, deviceId: null }, events.slice(i, i + 500));
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('streams every check-in the filters match, past many pages, newest first, each once', async () => {
    const lines = await exportCsv('');
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(','));
    const rows = lines.slice(1);
    expect(rows).toHaveLength(TOTAL);
    const ids = rows.map((l) => l.split(',').at(-1)!);
    expect(new Set(ids).size).toBe(TOTAL);
    expect([...ids].sort().reverse()).toEqual(ids);
    const { rows: stored } = (await t.app.ctx.db.execute(
      sql`select id::text from checkins where org_id = ${admin.orgId} order by id desc`,
    )) as unknown as { rows: Array<{ id: string }> };
    expect(ids).toEqual(stored.map((r) => r.id));

    // The same filters as the list: refused ones in a time range (by occurredAt), and the search.
    const since = new Date(base + 700_000).toISOString();
    const until = new Date(base + 1_400_000).toISOString();
    const refused = (await exportCsv(`?result=deny&since=${since}&until=${until}`)).slice(1);
    const want = Array.from({ length: TOTAL }, (_, i) => i).filter((i) => i >= 700 && i < 1400 && i % 7 === 0);
    expect(refused).toHaveLength(want.length);
    expect(refused.every((l) => l.includes(',denied,outside_schedule,'))).toBe(true);
    expect((await exportCsv(`?q=${passId}`)).slice(1)).toHaveLength(Math.ceil(TOTAL / 3));
    // Nothing matches: the header alone, still a well-formed file.
    expect(await exportCsv('?q=Nobody%20Matches')).toEqual([EXPORT_COLUMNS.join(',')]);
  });

  it('names the site, gate, visitor and reason in words (the asked language), at the site clock too, with formulas defused', async () => {
    const [head, ...rows] = await exportCsv(`?q=${passId}&lang=ru`);
    const col = (name: (typeof EXPORT_COLUMNS)[number]) => head!.split(',').indexOf(name);
    // The visitor's name starts with "=": a spreadsheet would run it; it is written as text.
    const withPass = rows.find((l) => l.includes(passId))!;
    expect(withPass).toContain(`"'=HYPERLINK(""http://evil.test"") Petrov"`);
    const denied = rows.find((l) => l.includes('outside_schedule'))!.split(',');
    expect(denied[col('reasonText')]).toMatch(/[а-яё]/i);
    expect(denied[col('site')]).toBe(topo.site.name);
    expect(denied[col('gate')]).toBe(topo.gate.name);
    expect(denied[col('localTime')]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    // Without lang, the request's Accept-Language; English when it names nothing this server speaks.
    const byHeader = await exportCsv(`?q=${passId}&result=deny`, { ...admin.auth, 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.8' });
    expect(byHeader[1]!.split(',')[col('reasonText')]).toBe(denied[col('reasonText')]);
    const english = await exportCsv(`?q=${passId}&result=deny`, { ...admin.auth, 'accept-language': 'de-DE' });
    expect(english[1]!.split(',')[col('reasonText')]).toMatch(/^[\x20-\x7e]+$/);
  });

  it('leaves the names out for a caller who may not read visitors, and puts every export on record', async () => {
    const reader = (
      await t.app.inject({ method: 'POST', url: '/api/devconsole/apps', headers: admin.auth, payload: { name: 'Turnstile stats' } })
    ).json() as { id: string };
    const key = (
      await t.app.inject({
        method: 'POST',
        url: `/api/devconsole/apps/${reader.id}/keys`,
        headers: admin.auth,
        payload: { scopes: ['checkins:read'] },
      })
    ).json() as { key: string };
    const rows = (await exportCsv(`?q=${passId}`, { authorization: `Bearer ${key.key}` })).slice(1);
    expect(rows).toHaveLength(Math.ceil(TOTAL / 3));
    expect(rows.join('\n')).not.toContain('Petrov');
    const { rows: audit } = (await t.app.ctx.db.execute(
      sql`select actor_id::text, actor_app_id::text, data from audit_logs where org_id = ${admin.orgId} and action = 'checkin.export' order by id`,
    )) as unknown as { rows: Array<{ actor_id: string | null; actor_app_id: string | null; data: Record<string, unknown> }> };
    expect(audit.length).toBeGreaterThanOrEqual(2);
    expect(audit.at(-1)).toMatchObject({ actor_app_id: reader.id, data: { q: passId, lang: 'en' } });
    expect(audit.some((a) => a.actor_id === admin.userId && a.data.result === 'deny')).toBe(true);
    // A search for a person is kept as a keyed digest, not as the e-mail or name itself.
    await exportCsv('?q=Anna.S%40Example.test');
    const { rows: last } = (await t.app.ctx.db.execute(
      sql`select data from audit_logs where org_id = ${admin.orgId} and action = 'checkin.export' order by id desc limit 1`,
    )) as unknown as { rows: Array<{ data: Record<string, unknown> }> };
    expect(last[0]!.data).toEqual({ qDigest: expect.stringMatching(/^[0-9a-f]{64}$/), lang: 'en' });
    expect(JSON.stringify(last[0]!.data)).not.toMatch(/anna/i);
  });

  it('refuses bad filters with a 400 and nothing streamed; needs checkins:read', async () => {
    for (const q of ['?since=yesterday', '?result=maybe', '?lang=de', `?siteId=not-a-uuid`]) {
      const r = await t.app.inject({ method: 'GET', url: `/api/admin/checkins.csv${q}`, headers: admin.auth });
      expect(r.statusCode, q).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/checkins.csv' })).statusCode).toBe(401);
  });

  it('a database failure part-way ends the download unfinished, never as a file that looks complete', async () => {
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const db = t.app.ctx.db;
    let pages = 0;
    // The second page of check-ins fails, as a database that went away would.
    const failing = new Proxy(db, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop === 'select')
          return (...args: unknown[]) => {
            const q = (v as (...a: unknown[]) => { from: (t: unknown) => unknown }).apply(target, args);
            const from = q.from.bind(q);
            q.from = (table: unknown) => {
              if ((table as { [k: symbol]: string })[Symbol.for('drizzle:Name')] === 'checkins' && ++pages === 2)
                throw new Error('connection terminated unexpectedly');
              return from(table);
            };
            return q;
          };
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    (t.app.ctx as { db: typeof db }).db = failing;
    try {
      const r = await fetch(`${base}/api/admin/checkins.csv`, { headers: admin.auth });
      expect(r.status).toBe(200);
      const reader = r.body!.getReader();
      let received = '';
      const outcome = await (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return 'complete';
          received += Buffer.from(value).toString('utf8');
        }
      })().catch((e: Error) => `failed: ${e.message}`);
      expect(outcome).toMatch(/^failed/);
      // The first page arrived before the failure: the file streams as it is read.
      expect(received.split('\r\n').length).toBeGreaterThan(1000);
      expect(pages).toBe(2);
    } finally {
      (t.app.ctx as { db: typeof db }).db = db;
    }
  });
});

describe('check-in export memory', () => {
  let t: TestApp;
  let admin: Login;
  const ROWS = 100_000;
  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Export Memory Org', ['OrgAdmin']);
    const topo = await seedTopology(t.app, admin);
    await t.app.ctx.db.execute(sql`
      insert into checkins (id, org_id, site_id, gate_id, pass_id, type, credential_kind, direction, allow, reason, occurred_at, received_at, counted)
      select gen_random_uuid(), ${admin.orgId}, ${topo.site.id}, ${topo.gate.id}, null, 'attempt', 'none', 'in', i % 7 <> 0,
             case when i % 7 <> 0 then 'ok' else 'unknown' end, now() - make_interval(secs => i), now(), false
      from generate_series(1, ${ROWS}) i`);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('holds about one page in memory, not the file: live memory stays flat over 100,000 rows (15 MB)', async () => {
    // The collector on demand (vitest runs without --expose-gc): live memory is what is left after a collection.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const live = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const before = live();
    let peak = before;
    const r = await fetch(`${base}/api/admin/checkins.csv`, { headers: admin.auth });
    let bytes = 0;
    let chunks = 0;
    for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += c.byteLength;
      // A look every 64 chunks (a collection is slow): the response is read while it is written.
      if (++chunks % 64 === 0) peak = Math.max(peak, live());
    }
    expect(bytes).toBeGreaterThan(ROWS * 100);
    expect(chunks).toBeGreaterThan(64);
    // The whole file held anywhere would be > 10 MB; a page of rows and the stream buffers are well under 8 MB.
    expect(peak - before).toBeLessThan(8e6);
  }, 120_000);
});
