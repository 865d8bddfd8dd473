import type { CheckinEvent } from '@gatehouse/protocol';
import { and, desc, eq, gte, lt, or, type Placeholder, sql } from 'drizzle-orm';
import type { PgSelect } from 'drizzle-orm/pg-core';
import type { AppContext, Principal } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { rawRows } from '../../db/raw.js';
import { appointments, checkins, hosts, users, visitors, visitPasses } from '../../db/schema.js';
import { QueryShapes } from '../../db/shapes.js';
import type { Sealer } from '../../lib/crypto.js';
import type { EventBus, LiveEvent } from '../../lib/events.js';
import { decodeCursor, decodeTimeCursor, page, pageLimit, timePage } from '../../lib/pagination.js';
import { parseSearch, passIdsMatching } from '../../lib/search.js';
import { openUserName, openVisitorName } from '../orgs/personal-data.js';

/** Only what the API shows: fewer columns to map per row on the hottest list. */
const listed = {
  id: checkins.id,
  passId: checkins.passId,
  gateId: checkins.gateId,
  siteId: checkins.siteId,
  type: checkins.type,
  credentialKind: checkins.credentialKind,
  direction: checkins.direction,
  allow: checkins.allow,
  reason: checkins.reason,
  occurredAt: checkins.occurredAt,
  receivedAt: checkins.receivedAt,
  counted: checkins.counted,
  alert: checkins.alert,
  alarmKind: checkins.alarmKind,
  alarmState: checkins.alarmState,
  alarmDetail: checkins.alarmDetail,
};
type Row = Pick<typeof checkins.$inferSelect, keyof typeof listed>;
/** The same columns from the raw ingest statement's `returning`. */
const insertedRows = rawRows(checkins, Object.keys(listed) as (keyof typeof listed)[]);
/**
 * The names a check-in is shown with (guard view): its pass's visitor and the
 * host of the pass's appointment, as stored (sealed), opened per row by `openNames`.
 */
export interface SealedNames {
  visitorId: string | null;
  visitorNameEnc: string | null;
  /** Plaintext of a row not yet sealed (before migration 0010). */
  visitorName: string | null;
  hostUserId: string | null;
  hostNameEnc: string | null;
  hostName: string | null;
}

/**
 * The `SealedNames` columns, read through left joins from a pass to its
 * visitor and to its appointment's host user (the list and ingestion both).
 */
export const sealedNameColumns = {
  visitorId: visitors.id,
  visitorNameEnc: visitors.fullNameEnc,
  visitorName: visitors.fullName,
  hostUserId: users.id,
  hostNameEnc: users.fullNameEnc,
  hostName: users.fullName,
};

/**
 * Adds to a query that has `visitPasses` the joins `sealedNameColumns` reads: the pass's visitor and its
 * appointment's host user, every one org-scoped, so a row names only its own organisation's people.
 * (Primary-key lookups: no query per row.) The list, ingestion, the muster and the occupancy share it.
 */
export function joinPassNames<T extends PgSelect>(q: T, orgId: string | Placeholder) {
  return q
    .leftJoin(visitors, and(eq(visitors.id, visitPasses.visitorId), eq(visitors.orgId, orgId)))
    .leftJoin(appointments, and(eq(appointments.id, visitPasses.appointmentId), eq(appointments.orgId, orgId)))
    .leftJoin(hosts, and(eq(hosts.id, appointments.hostId), eq(hosts.orgId, orgId)))
    .leftJoin(users, and(eq(users.id, hosts.userId), eq(users.orgId, orgId)));
}

/** Which names a caller may read: a visitor's with visitors:read, a host's with hosts:read. */
export interface NameAccess {
  visitors: boolean;
  hosts: boolean;
}
export const ALL_NAMES: NameAccess = { visitors: true, hosts: true };
export const nameAccess = (p: Pick<Principal, 'permissions'>): NameAccess => ({
  visitors: p.permissions.has('visitors:read'),
  hosts: p.permissions.has('hosts:read'),
});

