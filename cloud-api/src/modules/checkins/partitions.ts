/**
 * The months of `checkins` (issue 17 item 4; migration 0022): one partition per UTC month of
 * `occurred_at`, named checkins_yYYYYmMM, beside `checkins_default`, which takes every row no
 * month partition covers. The cloud makes the current month and the next PARTITIONS_AHEAD ahead
 * of time (at start and daily, jobs/checkin-partitions.ts), so ingestion always finds its month;
 * and drops whole months past CHECKINS_RETENTION_MONTHS — a DROP TABLE, not a DELETE of millions
 * of rows.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';

export const DEFAULT_PARTITION = 'checkins_default';
/** Months made beyond the current one; migration 0022 makes the same at its run. */
export const PARTITIONS_AHEAD = 3;
/** One lock for whoever changes the partitions: two instances starting together create each month once. */
const LOCK_KEY = 7_170_004_022;
const NAME = /^checkins_y(\d{4})m(\d{2})$/;

/** The first instant of the UTC month `add` months after the one of `at`. */
export function monthStart(at: Date, add = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + add, 1));
}

/** The partition that holds the UTC month starting at `month`. */
export function partitionName(month: Date): string {
  return `checkins_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The month a partition's name says it holds; null for the DEFAULT one and any other name. */
export function partitionMonth(name: string): Date | null {
  const m = NAME.exec(name);
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)) : null;
}

/** A bound as a literal with its zone, so the session's TimeZone cannot move a month's edge. */
const bound = (d: Date) => `'${d.toISOString()}'`;

type Rows<T> = { rows: T[] };

/** The partitions of `checkins`, DEFAULT included. */
export async function checkinPartitions(db: Executor): Promise<string[]> {
  const r = (await db.execute(sql`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'checkins'::regclass order by c.relname`)) as unknown as Rows<{ name: string }>;
  return r.rows.map((x) => x.name);
}

/**
 * Makes the partition of each UTC month from `from`'s (default: the current one) to PARTITIONS_AHEAD
 * (or `ahead`) months after the current one, if it is not there yet; answers the ones it made.
 *
 * A month may already have rows in DEFAULT (an edge's clock ahead, a month the job had not reached,
 * rows kept from before 0022), and PostgreSQL refuses CREATE TABLE … PARTITION OF while DEFAULT holds
 * rows of the new bounds. So the month is made as a plain table, its rows moved out of DEFAULT into
 * it, and it is attached — in one transaction that holds DEFAULT locked throughout, so no row of the
 * month can land in DEFAULT between the move and the attach (which checks DEFAULT again). Rows of
 * the month that arrive meanwhile wait for the lock (DEFAULT is small: only such strays) and then
 * route to the new partition. Far-off months are never made: a wild clock's rows stay in DEFAULT.
 */
export async function ensureCheckinPartitions(db: Executor, opts: { now?: Date; from?: Date; ahead?: number } = {}): Promise<string[]> {
  const now = opts.now ?? new Date();
  const last = monthStart(now, opts.ahead ?? PARTITIONS_AHEAD);
  const existing = new Set(await checkinPartitions(db));
  const made: string[] = [];
  for (let m = monthStart(opts.from ?? now); m <= last; m = monthStart(m, 1)) {
    const name = partitionName(m);
    if (existing.has(name)) continue;
    if (await createMonth(db, m)) made.push(name);
  }
  return made;
}

async function createMonth(db: Executor, month: Date): Promise<boolean> {
  const name = partitionName(month);
  const lo = bound(month);
  const hi = bound(monthStart(month, 1));
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_KEY})`);
    // Another instance may have made it while this one waited for the lock.
    const there = (await tx.execute(sql`select to_regclass(${name}) is not null as there`)) as unknown as Rows<{ there: boolean }>;
    if (there.rows[0]?.there) return false;
    // Before anything else, so the ATTACH below does not have to upgrade a lesser lock (a deadlock with an insert).
    await tx.execute(sql.raw(`lock table ${DEFAULT_PARTITION} in access exclusive mode`));
    await tx.execute(sql.raw(`create table ${name} (like checkins including defaults)`));
    await tx.execute(
      sql.raw(`with moved as (delete from ${DEFAULT_PARTITION} where occurred_at >= ${lo} and occurred_at < ${hi} returning *)
               insert into ${name} select * from moved`),
    );
    await tx.execute(sql.raw(`alter table checkins attach partition ${name} for values from (${lo}) to (${hi})`));
    return true;
  });
}

export interface RetentionReport {
  /** Rows older than this are gone: the first instant of the oldest month kept. */
  before: Date;
  /** The month partitions dropped. */
  dropped: string[];
  /** Rows deleted from DEFAULT (dated before `before`). */
  deletedFromDefault: number;
}

/**
 * Drops every month partition that ends at or before `before` = the start of the UTC month that
 * `retentionMonths` months ago falls in: only months wholly older than the retention, so a row is
 * kept at least that long (and at most a month more). DEFAULT is never dropped: its rows older than `before` are deleted.
 * Each drop waits at most 5 s for its lock (it needs the table to itself a moment; a long report
 * holding it must not queue every insert behind the drop): a drop that could not is retried by the
 * job's next attempt.
 */
export async function dropExpiredCheckins(db: Executor, retentionMonths: number, now = new Date()): Promise<RetentionReport> {
  // `now` less the retention falls in this month whatever the day: the months before it are wholly older.
  const before = monthStart(now, -retentionMonths);
  const dropped: string[] = [];
  for (const name of await checkinPartitions(db)) {
    const month = partitionMonth(name);
    if (!month || monthStart(month, 1) > before) continue;
    await db.transaction(async (tx) => {
      await tx.execute(sql`set local lock_timeout = '5s'`);
      await tx.execute(sql.raw(`drop table if exists ${name}`));
    });
    dropped.push(name);
  }
  const del = (await db.execute(
    sql`with gone as (delete from ${sql.identifier(DEFAULT_PARTITION)} where occurred_at < ${before.toISOString()}::timestamptz returning 1)
        select count(*)::int as n from gone`,
  )) as unknown as Rows<{ n: number }>;
  return { before, dropped, deletedFromDefault: Number(del.rows[0]?.n ?? 0) };
}
