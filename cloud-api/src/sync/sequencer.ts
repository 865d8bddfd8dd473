/**
 * Stamps the dense per-site `seq` on committed changes, in the order they
 * became visible, off the write path (DESIGN "Mind how seq is made"). One
 * sequencer per site at a time across all cloud instances (an advisory
 * lock), and its UPDATE reads max(seq) in a snapshot taken after the lock, so
 * every batch gets seqs above every earlier batch: a row that commits late
 * (its transaction was open while later ones were stamped) is simply stamped
 * in a later batch with a higher seq — it can never land behind a cursor an
 * edge already holds. What is never used as a cursor is the bigserial id or
 * the xid (a later id can commit first).
 *
 * Earlier this stamped only rows below `pg_snapshot_xmin`, which made one
 * idle or long transaction anywhere in the database freeze sync to every
 * edge until it ended; visibility order gives the same no-miss guarantee
 * without that wait.
 */
import { sql } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import { rawRows } from '../db/raw.js';
import { syncChanges } from './schema.js';

const siteIds = rawRows(syncChanges, ['siteId']);
const seqs = rawRows(syncChanges, ['seq']);
const changes = rawRows(syncChanges, ['seq', 'entity', 'entityId']);

export async function sitesWithUnstamped(db: Db): Promise<string[]> {
  const r = await db.execute(sql`select distinct ${siteIds.columns} from sync_changes where seq is null`);
  return siteIds.read(r).map((x) => x.siteId);
}

/** Stamps what can be stamped for one site; returns the site's highest seq. */
export async function stampSite(db: Db, siteId: string): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`gh-seq:${siteId}`}))`);
    await tx.execute(sql`
      with cur as (select coalesce(max(seq), 0) as m from sync_changes where site_id = ${siteId}),
      todo as (
        select id, row_number() over (order by xid, id) as rn
        from sync_changes
        where site_id = ${siteId} and seq is null
      )
      update sync_changes c set seq = cur.m + todo.rn from todo, cur where c.id = todo.id`);
    return maxSeq(tx, siteId);
  });
}

export async function maxSeq(db: Executor, siteId: string): Promise<number> {
  const r = await db.execute(sql`select coalesce(max(seq), 0)::bigint as seq from sync_changes where site_id = ${siteId}`);
  return seqs.read(r)[0]?.seq ?? 0;
}

/** Stamped changes after `fromSeq`, oldest first, at most `limit`. */
export async function changesSince(
  db: Db,
  siteId: string,
  fromSeq: number,
  limit: number,
): Promise<{ seq: number; entity: (typeof syncChanges.$inferSelect)['entity']; entityId: string }[]> {
  const r = await db.execute(sql`
    select ${changes.columns} from sync_changes
    where site_id = ${siteId} and seq > ${fromSeq}
    order by seq limit ${limit}`);
  // Stamped rows only (seq > fromSeq), so seq is never null here.
  return changes.read(r).map((x) => ({ seq: x.seq!, entity: x.entity, entityId: x.entityId }));
}