export interface CheckinNames {
  visitorName: string | null;
  hostName: string | null;
}
const NO_NAMES: CheckinNames = { visitorName: null, hostName: null };

/** The check-in page's and the pass names' prepared queries. */
const shapes = new QueryShapes();

export function openNames(sealer: Sealer, n: SealedNames, access: NameAccess = ALL_NAMES): CheckinNames {
  return {
    visitorName:
      access.visitors && n.visitorId && (n.visitorNameEnc ?? n.visitorName) !== null
        ? openVisitorName(sealer, n.visitorId, { fullName: n.visitorName, fullNameEnc: n.visitorNameEnc })
        : null,
    hostName: access.hosts && n.hostUserId ? openUserName(sealer, n.hostUserId, n.hostName, n.hostNameEnc) : null,
  };
}

export const checkinView = (r: Row, names: CheckinNames = NO_NAMES) => ({
  id: r.id,
  passId: r.passId,
  gateId: r.gateId,
  siteId: r.siteId,
  type: r.type,
  credentialKind: r.credentialKind,
  direction: r.direction,
  allow: r.allow,
  reason: r.reason,
  occurredAt: r.occurredAt.toISOString(),
  receivedAt: r.receivedAt.toISOString(),
  counted: r.counted,
  // Only when present: the answer stays the one CONTRACT lists for an ordinary check-in.
  ...(r.alert ? { alert: r.alert } : {}),
  ...(r.alarmKind && r.alarmState
    ? { alarm: { kind: r.alarmKind, state: r.alarmState, ...(r.alarmDetail !== null ? { detail: r.alarmDetail } : {}) } }
    : {}),
  visitorName: names.visitorName,
  hostName: names.hostName,
});
export type CheckinView = ReturnType<typeof checkinView>;

/**
 * A `checkin.created` event as one viewer may see it: the names their
 * permissions do not cover are blanked (the bus carries every name to every
 * subscriber of the organisation; the socket filters per subscriber).
 */
export function eventForViewer(e: LiveEvent, access: NameAccess): LiveEvent {
  if (e.type !== 'checkin.created' || (access.visitors && access.hosts)) return e;
  return {
    ...e,
    data: {
      ...e.data,
      ...(access.visitors ? {} : { visitorName: null }),
      ...(access.hosts ? {} : { hostName: null }),
    },
  };
}

export interface CheckinQuery {
  limit?: number;
  cursor?: string;
  gateId?: string;
  passId?: string;
  siteId?: string;
  since?: string;
  until?: string;
  result?: 'allow' | 'deny';
  q?: string;
}

/**
 * Newest first by id (edge-made UUIDv7, so by occurrence), filters on indexed
 * columns. Within a time range (since / until) newest first by occurred_at
 * then id, on the (org, occurred_at) index of the range's months only: by id,
 * the planner walked every newer row to reach an old day (a one-day range p99
 * 1.7 s at ten million check-ins, bench:large); its pages' cursors carry the
 * time (decodeTimeCursor). The page's passes are then read with their visitor's and their
 * appointment's host's names in one more statement (primary-key lookups, no query per row), and
 * the names are opened per row as far as `access` allows.
 */
