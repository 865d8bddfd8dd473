import { randomBytes } from 'node:crypto';
import { uuidv7 } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppContext } from '../src/context.js';
import type { Executor } from '../src/db/client.js';
import { organizations, visitors, visitPasses } from '../src/db/schema.js';
import { QueryShapes } from '../src/db/shapes.js';
import { Sealer } from '../src/lib/crypto.js';
import { listCheckins } from '../src/modules/checkins/service.js';
import { createOrganization } from '../src/modules/orgs/service.js';
import { createOrgWithUser, freshDatabase, issuePass, seedTopology, startApp, type TestDb } from './helpers.js';

describe('queries built once per shape (db/shapes.ts)', () => {
  let t: TestDb | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await t?.drop();
    t = undefined;
  });

  it('a check-in page is built once per combination of filters, and every call is answered for its own values', async () => {
    t = await freshDatabase();
    const ctx = { db: t.database.db, sealer: new Sealer(randomBytes(32)) } as unknown as AppContext;
    const a = (await createOrganization(ctx, ctx.db, 'shapes A')).id;
    const b = (await createOrganization(ctx, ctx.db, 'shapes B')).id;
    const [gateA1, gateA2, gateB, site] = [uuidv7(), uuidv7(), uuidv7(), uuidv7()];
    // 30 check-ins a minute apart for each gate, the newest now.
    for (const [org, gate] of [
      [a, gateA1],
      [a, gateA2],
      [b, gateB],
    ] as const)
      await ctx.db.execute(sql`
        insert into checkins (id, org_id, site_id, gate_id, direction, allow, reason, occurred_at)
        select gen_random_uuid(), ${org}, ${site}, ${gate}, 'in', i % 3 <> 0, 'ok', now() - i * interval '1 minute'
        from generate_series(1, 30) i`);
    const builds = vi.spyOn(PgDialect.prototype, 'buildSelectQuery');

    const pageA = await listCheckins(ctx, a, { limit: 10 });
    const pageB = await listCheckins(ctx, b, { limit: 10 });
    expect(builds).toHaveBeenCalledTimes(1);
    // The second organisation's page is its own, although the statement was built for the first.
    expect(pageA.items.map((c) => c.gateId).every((g) => g === gateA1 || g === gateA2)).toBe(true);
    expect(pageB.items.map((c) => c.gateId)).toEqual(Array(10).fill(gateB));

    // The same filters with other values: the statement is built once for both gates.
    const byGate1 = await listCheckins(ctx, a, { limit: 50, gateId: gateA1 });
    const byGate2 = await listCheckins(ctx, a, { limit: 50, gateId: gateA2 });
    expect(builds).toHaveBeenCalledTimes(2);
    expect(byGate1.items).toHaveLength(30);
    expect(byGate1.items.every((c) => c.gateId === gateA1)).toBe(true);
    expect(byGate2.items).toHaveLength(30);
    expect(byGate2.items.every((c) => c.gateId === gateA2)).toBe(true);
    expect(await listCheckins(ctx, b, { limit: 50, gateId: gateA1 })).toEqual({ items: [], nextCursor: null });
    expect(builds).toHaveBeenCalledTimes(2);

    // Cursors and refusals: each page follows its own cursor, each under its own organisation.
    const seen = new Set<string>();
    let cursor: string | null | undefined;
    do {
      const p = await listCheckins(ctx, a, { limit: 7, result: 'deny', ...(cursor ? { cursor } : {}) });
      for (const c of p.items) {
        expect(c.allow).toBe(false);
        expect(seen.has(c.id)).toBe(false);
        seen.add(c.id);
      }
      cursor = p.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(20);
    // The first page and the followed ones: two shapes.
    expect(builds).toHaveBeenCalledTimes(4);

    // A time range: each call's own bounds, and the time cursor of its pages.
    const range = (since: number, until: number) => ({
      limit: 4,
      gateId: gateB,
      since: new Date(Date.now() - since * 60_000).toISOString(),
      until: new Date(Date.now() - until * 60_000).toISOString(),
    });
    const r1 = await listCheckins(ctx, b, range(10.5, 4.5));
    const r2 = await listCheckins(ctx, b, { ...range(10.5, 4.5), cursor: r1.nextCursor ?? undefined });
    const r3 = await listCheckins(ctx, b, range(20.5, 18.5));
    expect([...r1.items, ...r2.items]).toHaveLength(6);
    expect(r2.nextCursor).toBeNull();
    expect(r3.items).toHaveLength(2);
    const minutesAgo = (iso: string) => Math.round((Date.now() - Date.parse(iso)) / 60_000);
    expect([...r1.items, ...r2.items].map((c) => minutesAgo(c.occurredAt))).toEqual([5, 6, 7, 8, 9, 10]);
    expect(r3.items.map((c) => minutesAgo(c.occurredAt))).toEqual([19, 20]);
    expect(builds).toHaveBeenCalledTimes(6);

    // A search is planned for its own values (pagination.ts, pageLimit): built on every call.
    expect((await listCheckins(ctx, a, { limit: 50, q: gateA1 })).items).toHaveLength(30);
    expect((await listCheckins(ctx, b, { limit: 50, q: gateA1 })).items).toHaveLength(0);
    expect(builds).toHaveBeenCalledTimes(8);
  });

  it('the pass and visitor lists are built once for both organisations, each seeing its own rows, and `now` is each call’s', async () => {
    const stack = await startApp();
    try {
      const { app } = stack;
      const [a, b] = [await createOrgWithUser(app, 'Shapes A', ['OrgAdmin']), await createOrgWithUser(app, 'Shapes B', ['OrgAdmin'])];
      const topoA = await seedTopology(app, a);
      const topoB = await seedTopology(app, b);
      const now = Date.now();
      const live = await issuePass(app, a, { visitorId: topoA.visitor.id, accessRuleId: topoA.rule.id });
      // Valid for two seconds: active on the first call, expired on a later one of the very same statement.
      const brief = await issuePass(app, a, { visitorId: topoA.visitor.id, accessRuleId: topoA.rule.id, validTo: new Date(now + 2000) });
      const theirs = await issuePass(app, b, { visitorId: topoB.visitor.id, accessRuleId: topoB.rule.id });
      const builds = vi.spyOn(PgDialect.prototype, 'buildSelectQuery');
      const list = async (who: typeof a, query: string) => {
        const r = await app.inject({ method: 'GET', url: `/api/admin/passes?limit=20${query}`, headers: who.auth });
        expect(r.statusCode).toBe(200);
        return (r.json() as { items: Array<{ id: string; visitorName: string | null }> }).items;
      };
      expect((await list(a, '')).map((p) => p.id)).toEqual([brief.id, live.id]);
      expect(await list(b, '')).toEqual([expect.objectContaining({ id: theirs.id, visitorName: 'Ivan Petrov' })]);
      expect((await list(a, '&status=active')).map((p) => p.id)).toEqual([brief.id, live.id]);
      await new Promise((r) => setTimeout(r, Math.max(0, now + 2100 - Date.now())));
      expect((await list(a, '&status=active')).map((p) => p.id)).toEqual([live.id]);
      expect((await list(a, '&status=expired')).map((p) => p.id)).toEqual([brief.id]);
      expect(await list(b, '&status=expired')).toEqual([]);
      // Three shapes (all, active, expired) for six pages; the route's other statements read other tables.
      expect(builds.mock.calls.filter(([c]) => (c as { table: unknown }).table === visitPasses)).toHaveLength(3);

      // The visitor list too: one statement for both organisations' first pages, each its own visitor.
      const visitorsOf = async (who: typeof a) => {
        const r = await app.inject({ method: 'GET', url: '/api/admin/visitors?limit=20', headers: who.auth });
        expect(r.statusCode).toBe(200);
        return (r.json() as { items: Array<{ id: string }> }).items.map((v) => v.id);
      };
      expect(await visitorsOf(a)).toEqual([topoA.visitor.id]);
      expect(await visitorsOf(b)).toEqual([topoB.visitor.id]);
      expect(builds.mock.calls.filter(([c]) => (c as { table: unknown }).table === visitors)).toHaveLength(1);
    } finally {
      await stack.close();
    }
  });

  it('inside a transaction a query is built for the call, never kept for the pool', async () => {
    t = await freshDatabase();
    const shapes = new QueryShapes();
    let built = 0;
    const byName = (db: Executor) => {
      built++;
      return db
        .select({ id: organizations.id })
        .from(organizations)
        .where(sql`${organizations.name} = ${sql.placeholder('name')}`);
    };
    const named = (db: Executor, name: string) => shapes.run(db, 'by-name', byName, { name });
    const ctx = { db: t.database.db, sealer: new Sealer(randomBytes(32)) } as unknown as AppContext;
    const org = await createOrganization(ctx, ctx.db, 'kept');
    expect(await named(ctx.db, 'kept')).toEqual([{ id: org.id }]);
    expect(await named(ctx.db, 'other')).toEqual([]);
    expect(built).toBe(1);
    await ctx.db.transaction(async (tx) => {
      expect(await named(tx, 'kept')).toEqual([{ id: org.id }]);
      expect(await named(tx, 'kept')).toEqual([{ id: org.id }]);
    });
    expect(built).toBe(3);
    expect(await named(ctx.db, 'kept')).toEqual([{ id: org.id }]);
    expect(built).toBe(3);
  });
});
