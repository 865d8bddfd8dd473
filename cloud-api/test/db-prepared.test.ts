import { randomBytes } from 'node:crypto';
import { uuidv7 } from '@gatehouse/protocol';
import { eq, type SQL, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { AppContext } from '../src/context.js';
import { PREPARED_PER_CONNECTION } from '../src/db/client.js';
import { organizations } from '../src/db/schema.js';
import { Sealer } from '../src/lib/crypto.js';
import { listCheckins } from '../src/modules/checkins/service.js';
import { createOrganization } from '../src/modules/orgs/service.js';
import { listPasses } from '../src/modules/passes/service.js';
import { emptyDatabase, onPostgres, type TestDb } from './helpers.js';

const rowsOf = async <T>(t: TestDb, q: SQL): Promise<T[]> => ((await t.database.db.execute(q)) as unknown as { rows: T[] }).rows;

/** The statements this (single) connection holds prepared, but this query's own. */
async function preparedOn(t: TestDb): Promise<Array<{ name: string; statement: string }>> {
  const rows = await rowsOf<{ name: string; statement: string }>(
    t,
    sql`select name, statement from pg_prepared_statements where name like ${'gh\\_%'} order by prepare_time`,
  );
  return rows.filter((p) => !p.statement.includes('pg_prepared_statements'));
}

describe.skipIf(!onPostgres)('prepared statements on PostgreSQL', () => {
  let t: TestDb | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  it('a parameterised query is prepared once per connection under a name made from its text, and reused', async () => {
    t = await emptyDatabase({ poolSize: 1 });
    await t.database.migrate();
    const byName = (n: string) => t!.database.db.select().from(organizations).where(eq(organizations.name, n));
    expect(await byName('a')).toEqual([]);
    expect(await byName('b')).toEqual([]);
    const mine = (await preparedOn(t)).filter((p) => p.statement.includes('from "organizations"'));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.name).toMatch(/^gh_[A-Za-z0-9_-]{27}$/);
    // The plan is the server's to keep: a third call adds no statement.
    await byName('c');
    expect((await preparedOn(t)).filter((p) => p.statement.includes('from "organizations"'))).toHaveLength(1);
  });

  it('a statement prepared before a migration changed its result columns is prepared again, not refused (rolling upgrade)', async () => {
    t = await emptyDatabase({ poolSize: 1 });
    await t.database.db.execute(sql.raw('create table widened (id int primary key)'));
    const all = () => rowsOf<Record<string, unknown>>(t!, sql`select * from widened where id > ${0}`);
    await t.database.db.execute(sql.raw('insert into widened values (1)'));
    expect(await all()).toEqual([{ id: 1 }]);
    // What another instance's migration does while this one keeps its connections: PostgreSQL answers 0A000
    // ("cached plan must not change result type") to the statement prepared before, on every call.
    const other = new pg.Client({ connectionString: t.url ?? undefined });
    await other.connect();
    await other.query('alter table widened add column note text');
    await other.end();
    expect(await all()).toEqual([{ id: 1, note: null }]);
    expect(await all()).toEqual([{ id: 1, note: null }]);
  });

  it('a text without parameters (several statements in one) runs unnamed', async () => {
    t = await emptyDatabase({ poolSize: 1 });
    await t.database.db.execute(sql.raw('create table two_steps (n int); insert into two_steps values (1)'));
    expect(await rowsOf(t, sql.raw('select n from two_steps'))).toEqual([{ n: 1 }]);
    expect(await preparedOn(t)).toEqual([]);
  });

  it('switched off (DATABASE_PREPARED_STATEMENTS=off, for an old transaction-mode PgBouncer) nothing is prepared', async () => {
    t = await emptyDatabase({ poolSize: 1, preparedStatements: false });
    await t.database.migrate();
    await t.database.db.select().from(organizations).where(eq(organizations.name, 'a'));
    expect(await preparedOn(t)).toEqual([]);
  });

  it('a list page is planned once per connection (a generic plan), not again on every call; a search, for its own values', async () => {
    t = await emptyDatabase({ poolSize: 1 });
    await t.database.migrate();
    const ctx = { db: t.database.db, sealer: new Sealer(randomBytes(32)) } as unknown as AppContext;
    const orgId = (await createOrganization(ctx, ctx.db, 'plans')).id;
    // A month of check-ins in the month-partitioned table, analysed: what the planner costs a page against.
    await t.database.db.execute(sql`
      insert into checkins (id, org_id, site_id, gate_id, direction, allow, reason, occurred_at)
      select gen_random_uuid(), ${orgId}, ${uuidv7()}, ${uuidv7()}, 'in', true, 'ok', now() - i * interval '1 minute'
      from generate_series(1, 5000) i`);
    await t.database.db.execute(sql.raw('analyze checkins'));
    const gateId = (await rowsOf<{ gate_id: string }>(t, sql`select gate_id from checkins limit 1`))[0]!.gate_id;
    for (let i = 0; i < 12; i++) {
      expect((await listCheckins(ctx, orgId, { limit: 50 })).items).toHaveLength(50);
      await listPasses(ctx, orgId, { any: true }, { limit: 50 });
      // A search: how many rows it matches depends on what it looks for, so it is planned for its values each time.
      expect((await listCheckins(ctx, orgId, { limit: 50, q: gateId })).items).toHaveLength(50);
    }
    const plans = await rowsOf<{ statement: string; generic_plans: number; custom_plans: number }>(
      t,
      sql`select statement, generic_plans::int, custom_plans::int from pg_prepared_statements
          where statement like ${'select %'} and statement like ${'% limit %'}`,
    );
    const of = (table: string) => plans.filter((p) => p.statement.includes(`from "${table}"`));
    // With the LIMIT a parameter, PostgreSQL cannot cost a generic plan and plans each of the twelve calls anew.
    for (const table of ['checkins', 'visit_passes']) {
      const pages = of(table).filter((p) => !p.statement.includes(' or '));
      expect(pages, table).toHaveLength(1);
      expect(pages[0]?.statement, table).toMatch(/ limit 51$/);
      expect(pages[0]?.generic_plans, table).toBeGreaterThanOrEqual(6);
    }
    const searches = of('checkins').filter((p) => p.statement.includes(' or '));
    expect(searches).toHaveLength(1);
    expect(searches[0]?.statement).toMatch(/ limit \$\d+$/);
    expect(searches[0]).toMatchObject({ generic_plans: 0, custom_plans: 12 });
  });

  it(`a connection keeps at most ${PREPARED_PER_CONNECTION} statements; past it new texts still run, unnamed`, async () => {
    t = await emptyDatabase({ poolSize: 1 });
    for (let i = 0; i < PREPARED_PER_CONNECTION + 20; i++) {
      const [r] = await rowsOf<{ n: number }>(t, sql`select ${i}::int + ${sql.raw(String(i))} as n`);
      expect(r?.n).toBe(2 * i);
    }
    expect(await preparedOn(t)).toHaveLength(PREPARED_PER_CONNECTION);
  });
});

describe('DATABASE_PREPARED_STATEMENTS', () => {
  const load = (v?: string) =>
    loadConfig(
      { DATABASE_URL: 'postgres://x@127.0.0.1/y', ...(v === undefined ? {} : { DATABASE_PREPARED_STATEMENTS: v }) },
      { ephemeral: true },
    );
  it('is on unless set off, and refuses anything else', () => {
    expect(load().databasePreparedStatements).toBe(true);
    expect(load('on').databasePreparedStatements).toBe(true);
    expect(load('off').databasePreparedStatements).toBe(false);
    expect(load('false').databasePreparedStatements).toBe(false);
    expect(() => load('sometimes')).toThrow(/DATABASE_PREPARED_STATEMENTS must be on or off/);
  });
});
