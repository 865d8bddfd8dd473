/**
 * Fleet health (issue 16): every controller of an organisation in one list —
 * version and release, last contact, its cache seq beside the cloud's seq for
 * its site (lag in changes and seconds), outbox depth and whether it keeps
 * growing, hardware health, clock skew, its update state and open alarms.
 *
 * Most of it is the gate row as the last status left it (sync/link.ts writes
 * it); the lag, the alarms and the update state are read for the page's gates
 * only, a fixed number of statements per page however long the fleet.
 */
import { and, eq, gt, inArray, isNotNull, isNull, ne, type SQL, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { alarms, gates, sites } from '../../db/schema.js';
import { badRequest } from '../../lib/errors.js';
import { iso, pageLimit } from '../../lib/pagination.js';
import { syncChanges } from '../../sync/schema.js';
import type { FleetSort } from './schema.js';
import { type GateUpdateState, latestUpdateStates } from './updates.js';

export interface FleetQuery {
  limit?: number;
  cursor?: string;
  siteId?: string;
  online?: boolean;
  sort?: FleetSort;
}

type Row = typeof gates.$inferSelect & { siteName: string };

/**
 * The order of each sort as a tuple compared in SQL (`(a, b, id) > (…)`), so the next page starts exactly
 * after the last row of this one: a keyset, stable under inserts, never an offset. `cast` types each cursor
 * value for the comparison; `of` reads it back from a row.
 */
interface SortKey {
  exprs: SQL[];
  casts: Array<'text' | 'int' | 'timestamptz' | 'uuid'>;
  of: (r: Row) => Array<string | number>;
}
const EPOCH = new Date(0);
const SORTS: Record<FleetSort, SortKey> = {
  name: { exprs: [sql`${gates.name}`, sql`${gates.id}`], casts: ['text', 'uuid'], of: (r) => [r.name, r.id] },
  // Never heard from first (null as the epoch), then the longest silent.
  lastSeen: {
    exprs: [sql`coalesce(${gates.lastSeenAt}, to_timestamp(0))`, sql`${gates.id}`],
    casts: ['timestamptz', 'uuid'],
    of: (r) => [(r.lastSeenAt ?? EPOCH).toISOString(), r.id],
  },
  // Deepest first: ascending on the negated depth keeps one comparison direction for the tuple.
  outbox: { exprs: [sql`(-${gates.outboxDepth})`, sql`${gates.id}`], casts: ['int', 'uuid'], of: (r) => [-r.outboxDepth, r.id] },
  // The oldest release first: the serial orders releases (REL-3), version text breaks ties between checkouts.
  version: {
    exprs: [sql`coalesce(${gates.releaseSerial}, 0)`, sql`coalesce(${gates.version}, '')`, sql`${gates.id}`],
    casts: ['int', 'text', 'uuid'],
    of: (r) => [r.releaseSerial ?? 0, r.version ?? '', r.id],
  },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function decodeFleetCursor(cursor: string | undefined, key: SortKey): Array<string | number> | null {
  if (!cursor) return null;
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('invalid cursor');
  }
  const ok =
    Array.isArray(values) &&
    values.length === key.casts.length &&
    values.every((v, i) => {
      const cast = key.casts[i];
      if (cast === 'int') return Number.isSafeInteger(v);
      if (typeof v !== 'string' || v.length > 400) return false;
      if (cast === 'uuid') return UUID.test(v);
      if (cast === 'timestamptz') return !Number.isNaN(Date.parse(v));
      return true;
    });
  if (!ok) throw badRequest('invalid cursor (a cursor belongs to the sort it was made with)');
  return values as Array<string | number>;
}

const encodeCursor = (values: Array<string | number>) => Buffer.from(JSON.stringify(values)).toString('base64url');

function after(key: SortKey, values: Array<string | number>): SQL {
  const params = values.map((v, i) => sql`cast(${v} as ${sql.raw(key.casts[i]!)})`);
  return sql`(${sql.join(key.exprs, sql`, `)}) > (${sql.join(params, sql`, `)})`;
}

export async function listFleet(ctx: AppContext, orgId: string, q: FleetQuery) {
  const limit = q.limit ?? 50;
  const key = SORTS[q.sort ?? 'name'];
  const cursor = decodeFleetCursor(q.cursor, key);
  const rows: Row[] = (
    await ctx.db
      .select({ gate: gates, siteName: sites.name })
      .from(gates)
      .innerJoin(sites, and(eq(sites.id, gates.siteId), eq(sites.orgId, orgId)))
      .where(
        and(
          eq(gates.orgId, orgId),
          isNull(gates.deletedAt),
          q.siteId ? eq(gates.siteId, q.siteId) : undefined,
          q.online === undefined ? undefined : eq(gates.online, q.online),
          cursor ? after(key, cursor) : undefined,
        ),
      )
      .orderBy(...key.exprs)
      .limit(pageLimit(limit + 1))
  ).map((r) => ({ ...r.gate, siteName: r.siteName }));
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor = rows.length > limit && last ? encodeCursor(key.of(last)) : null;
  const facts = await pageFacts(ctx.db, orgId, items);
  return { items: items.map((r) => controllerView(r, facts)), nextCursor };
}

interface PageFacts {
  siteSeq: Map<string, number>;
  /** Age in seconds of the oldest change each gate has not applied. */
  lag: Map<string, number>;
  openAlarms: Map<string, number>;
  updates: Map<string, GateUpdateState>;
}

const age = sql<number>`extract(epoch from now() - min(${syncChanges.createdAt}))::float8`.mapWith(Number);

/** What the rows of a page need beyond the gate row, each read once for the whole page. */
async function pageFacts(db: Executor, orgId: string, rows: readonly Row[]): Promise<PageFacts> {
  if (rows.length === 0) return { siteSeq: new Map(), lag: new Map(), openAlarms: new Map(), updates: new Map() };
  const gateIds = rows.map((r) => r.id);
  const siteIds = [...new Set(rows.map((r) => r.siteId))];
  const [heads, unstamped, unapplied, open, updates] = await Promise.all([
    db
      .select({ siteId: syncChanges.siteId, seq: sql<number>`coalesce(max(${syncChanges.seq}), 0)`.mapWith(Number) })
      .from(syncChanges)
      .where(inArray(syncChanges.siteId, siteIds))
      .groupBy(syncChanges.siteId),
    // A change not stamped yet is behind every edge of its site.
    db
      .select({ siteId: syncChanges.siteId, age })
      .from(syncChanges)
      .where(and(inArray(syncChanges.siteId, siteIds), isNull(syncChanges.seq)))
      .groupBy(syncChanges.siteId),
    // Stamped after what the gate applied (the site_seq index bounds each gate's range).
    db
      .select({ gateId: gates.id, age })
      .from(gates)
      .innerJoin(syncChanges, and(eq(syncChanges.siteId, gates.siteId), gt(syncChanges.seq, gates.cacheSeq)))
      .where(and(inArray(gates.id, gateIds), eq(gates.orgId, orgId), isNotNull(syncChanges.seq)))
      .groupBy(gates.id),
    db
      .select({ gateId: alarms.gateId, n: sql<number>`count(*)::int`.mapWith(Number) })
      .from(alarms)
      .where(and(eq(alarms.orgId, orgId), inArray(alarms.gateId, gateIds), ne(alarms.status, 'cleared')))
      .groupBy(alarms.gateId),
    latestUpdateStates(db, orgId, gateIds),
  ]);
  const siteLag = new Map(unstamped.map((r) => [r.siteId, Math.max(0, r.age)]));
  const lag = new Map<string, number>();
  for (const r of rows) lag.set(r.id, siteLag.get(r.siteId) ?? 0);
  for (const r of unapplied) lag.set(r.gateId, Math.max(lag.get(r.gateId) ?? 0, Math.max(0, r.age)));
  return {
    siteSeq: new Map(heads.map((h) => [h.siteId, h.seq])),
    lag,
    openAlarms: new Map(open.filter((o) => o.gateId !== null).map((o) => [o.gateId!, o.n])),
    updates,
  };
}

function controllerView(r: Row, facts: PageFacts) {
  const siteSeq = facts.siteSeq.get(r.siteId) ?? 0;
  const hardware = r.hardware ?? [];
  return {
    id: r.id,
    name: r.name,
    siteId: r.siteId,
    siteName: r.siteName,
    zoneId: r.zoneId,
    deviceId: r.deviceId,
    disabled: r.disabledAt !== null,
    online: r.online,
    lastSeenAt: iso(r.lastSeenAt),
    version: r.version,
    releaseSerial: r.releaseSerial,
    cacheSeq: r.cacheSeq,
    siteSeq,
    seqLag: Math.max(0, siteSeq - r.cacheSeq),
    // Before its first snapshot an edge is not "behind" by the site's whole history: the snapshot brings it level.
    lagSeconds: r.cacheSeq === 0 ? null : Math.round((facts.lag.get(r.id) ?? 0) * 10) / 10,
    outboxDepth: r.outboxDepth,
    outboxGrowing: r.outboxAlarmAt !== null,
    hardware,
    hardwareHealthy: r.hardware === null ? null : hardware.every((h) => h.healthy),
    clockSkewMs: r.clockSkewMs,
    update: facts.updates.get(r.id) ?? null,
    openAlarms: facts.openAlarms.get(r.id) ?? 0,
  };
}
