/**
 * Issue 17 item 4: check-ins partitioned by UTC month (migration 0022, modules/checkins/partitions.ts),
 * on both databases. Rows land in their month's partition, a re-delivered batch stays stored once, a
 * row dated where no month partition exists lands in DEFAULT and is moved when its month is made,
 * retention drops whole months only (DEFAULT's old rows deleted), the daily job does it through the
 * queue, the lists read across months — and the migration moves the rows of an unpartitioned table.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CheckinEvent, uuidv7 } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { type Database, type Executor, MIGRATIONS_DIR } from '../src/db/client.js';
import { CHECKIN_PARTITIONS_CRON, CHECKIN_PARTITIONS_QUEUE, maintainCheckinPartitions } from '../src/jobs/checkin-partitions.js';
import { NO_ORG } from '../src/lib/audit.js';
import {
  checkinPartitions,
  DEFAULT_PARTITION,
  ensureCheckinPartitions,
  monthStart,
  partitionName,
} from '../src/modules/checkins/partitions.js';
import { storeCheckins } from '../src/modules/checkins/service.js';
import { createOrgWithUser, emptyDatabase, type Login, seedTopology, startApp, type TestApp, until } from './helpers.js';

type Rows<T> = { rows: T[] };
const rows = async <T>(db: Executor, q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as Rows<T>).rows;

/** The partition each of `ids` is stored in (absent: not stored). */
async function whereStored(db: Executor, ids: string[]): Promise<Record<string, string>> {
  const r = await rows<{ id: string; part: string }>(
    db,
    sql`select id::text as id, tableoid::regclass::text as part from checkins where id = any(${sql.param(ids)}::uuid[])`,
  );
  return Object.fromEntries(r.map((x) => [x.id, x.part]));
}

const DAY = 86_400_000;