export async function listCheckins(ctx: AppContext, orgId: string, q: CheckinQuery, access: NameAccess = ALL_NAMES) {
  const limit = q.limit ?? 50;
  const ranged = q.since !== undefined || q.until !== undefined;
  const cursor = ranged ? null : decodeCursor(q.cursor);
  const after = ranged ? decodeTimeCursor(q.cursor) : null;
  const term = parseSearch(ctx.sealer, q.q);
  const search = !term
    ? undefined
    : term.kind === 'id'
      ? or(eq(checkins.id, term.id), eq(checkins.passId, term.id), eq(checkins.gateId, term.id))
      : sql`${checkins.passId} in (${passIdsMatching(orgId, term)})`;
  const at = sql.placeholder;
  // Every value a placeholder: without a search, one prepared query per combination of filters (db/shapes.ts).
  const build = (db: Executor) =>
    db
      .select(listed)
      .from(checkins)
      .where(
        and(
          eq(checkins.orgId, at('org')),
          q.gateId ? eq(checkins.gateId, at('gate')) : undefined,
          q.passId ? eq(checkins.passId, at('pass')) : undefined,
          q.siteId ? eq(checkins.siteId, at('site')) : undefined,
          q.since ? gte(checkins.occurredAt, at('since')) : undefined,
          q.until ? lt(checkins.occurredAt, at('until')) : undefined,
          // Written out, not `allow = $n`: a generic plan (pageLimit) can use the partial indexes of refused check-ins
          // only for a condition it can see is theirs (gate+deny+range fell to 33 pages/s, p99 2.4 s, with a parameter).
          q.result ? (q.result === 'allow' ? sql`${checkins.allow}` : sql`not ${checkins.allow}`) : undefined,
          search,
          cursor ? lt(checkins.id, at('cursor')) : undefined,
          after ? sql`(${checkins.occurredAt}, ${checkins.id}) < (${at('afterAt')}::timestamptz, ${at('afterId')}::uuid)` : undefined,
        ),
      )
      .orderBy(...(ranged ? [desc(checkins.occurredAt), desc(checkins.id)] : [desc(checkins.id)]))
      .limit(pageLimit(limit + 1, term));
  const values = {
    org: orgId,
    gate: q.gateId,
    pass: q.passId,
    site: q.siteId,
    since: q.since && new Date(q.since).toISOString(),
    until: q.until && new Date(q.until).toISOString(),
    cursor,
    afterAt: after?.at.toISOString(),
    afterId: after?.id,
  };
  const filters = [ranged, q.gateId, q.passId, q.siteId, q.since, q.until, cursor, after].map((v) => (v ? 1 : 0)).join('');
  const rows = await shapes.run(ctx.db, search ? null : `page:${filters}${q.result ?? ''}:${limit}`, build, values);
  // The page's names in a second statement, per distinct pass (org-scoped: a row names only its own organisation's
  // pass): joined in the page's own statement, the five-way join over the month partitions was planned again on
  // every call (when its LIMIT was a parameter, see pageLimit), 1.0 ms of planning for 0.4 ms of work; apart,
  // PostgreSQL spent 40% less on a page (1.8–2.0 → 1.14–1.16 ms of CPU at ten million check-ins, bench:large).
  const passIds = access.visitors || access.hosts ? [...new Set(rows.flatMap((r) => (r.passId ? [r.passId] : [])))] : [];
  const sides = passIds.length ? await passSides(ctx.db, orgId, passIds) : new Map<string, PassSide>();
  const views = rows.map((r) =>
    checkinView(r, openNames(ctx.sealer, (r.passId ? sides.get(r.passId)?.names : undefined) ?? NO_SEALED_NAMES, access)),
  );
  return ranged ? timePage(views, limit, (v) => v.occurredAt) : page(views, limit);
}

/** Where a stored check-in's pass stands in the visitor's journey (arrivals/service.ts): null without a pass. */
export interface PassJourney {
  appointmentId: string | null;
  arrivedAt: Date | null;
  leftAt: Date | null;
}

/** A check-in just stored, with its names still sealed and its pass's journey. */
export interface StoredCheckin {
  row: Row;
  names: SealedNames;
  journey: PassJourney | null;
}

/**
 * Inserts events from a gate idempotently — the hot path of ingestion. One
 * multi-row INSERT … ON CONFLICT DO NOTHING on the edge-made UUIDv7 with its
 * occurred_at (the key of the month-partitioned table, migration 0022: an edge
 * event is immutable, so its copy has both the same), so a batch delivered
 * twice (QoS 1, a restart mid-batch, two instances) stores each event once;
 * raw SQL because DESIGN measured drizzle's builder at ~26k rows/s against
 * ~72k for the raw statement. The gate is the caller's (the
 * MQTT topic's device), never the event's own claim; so is the organisation: a
 * pass id that is not a pass of the gate's org is stored as no pass (the event
 * happened at this gate, but it is never counted against another org's pass).
 *
 * Then, only if new rows name a pass, one query reads for those passes (one
 * row per distinct pass) the sealed names the guard view shows and where each
 * pass stands in the visitor's journey (arrived, left): what the live feed
 * and the arrival notice need, without a query per check-in. (Measured: read
 * in the insert statement itself, through a CTE, cost every batch ~20% even
 * with no pass to read.) Answers only the rows that were new.
 */
export async function insertCheckins(
  db: Executor,
  gate: { orgId: string; siteId: string; gateId?: string; deviceId: string | null },
  events: readonly CheckinEvent[],
): Promise<StoredCheckin[]> {
  if (events.length === 0) return [];
  // One array per column through unnest(): drizzle and pg build and serialise a few arrays, not 12
  // placeholders per row (5× less CPU per 500-row batch, and the statement runs ~2× faster).
  const col = <T>(f: (e: CheckinEvent) => T) => sql.param(events.map(f));
  const org = gate.orgId;
  const result = await db.execute(sql`
    insert into checkins (id, org_id, site_id, gate_id, pass_id, device_id, type, credential_kind, direction, allow, reason, occurred_at,
                          counted, alert, alarm_kind, alarm_state, alarm_detail)
    select u.id, ${org}, ${gate.siteId}, u.gate_id, p.id, ${gate.deviceId}, u.type, u.kind, u.direction, u.allow, u.reason, u.occurred_at,
           u.counted, u.alert, u.alarm_kind, u.alarm_state, u.alarm_detail
    from unnest(${col((e) => e.id)}::uuid[], ${col((e) => gate.gateId ?? e.gateId)}::uuid[], ${col((e) => e.passId)}::uuid[],
                ${col((e) => e.type)}::text[], ${col((e) => e.credentialKind)}::text[], ${col((e) => e.direction)}::text[],
                ${col((e) => e.allow)}::boolean[], ${col((e) => e.reason)}::text[], ${col((e) => new Date(e.occurredAt).toISOString())}::timestamptz[],
                ${col((e) => e.counted === true)}::boolean[], ${col((e) => e.alert ?? null)}::text[], ${col((e) => e.alarm?.kind ?? null)}::text[],
                ${col((e) => e.alarm?.state ?? null)}::text[], ${col((e) => e.alarm?.detail ?? null)}::text[])
      as u(id, gate_id, pass_id, type, kind, direction, allow, reason, occurred_at, counted, alert, alarm_kind, alarm_state, alarm_detail)
    left join visit_passes p on p.id = u.pass_id and p.org_id = ${org}
    where true
    on conflict (id, occurred_at) do nothing
    returning ${insertedRows.columns}`);
  const rows = insertedRows.read(result);
  // One more query only when new rows name a pass, one row per distinct pass (not per check-in).
  const passIds = [...new Set(rows.flatMap((r) => (r.passId ? [r.passId] : [])))];
  const passes = passIds.length ? await passSides(db, org, passIds) : new Map<string, PassSide>();
  return rows.map((row) => {
    const p = row.passId ? passes.get(row.passId) : undefined;
    return {
      row,
      names: p?.names ?? NO_SEALED_NAMES,
      journey: row.passId ? (p?.journey ?? { appointmentId: null, arrivedAt: null, leftAt: null }) : null,
    };
  });
}

interface PassSide {
  names: SealedNames;
  journey: PassJourney;
}
/** A row whose pass names nobody (or no pass): what a left join of `sealedNameColumns` gives as null. */
export const NO_SEALED_NAMES: SealedNames = {
  visitorId: null,
  visitorNameEnc: null,
  visitorName: null,
  hostUserId: null,
  hostNameEnc: null,
  hostName: null,
};