describe('check-ins partitioned by month', () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const now = new Date();
  const event = (at: number, allow = true): CheckinEvent => ({
    id: uuidv7(Math.max(0, at)),
    type: 'attempt',
    gateId: topo.gate.id,
    passId: null,
    credentialKind: 'none',
    direction: 'in',
    allow,
    reason: allow ? 'ok' : 'unknown',
    occurredAt: at,
  });
  const store = (events: CheckinEvent[]) =>
    storeCheckins(t.app.ctx.db, { orgId: admin.orgId, siteId: topo.site.id, deviceId: null }, events);
  const count = async (ids: string[]) =>
    (await rows<{ n: number }>(t.app.ctx.db, sql`select count(*)::int as n from checkins where id = any(${sql.param(ids)}::uuid[])`))[0]?.n;

  beforeAll(async () => {
    t = await startApp({ checkinRetentionMonths: 3 });
    admin = await createOrgWithUser(t.app, 'Partitioned Org', ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is partitioned by range of occurred_at, with DEFAULT and the current month and the three next made at start', async () => {
    const [k] = await rows<{ kind: string }>(t.app.ctx.db, sql`select relkind::text as kind from pg_class where relname = 'checkins'`);
    expect(k?.kind).toBe('p');
    const parts = await checkinPartitions(t.app.ctx.db);
    for (let m = 0; m <= 3; m++) expect(parts).toContain(partitionName(monthStart(now, m)));
    expect(parts).toContain(DEFAULT_PARTITION);
  });

  it("stores a row in its month's partition, and a re-delivered batch once", async () => {
    const batch = [event(now.getTime() - 60_000), event(monthStart(now, 1).getTime() + DAY), event(monthStart(now, 3).getTime() + 5 * DAY)];
    const ids = batch.map((e) => e.id);
    expect((await store(batch)).map((c) => c.id).sort()).toEqual([...ids].sort());
    expect(await whereStored(t.app.ctx.db, ids)).toEqual({
      [ids[0] as string]: partitionName(monthStart(now)),
      [ids[1] as string]: partitionName(monthStart(now, 1)),
      [ids[2] as string]: partitionName(monthStart(now, 3)),
    });
    // The same batch again (QoS 1, a restart mid-batch): nothing new, nothing doubled.
    expect(await store(batch)).toEqual([]);
    expect(await count(ids)).toBe(3);
  });

  it('keeps a row dated where no month partition is in DEFAULT, and moves it into its month when that month is made', async () => {
    const far = event(monthStart(now, 8).getTime() + 3 * DAY);
    const ancient = event(Date.UTC(1970, 0, 2));
    await store([far, ancient]);
    expect(await whereStored(t.app.ctx.db, [far.id, ancient.id])).toEqual({ [far.id]: DEFAULT_PARTITION, [ancient.id]: DEFAULT_PARTITION });

    // PostgreSQL refuses CREATE … PARTITION OF while DEFAULT holds rows of the new month: it must still be made.
    const made = await ensureCheckinPartitions(t.app.ctx.db, { now, ahead: 8 });
    expect(made).toEqual([4, 5, 6, 7, 8].map((m) => partitionName(monthStart(now, m))));
    expect(await whereStored(t.app.ctx.db, [far.id, ancient.id])).toEqual({
      [far.id]: partitionName(monthStart(now, 8)),
      [ancient.id]: DEFAULT_PARTITION,
    });
    // Once moved, its copy meets it in the new partition: still stored once.
    expect(await store([far])).toEqual([]);
    expect(await count([far.id])).toBe(1);
    // Made already: a second run (another instance, the next day) makes nothing.
    expect(await ensureCheckinPartitions(t.app.ctx.db, { now, ahead: 8 })).toEqual([]);
  });

  it('retention drops the month partitions wholly older than it, deletes DEFAULT rows as old, keeps the rest, and audits it', async () => {
    const db = t.app.ctx.db;
    await ensureCheckinPartitions(db, { now, from: monthStart(now, -6) });
    // One row in the middle of each of the six months before this one.
    const past = [-6, -5, -4, -3, -2, -1].map((m) => event(monthStart(now, m).getTime() + 10 * DAY));
    const ancient = event(Date.UTC(1971, 5, 1));
    const future = event(monthStart(now, 20).getTime());
    await store([...past, ancient, future]);
    expect((await whereStored(db, [ancient.id, future.id]))[future.id]).toBe(DEFAULT_PARTITION);
    const before = await checkinPartitions(db);

    const report = await maintainCheckinPartitions(db, 3, now);
    const gone = [-6, -5, -4].map((m) => partitionName(monthStart(now, m)));
    expect(report.retention?.before).toEqual(monthStart(now, -3));
    expect(report.retention?.dropped).toEqual(gone);
    // The 1970 row of the test before and this one; the one dated ahead stays.
    expect(report.retention?.deletedFromDefault).toBe(2);
    expect(await checkinPartitions(db)).toEqual(before.filter((p) => !gone.includes(p)));
    const left = await whereStored(db, [...past.map((e) => e.id), ancient.id, future.id]);
    expect(left).toEqual({
      [past[3]?.id as string]: partitionName(monthStart(now, -3)),
      [past[4]?.id as string]: partitionName(monthStart(now, -2)),
      [past[5]?.id as string]: partitionName(monthStart(now, -1)),
      [future.id]: DEFAULT_PARTITION,
    });
    const audit = await rows<{ org_id: string; data: { dropped: string[]; deletedFromDefault: number } }>(
      db,
      sql`select org_id::text, data from audit_logs where action = 'checkins.retention'`,
    );
    expect(audit).toEqual([
      { org_id: NO_ORG, data: expect.objectContaining({ dropped: gone, deletedFromDefault: 2, retentionMonths: 3 }) },
    ]);
    // Nothing older left: the next run removes nothing and writes no audit row.
    const again = await maintainCheckinPartitions(db, 3, now);
    expect(again.retention).toMatchObject({ dropped: [], deletedFromDefault: 0 });
    expect(await maintainCheckinPartitions(db, null, now)).toEqual({ created: [], retention: null });
    expect((await rows<{ n: number }>(db, sql`select count(*)::int as n from audit_logs where action = 'checkins.retention'`))[0]?.n).toBe(
      1,
    );
  });

  it('runs daily on the queue: the job drops a month past CHECKINS_RETENTION_MONTHS', async () => {
    const db = t.app.ctx.db;
    const sched = await rows<{ cron: string; data: { orgId: string } }>(
      db,
      sql`select cron, data from pgboss.schedule where name = ${CHECKIN_PARTITIONS_QUEUE}`,
    );
    expect(sched).toEqual([{ cron: CHECKIN_PARTITIONS_CRON, data: { orgId: NO_ORG } }]);
    const old = monthStart(new Date(), -9);
    expect(await ensureCheckinPartitions(db, { now: old, ahead: 0 })).toEqual([partitionName(old)]);
    const e = event(old.getTime() + DAY);
    await store([e]);
    expect(await whereStored(db, [e.id])).toEqual({ [e.id]: partitionName(old) });
    await t.app.ctx.jobs.send(CHECKIN_PARTITIONS_QUEUE, { orgId: NO_ORG });
    await until(async () => !(await checkinPartitions(db)).includes(partitionName(old)), 'the partition job', 20_000);
    expect(await count([e.id])).toBe(0);
  });

  it('lists newest first across months by keyset, filters a time range to its month, and counts the dashboard', async () => {
    const db = t.app.ctx.db;
    const get = async (url: string) => {
      const r = await t.app.inject({ method: 'GET', url, headers: admin.auth });
      expect(r.statusCode, r.body).toBe(200);
      return r.json();
    };
    await store([event(now.getTime() - 2 * 3_600_000, false), event(monthStart(now, -1).getTime() + DAY)]);
    const all = (
      await rows<{ id: string }>(db, sql`select id::text as id from checkins where org_id = ${admin.orgId} order by id desc`)
    ).map((r) => r.id);
    expect(new Set(Object.values(await whereStored(db, all))).size).toBeGreaterThan(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p = (await get(`/api/admin/checkins?limit=3${cursor ? `&cursor=${cursor}` : ''}`)) as {
        items: Array<{ id: string }>;
        nextCursor: string | null;
      };
      seen.push(...p.items.map((c) => c.id));
      cursor = p.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);

    const m = monthStart(now, 1);
    const inMonth = await rows<{ id: string }>(
      db,
      sql`select id::text as id from checkins where org_id = ${admin.orgId}
          and occurred_at >= ${m.toISOString()}::timestamptz and occurred_at < ${monthStart(now, 2).toISOString()}::timestamptz order by id desc`,
    );
    expect(inMonth.length).toBeGreaterThan(0);
    const ranged = (await get(`/api/admin/checkins?limit=50&since=${m.toISOString()}&until=${monthStart(now, 2).toISOString()}`)) as {
      items: Array<{ id: string }>;
    };
    expect(ranged.items.map((c) => c.id)).toEqual(inMonth.map((r) => r.id));

    const dash = (await get(`/api/admin/dashboard?siteId=${topo.site.id}`)) as { since: string; allowed: number; denied: number };
    const [c] = await rows<{ allowed: number; denied: number }>(
      db,
      sql`select (count(*) filter (where allow))::int as allowed, (count(*) filter (where not allow))::int as denied from checkins
          where org_id = ${admin.orgId} and occurred_at >= ${dash.since}::timestamptz and occurred_at <= now()`,
    );
    expect(c?.denied).toBeGreaterThan(0);
    expect({ allowed: dash.allowed, denied: dash.denied }).toEqual(c);
  });

  it('a time range lists newest first by when it happened, then id, and pages through every row once with its time cursor', async () => {
    const get = async (url: string) => {
      const r = await t.app.inject({ method: 'GET', url, headers: admin.auth });
      return { status: r.statusCode, body: r.json() as { items: Array<{ id: string; occurredAt: string }>; nextCursor: string | null } };
    };
    // A day some months back; ids made later than the events happened (an edge's backlog after its clock was
    // set back), so id order is not time order; three events share one millisecond.
    const day = monthStart(now, -2).getTime() + 5 * DAY;
    const later = monthStart(now, -1).getTime();
    const made = [0, 1, 2, 3, 4, 5, 6].map((i) => ({ ...event(day + (i < 3 ? 3_600_000 : i * 600_000)), id: uuidv7(later + (7 - i)) }));
    await store(made);
    const expected = [...made].sort((a, b) => b.occurredAt - a.occurredAt || (b.id < a.id ? -1 : 1)).map((e) => e.id);
    const range = `since=${new Date(day).toISOString()}&until=${new Date(day + DAY).toISOString()}`;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p = await get(`/api/admin/checkins?limit=2&${range}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(p.status).toBe(200);
      seen.push(...p.body.items.map((c) => c.id));
      cursor = p.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expected);
    // An id cursor (of a list without a range) or garbage is no time cursor.
    expect((await get(`/api/admin/checkins?limit=2&${range}&cursor=${Buffer.from(made[0]!.id).toString('base64url')}`)).status).toBe(400);
    expect((await get(`/api/admin/checkins?limit=2&${range}&cursor=zz.not-an-id`)).status).toBe(400);
  });
});

describe('CHECKINS_RETENTION_MONTHS', () => {
  const key = { GATEHOUSE_MASTER_KEY: '11'.repeat(32) };
  it('is unset by default (kept for ever), a whole number of months when set, and refused otherwise', () => {
    expect(loadConfig(key, { ephemeral: true }).checkinRetentionMonths).toBeNull();
    expect(loadConfig({ ...key, CHECKINS_RETENTION_MONTHS: '13' }, { ephemeral: true }).checkinRetentionMonths).toBe(13);
    for (const bad of ['0', '-1', '1.5', 'twelve'])
      expect(() => loadConfig({ ...key, CHECKINS_RETENTION_MONTHS: bad }, { ephemeral: true })).toThrow(ConfigError);
  });
});

describe('migration 0022 on a table of check-ins', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let folder: string;

  beforeAll(async () => {
    // The migrations up to 0021 only: a database as it stood before check-ins were partitioned.
    folder = mkdtempSync(join(tmpdir(), 'gh-mig-'));
    cpSync(MIGRATIONS_DIR, folder, { recursive: true });
    rmSync(join(folder, '0022_checkins_partitioned.sql'));
    const journalFile = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: Array<{ idx: number }> };
    journal.entries = journal.entries.filter((e) => e.idx < 22);
    writeFileSync(journalFile, JSON.stringify(journal));

    const db = await emptyDatabase({ poolSize: 2 });
    database = db.database;
    drop = db.drop;
    if (database.pglite) await migratePglite(drizzlePglite(database.pglite), { migrationsFolder: folder });
    else await migratePg(database.db as unknown as NodePgDatabase, { migrationsFolder: folder });
  });
  afterAll(async () => {
    await drop?.();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('moves every row into its month or DEFAULT, with the key, foreign key and indexes on the partitioned table', async () => {
    const db = database.db;
    const now = new Date();
    const org = uuidv7();
    await db.execute(sql`insert into organizations (id, org_id, name, signing_kid, signing_public_key, signing_key_enc)
                         values (${org}, ${org}, 'Before 0022', 'k', 'p', 'e')`);
    const dates = [
      now, // this month
      new Date(Date.UTC(2025, 2, 14, 9)), // a past month that holds rows: a partition of its own
      new Date(Date.UTC(1970, 0, 1, 0, 5)), // an edge that booted at the epoch: DEFAULT
      new Date(Date.UTC(2099, 6, 1)), // a clock far ahead: DEFAULT
    ];
    const ids = dates.map((d) => uuidv7(Math.max(0, d.getTime())));
    for (const [i, d] of dates.entries()) {
      await db.execute(sql`insert into checkins (id, org_id, site_id, gate_id, direction, allow, reason, occurred_at, counted, alert)
        values (${ids[i]}, ${org}, ${uuidv7()}, ${uuidv7()}, 'in', ${i % 2 === 0}, 'ok', ${d.toISOString()}::timestamptz, true, ${`a${i}`})`);
    }
    const snapshot = () =>
      rows<Record<string, unknown>>(
        db,
        sql`select id::text, org_id::text, site_id::text, gate_id::text, type, credential_kind, direction, allow, reason,
                   occurred_at::text, received_at::text, counted, alert from checkins order by id`,
      );
    const was = await snapshot();

    await database.migrate();

    expect(await snapshot()).toEqual(was);
    expect(await whereStored(db, ids)).toEqual({
      [ids[0] as string]: partitionName(monthStart(now)),
      [ids[1] as string]: 'checkins_y2025m03',
      [ids[2] as string]: DEFAULT_PARTITION,
      [ids[3] as string]: DEFAULT_PARTITION,
    });
    const parts = await checkinPartitions(db);
    expect(parts).toEqual([DEFAULT_PARTITION, 'checkins_y2025m03', ...[0, 1, 2, 3].map((m) => partitionName(monthStart(now, m)))].sort());
    const idx = await rows<{ indexname: string }>(
      db,
      sql`select indexname from pg_indexes where schemaname = 'public' and tablename = 'checkins' order by indexname`,
    );
    expect(idx.map((i) => i.indexname)).toEqual([
      'checkins_denied_gate_time_idx',
      'checkins_denied_idx',
      'checkins_gate_idx',
      'checkins_gate_time_idx',
      'checkins_occurred_idx',
      'checkins_org_idx',
      'checkins_pass_idx',
      'checkins_pkey',
      'checkins_site_idx',
      'checkins_site_time_idx',
    ]);
    const cons = await rows<{ conname: string; def: string }>(
      db,
      sql`select conname, pg_get_constraintdef(oid) as def from pg_constraint
          where conrelid = 'checkins'::regclass and contype in ('p', 'f') order by conname`,
    );
    expect(cons).toEqual([
      { conname: 'checkins_org_id_organizations_id_fk', def: expect.stringContaining('REFERENCES organizations(id)') },
      { conname: 'checkins_pkey', def: 'PRIMARY KEY (id, occurred_at)' },
    ]);
    expect(await rows(db, sql`select 1 from pg_class where relname = 'checkins_unpartitioned'`)).toEqual([]);
    // The key is there to conflict on: the row delivered again is not stored twice.
    const again = await rows(
      db,
      sql`insert into checkins (id, org_id, site_id, gate_id, direction, allow, reason, occurred_at)
          values (${ids[1]}, ${org}, ${uuidv7()}, ${uuidv7()}, 'in', true, 'ok', ${(dates[1] as Date).toISOString()}::timestamptz)
          on conflict (id, occurred_at) do nothing returning id`,
    );
    expect(again).toEqual([]);
  });
});