/** For each pass: its visitor's and host's sealed names and its journey, in one statement of primary-key joins. */
async function passSides(db: Executor, orgId: string, passIds: string[]): Promise<Map<string, PassSide>> {
  const build = (db: Executor) =>
    joinPassNames(
      db
        .select({
          id: visitPasses.id,
          appointmentId: visitPasses.appointmentId,
          arrivedAt: visitPasses.arrivedAt,
          leftAt: visitPasses.leftAt,
          names: sealedNameColumns,
        })
        .from(visitPasses)
        .$dynamic(),
      sql.placeholder('org'),
    )
      // One array parameter, not one placeholder per pass: a 500-row batch names up to 500 passes.
      .where(and(eq(visitPasses.orgId, sql.placeholder('org')), sql`${visitPasses.id} = any(${sql.placeholder('ids')}::uuid[])`));
  const rows = await shapes.run(db, 'sides', build, { org: orgId, ids: passIds });
  return new Map(
    rows.map((r) => [
      r.id,
      {
        names: r.names ?? NO_SEALED_NAMES,
        journey: { appointmentId: r.appointmentId, arrivedAt: r.arrivedAt, leftAt: r.leftAt },
      },
    ]),
  );
}

/**
 * Stores events from a gate (`insertCheckins`) and answers the rows that were
 * new, shaped for the live feed — with the visitor's and host's names when
 * given the `sealer` to open them (the ingestion path, checkins/ingest.ts,
 * always does). Publishes them when `bus` is given (only outside a
 * transaction: the feed must not show what may roll back).
 */
export async function storeCheckins(
  db: Executor,
  gate: { orgId: string; siteId: string; gateId?: string; deviceId: string | null },
  events: readonly CheckinEvent[],
  bus?: EventBus,
  sealer?: Sealer,
): Promise<CheckinView[]> {
  const fresh = (await insertCheckins(db, gate, events)).map((s) => checkinView(s.row, sealer ? openNames(sealer, s.names) : NO_NAMES));
  if (bus) for (const c of fresh) bus.publish(gate.orgId, { type: 'checkin.created', data: c });
  return fresh;
}

/**
 * The dashboard's check-ins per hour (issue 17): counted by the database, one GROUP BY over the
 * (org, occurred_at) index, instead of the console downloading up to 5,000 rows to draw 24 bars.
 * Hours are epoch hours (the same in every whole-hour zone, as the console's chart draws them),
 * the current one last; hours without check-ins are zeros.
 */
export async function dashboard(ctx: AppContext, orgId: string, q: { siteId?: string; hours?: number }, now = Date.now()) {
  const hours = q.hours ?? 24;
  const top = Math.floor(now / 3_600_000) * 3_600_000;
  const since = new Date(top - (hours - 1) * 3_600_000);
  // date_bin per row, the epoch (numeric, slow) once per hour: twice as fast over a day of a large site. The counts
  // come from the (org, occurred_at) / (org, site, occurred_at) indexes alone, which hold `allow` (migration 0025).
  const bucket = sql`date_bin('1 hour', ${checkins.occurredAt}, 'epoch'::timestamptz)`;
  const rows = await ctx.db
    .select({
      hour: sql<number>`(extract(epoch from ${bucket}) / 3600)::bigint`.mapWith(Number),
      allowed: sql<number>`count(*) filter (where ${checkins.allow})`.mapWith(Number),
      denied: sql<number>`count(*) filter (where not ${checkins.allow})`.mapWith(Number),
    })
    .from(checkins)
    .where(
      and(
        eq(checkins.orgId, orgId),
        q.siteId ? eq(checkins.siteId, q.siteId) : undefined,
        gte(checkins.occurredAt, since),
        lt(checkins.occurredAt, new Date(top + 3_600_000)),
      ),
    )
    .groupBy(bucket);
  const byHour = new Map(rows.map((r) => [r.hour, r]));
  const buckets = Array.from({ length: hours }, (_, i) => {
    const start = since.getTime() + i * 3_600_000;
    const r = byHour.get(start / 3_600_000);
    return { start: new Date(start).toISOString(), allowed: r?.allowed ?? 0, denied: r?.denied ?? 0 };
  });
  return {
    since: since.toISOString(),
    allowed: buckets.reduce((s, b) => s + b.allowed, 0),
    denied: buckets.reduce((s, b) => s + b.denied, 0),
    hours: buckets,
  };
}
