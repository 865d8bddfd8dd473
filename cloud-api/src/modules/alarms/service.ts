/**
 * Alarms (SPEC ALARM-1): raised from the check-ins a gate reports (a forced
 * passage, a door or reader condition, an entry a soft anti-passback rule let
 * through) inside the transaction that stores them, and by the cloud itself
 * when a controller goes offline; then acknowledged and cleared by a guard
 * with a note. A condition the controller says is gone only marks the alarm
 * (`conditionClearedAt`): a person still closes it.
 *
 * Every change is made in the caller's transaction with its webhook event;
 * what the live feed shows is returned as `AlarmChange`s and published by
 * `publishAlarms` once that transaction has committed.
 */
import type { AlarmKind, CheckinEvent } from '@gatehouse/protocol';
import { uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, inArray, isNull, lt, ne, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { alarms, gates, sites, users } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import type { Sealer } from '../../lib/crypto.js';
import { conflict, notFound } from '../../lib/errors.js';
import type { LiveEventType } from '../../lib/events.js';
import { decodeCursor, iso, page } from '../../lib/pagination.js';
import { staffMember } from '../orgs/personal-data.js';
import { emitEvent, emitEvents, type WebhookEvent } from '../webhooks/emit.js';
import { ALARM_KINDS, type AlarmKindName, type AlarmStatus, type Severity } from './schema.js';

/**
 * How urgent each kind is. High: somebody may be getting in now (a door breached or held, a reader
 * opened). Medium: part of the system stopped working (a gate may stop admitting or reporting).
 * Low: a soft rule admitted somebody it would have denied under the hard rule.
 */
export const SEVERITY: Record<AlarmKindName, Severity> = {
  forced: 'high',
  held_open: 'high',
  tamper: 'high',
  power: 'medium',
  reader_offline: 'medium',
  controller_offline: 'medium',
  passback: 'low',
  storage: 'high',
  // Check-ins are not reaching the cloud (a guard's history and presence fall behind), the gate still decides.
  outbox_growing: 'medium',
};

type Row = typeof alarms.$inferSelect;

// ---- the view ----

const ackUser = alias(users, 'alarm_ack_user');
const clearUser = alias(users, 'alarm_clear_user');

const viewColumns = {
  alarm: alarms,
  siteName: sites.name,
  gateName: gates.name,
  ackName: ackUser.fullName,
  ackNameEnc: ackUser.fullNameEnc,
  clearName: clearUser.fullName,
  clearNameEnc: clearUser.fullNameEnc,
};

interface ViewRow {
  alarm: Row;
  siteName: string | null;
  gateName: string | null;
  ackName: string | null;
  ackNameEnc: string | null;
  clearName: string | null;
  clearNameEnc: string | null;
}

function alarmView(sealer: Sealer, r: ViewRow) {
  const a = r.alarm;
  return {
    id: a.id,
    kind: a.kind,
    severity: SEVERITY[a.kind],
    siteId: a.siteId,
    siteName: r.siteName,
    gateId: a.gateId,
    gateName: r.gateName,
    reader: a.reader,
    detail: a.detail,
    status: a.status,
    checkinId: a.sourceEventId,
    raisedAt: a.raisedAt.toISOString(),
    conditionClearedAt: iso(a.conditionClearedAt),
    acknowledgedAt: iso(a.acknowledgedAt),
    // alarms:read shows who answered it (the guard view needs it; users:read is not asked).
    acknowledgedBy: staffMember(sealer, a.acknowledgedBy, r.ackName, r.ackNameEnc),
    acknowledgeNote: a.acknowledgeNote,
    clearedAt: iso(a.clearedAt),
    clearedBy: staffMember(sealer, a.clearedBy, r.clearName, r.clearNameEnc),
    clearNote: a.clearNote,
  };
}
export type AlarmView = ReturnType<typeof alarmView>;

/** The alarms of `orgId` matching `where`, with their site's and gate's names and who answered them, newest first. */
async function selectViews(db: Executor, sealer: Sealer, orgId: string, where: ReturnType<typeof and>, limit?: number) {
  const q = db
    .select(viewColumns)
    .from(alarms)
    // Every join is org-scoped: an alarm names only its own organisation's site, gate and people.
    .leftJoin(sites, and(eq(sites.id, alarms.siteId), eq(sites.orgId, orgId)))
    .leftJoin(gates, and(eq(gates.id, alarms.gateId), eq(gates.orgId, orgId)))
    .leftJoin(ackUser, and(eq(ackUser.id, alarms.acknowledgedBy), eq(ackUser.orgId, orgId)))
    .leftJoin(clearUser, and(eq(clearUser.id, alarms.clearedBy), eq(clearUser.orgId, orgId)))
    .where(and(eq(alarms.orgId, orgId), where))
    .orderBy(desc(alarms.id));
  const rows = await (limit === undefined ? q : q.limit(limit));
  return rows.map((r) => alarmView(sealer, r));
}

const viewsOf = (db: Executor, sealer: Sealer, orgId: string, ids: readonly string[]) =>
  ids.length ? selectViews(db, sealer, orgId, and(inArray(alarms.id, [...ids]))) : Promise.resolve([]);

export interface AlarmQuery {
  limit?: number;
  cursor?: string;
  status?: 'open' | AlarmStatus;
  siteId?: string;
  gateId?: string;
  kind?: AlarmKindName;
}

/** Newest first by id (UUIDv7 made when the cloud raised it). */
export async function listAlarms(ctx: AppContext, orgId: string, q: AlarmQuery) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const items = await selectViews(
    ctx.db,
    ctx.sealer,
    orgId,
    and(
      q.status === 'open' ? ne(alarms.status, 'cleared') : q.status ? eq(alarms.status, q.status) : undefined,
      q.siteId ? eq(alarms.siteId, q.siteId) : undefined,
      q.gateId ? eq(alarms.gateId, q.gateId) : undefined,
      q.kind ? eq(alarms.kind, q.kind) : undefined,
      cursor ? lt(alarms.id, cursor) : undefined,
    ),
    limit + 1,
  );
  return page(items, limit);
}

export async function getAlarm(ctx: AppContext, orgId: string, id: string) {
  const [view] = await viewsOf(ctx.db, ctx.sealer, orgId, [id]);
  if (!view) throw notFound('alarm');
  return view;
}

// ---- what changed, for the live feed and the metrics ----

export interface AlarmChange {
  /** `alarm.updated`: its condition went (or came back) while it was still open. */
  type: Extract<LiveEventType, `alarm.${string}`>;
  alarm: AlarmView;
}

/** The webhook `data` of an alarm: ids, states and times; no note, no detail, no names (webhooks/events.ts). */
export const alarmEventData = (a: AlarmView) => ({
  id: a.id,
  kind: a.kind,
  severity: a.severity,
  status: a.status,
  siteId: a.siteId,
  gateId: a.gateId,
  reader: a.reader,
  checkinId: a.checkinId,
  // `occurredAt` is what alarm.raised carried before alarms were their own records; kept for receivers that read it.
  occurredAt: a.raisedAt,
  raisedAt: a.raisedAt,
  conditionClearedAt: a.conditionClearedAt,
  acknowledgedAt: a.acknowledgedAt,
  acknowledgedBy: a.acknowledgedBy?.id ?? null,
  clearedAt: a.clearedAt,
  clearedBy: a.clearedBy?.id ?? null,
});

interface Metrics {
  raised: Counter<'kind'>;
}
const metrics = new WeakMap<AppContext, Metrics>();
function metricsOf(ctx: AppContext): Metrics {
  let m = metrics.get(ctx);
  if (!m) {
    m = {
      raised: new Counter({
        name: 'gatehouse_alarms_raised_total',
        help: 'Alarms raised by this instance, by kind',
        labelNames: ['kind'] as const,
        registers: [],
        collect() {
          // Every kind has a series from the start, so rate() sees the first alarm.
          for (const kind of ALARM_KINDS) this.inc({ kind }, 0);
        },
      }),
    };
    metrics.set(ctx, m);
  }
  return m;
}

/**
 * Adds the alarm metrics to the /metrics registry: alarms raised on this instance, and the open ones
 * counted in the database at scrape (over every organisation, one query per `cacheMs` however many scrape).
 */
export function registerAlarmMetrics(registry: Registry, ctx: AppContext, cacheMs = 2_000): void {
  registry.registerMetric(metricsOf(ctx).raised);
  let cached: { at: number; counts: Promise<Array<{ kind: string; n: number }>> } | null = null;
  const counts = () => {
    const now = Date.now();
    if (!cached || now - cached.at >= cacheMs) {
      // The partial index of open alarms (alarms_open_condition_idx) holds just these rows.
      const pending = ctx.db
        .select({ kind: alarms.kind, n: sql<number>`count(*)::int` })
        .from(alarms)
        .where(ne(alarms.status, 'cleared'))
        .groupBy(alarms.kind);
      pending.catch(() => {
        if (cached?.counts === pending) cached = null;
      });
      cached = { at: now, counts: pending };
    }
    return cached.counts;
  };
  new Gauge({
    name: 'gatehouse_alarms_open',
    help: 'Alarms not cleared yet (raised or acknowledged), by kind, over every organisation',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      // A scrape while the database is away still answers, without these series.
      const rows = await counts().catch(() => null);
      if (!rows) return;
      for (const kind of ALARM_KINDS) this.set({ kind }, 0);
      for (const r of rows) this.set({ kind: r.kind }, Number(r.n));
    },
  });
}

/** Shows committed alarm changes in the live feed of `orgId` and counts the raised ones. Call after the commit. */
export function publishAlarms(ctx: AppContext, orgId: string, changes: readonly AlarmChange[]): void {
  const m = metricsOf(ctx);
  for (const c of changes) {
    if (c.type === 'alarm.raised') m.raised.inc({ kind: c.alarm.kind });
    ctx.events.publish(orgId, { type: c.type, data: c.alarm });
  }
}

// ---- raising ----

/** What raising reads of a newly stored check-in (the row, and the reader its event named). */
export interface AlarmSource {
  id: string;
  siteId: string;
  gateId: string;
  type: CheckinEvent['type'];
  allow: boolean;
  occurredAt: Date;
  reader?: string | null;
  alert?: CheckinEvent['alert'] | null;
  alarmKind?: AlarmKind | null;
  alarmState?: 'raised' | 'cleared' | null;
  alarmDetail?: string | null;
}

/** A condition: one gate, one kind, one reader (none for a controller's own). */
interface Condition {
  orgId: string;
  siteId: string;
  gateId: string;
  kind: AlarmKindName;
  reader: string | null;
}

const sameCondition = (c: Condition) =>
  and(
    eq(alarms.orgId, c.orgId),
    eq(alarms.gateId, c.gateId),
    eq(alarms.kind, c.kind),
    c.reader === null ? isNull(alarms.reader) : eq(alarms.reader, c.reader),
    ne(alarms.status, 'cleared'),
  );

/**
 * Serialises raising per gate across transactions and instances: two batches of one gate (a held-open
 * `raised` and its redelivered neighbour, say) must not both see "none open" and raise it twice.
 */
async function lockGates(tx: Executor, gateIds: readonly string[]): Promise<void> {
  for (const g of [...new Set(gateIds)].sort()) await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`alarms:${g}`}, 0))`);
}

interface Raise {
  condition: Condition;
  at: Date;
  detail: string | null;
  sourceEventId: string | null;
}

async function insertAlarm(tx: Executor, r: Raise): Promise<string | null> {
  const id = uuidv7();
  const [row] = await tx
    .insert(alarms)
    .values({
      id,
      orgId: r.condition.orgId,
      siteId: r.condition.siteId,
      gateId: r.condition.gateId,
      kind: r.condition.kind,
      reader: r.condition.reader,
      detail: r.detail,
      sourceEventId: r.sourceEventId,
      status: 'raised',
      raisedAt: r.at,
    })
    // The source event raises once, whatever path brings it twice.
    .onConflictDoNothing({ target: alarms.sourceEventId })
    .returning({ id: alarms.id });
  return row?.id ?? null;
}

/**
 * A condition began: a new alarm, unless one of the same condition is still open — then that one
 * stands (it is marked present again if its condition had been reported gone).
 */
async function conditionRaised(tx: Executor, r: Raise): Promise<{ raised?: string; updated?: string }> {
  const [open] = await tx
    .select({ id: alarms.id, conditionClearedAt: alarms.conditionClearedAt })
    .from(alarms)
    .where(sameCondition(r.condition))
    .orderBy(desc(alarms.id))
    .limit(1);
  if (!open) {
    const id = await insertAlarm(tx, r);
    return id ? { raised: id } : {};
  }
  if (!open.conditionClearedAt) return {};
  await tx.update(alarms).set({ conditionClearedAt: null, updatedAt: new Date() }).where(eq(alarms.id, open.id));
  return { updated: open.id };
}

/** A condition ended: its open alarms are marked (a guard still clears them). */
async function conditionCleared(tx: Executor, c: Condition, at: Date): Promise<string[]> {
  const rows = await tx
    .update(alarms)
    .set({ conditionClearedAt: at, updatedAt: new Date() })
    .where(and(sameCondition(c), isNull(alarms.conditionClearedAt)))
    .returning({ id: alarms.id });
  return rows.map((r) => r.id);
}

/** Whether a stored check-in raises or ends an alarm: checked before any statement, so most batches cost none. */
const concernsAlarms = (r: AlarmSource) =>
  r.type === 'forced' || (r.type === 'alarm' && !!r.alarmKind && !!r.alarmState) || (r.allow && r.alert === 'passback');

const conditionKey = (gateId: string, kind: string, reader: string | null) => JSON.stringify([gateId, kind, reader]);

/** An alarm of a condition as the batch walk leaves it: one already stored, or one the batch raises. */
interface Tracked {
  id: string;
  conditionClearedAt: Date | null;
  /** Raised by this batch: inserted at the end with its final state. */
  fresh: (typeof alarms.$inferInsert & { id: string }) | null;
  changed: boolean;
}

/**
 * Raises the alarms of newly stored check-ins, in `tx` (the transaction that stored them, so a batch
 * delivered again — which stores no row twice — raises nothing twice): a `forced` passage, an `alarm`
 * event's condition raised or gone, an entry a soft anti-passback rule admitted. The reader of each is
 * read from its event in `events` (the stored row does not keep it). Emits `alarm.raised` webhooks in
 * `tx`; returns what the live feed shows once `tx` commits (`publishAlarms`).
 *
 * A batch costs a fixed number of statements however many events it carries (an edge back from days
 * offline may send hundreds): the open alarms of the conditions it names are read at once, the events
 * are walked in order in memory, and the new alarms go in with one insert.
 */
export async function raiseAlarms(
  ctx: AppContext,
  tx: Executor,
  gate: { orgId: string },
  rows: readonly AlarmSource[],
  events: readonly Pick<CheckinEvent, 'id' | 'reader'>[] = [],
): Promise<AlarmChange[]> {
  const relevant = rows.filter(concernsAlarms).sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  if (relevant.length === 0) return [];
  const readers = new Map(events.map((e) => [e.id, e.reader ?? null]));
  const readerOf = (r: AlarmSource) => r.reader ?? readers.get(r.id) ?? null;
  const gateIds = [...new Set(relevant.map((r) => r.gateId))];
  await lockGates(tx, gateIds);

  // The open alarms of every condition the batch names, newest first.
  const conditionRows = relevant.filter((r) => r.type === 'alarm');
  const open = new Map<string, Tracked[]>();
  if (conditionRows.length) {
    const stored = await tx
      .select({
        id: alarms.id,
        gateId: alarms.gateId,
        kind: alarms.kind,
        reader: alarms.reader,
        conditionClearedAt: alarms.conditionClearedAt,
      })
      .from(alarms)
      .where(
        and(
          eq(alarms.orgId, gate.orgId),
          inArray(alarms.gateId, gateIds),
          inArray(alarms.kind, [...new Set(conditionRows.map((r) => r.alarmKind!))]),
          ne(alarms.status, 'cleared'),
        ),
      )
      .orderBy(desc(alarms.id));
    for (const a of stored) {
      const key = conditionKey(a.gateId ?? '', a.kind, a.reader);
      open.set(key, [...(open.get(key) ?? []), { id: a.id, conditionClearedAt: a.conditionClearedAt, fresh: null, changed: false }]);
    }
  }

  const inserts: Array<typeof alarms.$inferInsert & { id: string }> = [];
  const newAlarm = (r: AlarmSource, kind: AlarmKindName, detail: string | null) => {
    const row = {
      id: uuidv7(),
      orgId: gate.orgId,
      siteId: r.siteId,
      gateId: r.gateId,
      kind,
      reader: readerOf(r),
      detail,
      sourceEventId: r.id,
      status: 'raised' as const,
      raisedAt: r.occurredAt,
    };
    inserts.push(row);
    return row;
  };
  for (const r of relevant) {
    if (r.type === 'forced') {
      // Each forced passage is an incident of its own, never folded into an open one.
      newAlarm(r, 'forced', null);
    } else if (r.type === 'alarm' && r.alarmKind) {
      const key = conditionKey(r.gateId, r.alarmKind, readerOf(r));
      const tracked = open.get(key) ?? [];
      if (r.alarmState === 'raised') {
        const newest = tracked[0];
        if (!newest) {
          const fresh = newAlarm(r, r.alarmKind, r.alarmDetail ?? null);
          open.set(key, [{ id: fresh.id, conditionClearedAt: null, fresh, changed: false }]);
        } else if (newest.conditionClearedAt) {
          // The condition is back while its alarm is still open: that alarm stands, its condition present again.
          newest.conditionClearedAt = null;
          newest.changed = true;
        }
      } else {
        // The condition is gone: its open alarms say so (a guard still clears them).
        for (const a of tracked)
          if (!a.conditionClearedAt) {
            a.conditionClearedAt = r.occurredAt;
            a.changed = true;
          }
      }
    } else if (r.allow && r.alert === 'passback') {
      newAlarm(r, 'passback', null);
    }
  }

  const all = [...open.values()].flat();
  // A new alarm goes in with the state the batch left it in.
  for (const a of all) if (a.fresh) a.fresh.conditionClearedAt = a.conditionClearedAt;
  const raised = inserts.length
    ? (
        await tx
          .insert(alarms)
          .values(inserts)
          // The source event raises once, whatever path brings it twice.
          .onConflictDoNothing({ target: alarms.sourceEventId })
          .returning({ id: alarms.id })
      ).map((a) => a.id)
    : [];
  const updated = new Set<string>();
  for (const a of all)
    if (!a.fresh && a.changed) {
      await tx.update(alarms).set({ conditionClearedAt: a.conditionClearedAt, updatedAt: new Date() }).where(eq(alarms.id, a.id));
      updated.add(a.id);
    }
  // Newest first in the feed as in the list: in the order they were raised.
  const order = new Map(inserts.map((a, n) => [a.id, n]));
  return changesOf(
    ctx,
    tx,
    gate.orgId,
    raised.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)),
    updated,
  );
}

/** Views of what was raised and updated in `tx`, and the `alarm.raised` webhooks of the raised ones (in `tx`). */
async function changesOf(
  ctx: AppContext,
  tx: Executor,
  orgId: string,
  raised: readonly string[],
  updated: ReadonlySet<string>,
): Promise<AlarmChange[]> {
  const stillUpdated = [...updated].filter((id) => !raised.includes(id));
  const views = new Map((await viewsOf(tx, ctx.sealer, orgId, [...raised, ...stillUpdated])).map((v) => [v.id, v]));
  const changes: AlarmChange[] = [];
  const events: WebhookEvent[] = [];
  for (const id of raised) {
    const alarm = views.get(id);
    if (!alarm) continue;
    changes.push({ type: 'alarm.raised', alarm });
    events.push({ type: 'alarm.raised', data: alarmEventData(alarm), at: new Date(alarm.raisedAt) });
  }
  for (const id of stillUpdated) {
    const alarm = views.get(id);
    if (alarm) changes.push({ type: 'alarm.updated', alarm });
  }
  await emitEvents(ctx, tx, orgId, events);
  return changes;
}

/**
 * The cloud's own alarm (ALARM-1): a controller's status flipped in `tx` — offline raises
 * `controller_offline` for its gate (once while one is open), online marks its condition gone.
 */
export async function controllerStatusChanged(
  ctx: AppContext,
  tx: Executor,
  gate: { orgId: string; siteId: string; gateId: string },
  online: boolean,
  at = new Date(),
): Promise<AlarmChange[]> {
  const condition: Condition = { ...gate, kind: 'controller_offline', reader: null };
  await lockGates(tx, [gate.gateId]);
  if (online) return changesOf(ctx, tx, gate.orgId, [], new Set(await conditionCleared(tx, condition, at)));
  const out = await conditionRaised(tx, { condition, at, detail: null, sourceEventId: null });
  return changesOf(ctx, tx, gate.orgId, out.raised ? [out.raised] : [], new Set(out.updated ? [out.updated] : []));
}

/**
 * A condition the cloud judges from a controller's statuses (`outbox_growing`) began or ended in `tx`: raised
 * once while one is open (marked present again if its condition had gone), or its open alarm marked gone.
 */
export async function cloudConditionChanged(
  ctx: AppContext,
  tx: Executor,
  gate: { orgId: string; siteId: string; gateId: string },
  kind: Extract<AlarmKindName, 'outbox_growing'>,
  present: boolean,
  at: Date,
  detail: string | null = null,
): Promise<AlarmChange[]> {
  const condition: Condition = { ...gate, kind, reader: null };
  await lockGates(tx, [gate.gateId]);
  if (!present) return changesOf(ctx, tx, gate.orgId, [], new Set(await conditionCleared(tx, condition, at)));
  const out = await conditionRaised(tx, { condition, at, detail, sourceEventId: null });
  return changesOf(ctx, tx, gate.orgId, out.raised ? [out.raised] : [], new Set(out.updated ? [out.updated] : []));
}

const CONTROLLER_OFFLINE_QUEUE = 'alarm.controller_offline';
interface ControllerOfflineJob {
  orgId: string;
  siteId: string;
  gateId: string;
  /** When its status went offline (ISO): the alarm's raisedAt. */
  since: string;
}

/**
 * A controller's status flipped to offline in `tx`: its alarm is raised once it has stayed offline
 * `CONTROLLER_OFFLINE_ALARM_S` — a job enqueued in the same transaction checks then — or at once when that is 0.
 */
export async function controllerWentOffline(
  ctx: AppContext,
  tx: Executor,
  gate: { orgId: string; siteId: string; gateId: string },
  at: Date,
): Promise<AlarmChange[]> {
  const grace = ctx.config.alarms.controllerOfflineSeconds;
  if (grace === 0) return controllerStatusChanged(ctx, tx, gate, false, at);
  const job: ControllerOfflineJob = { orgId: gate.orgId, siteId: gate.siteId, gateId: gate.gateId, since: at.toISOString() };
  await ctx.jobs.send(CONTROLLER_OFFLINE_QUEUE, job, { tx, startAfter: new Date(at.getTime() + grace * 1000) });
  return [];
}

/** Declares the queue of delayed offline checks; call while the routes register (workers start when the app is ready). */
export async function defineAlarmQueues(ctx: AppContext): Promise<void> {
  await ctx.jobs.define<ControllerOfflineJob>(CONTROLLER_OFFLINE_QUEUE, async (job) => {
    const changes = await ctx.db.transaction(async (tx) => {
      const [gate] = await tx.select({ online: gates.online }).from(gates).where(eq(gates.id, job.gateId)).for('update');
      // Back online within the grace period: a restart, not an alarm. (Flapping keeps a job per offline; the
      // alarm is raised once while open.)
      if (!gate || gate.online) return [];
      return controllerStatusChanged(ctx, tx, job, false, new Date(job.since));
    });
    publishAlarms(ctx, job.orgId, changes);
  });
}

// ---- a guard's answer ----

/** The alarm as it stands, or 404 in another organisation. */
async function requireAlarm(db: Executor, orgId: string, id: string) {
  const [row] = await db
    .select({ status: alarms.status })
    .from(alarms)
    .where(and(eq(alarms.id, id), eq(alarms.orgId, orgId)));
  if (!row) throw notFound('alarm');
  return row;
}

/** raised → acknowledged, audited with the note, `alarm.acknowledged` to the webhooks and the live feed. */
export async function acknowledgeAlarm(ctx: AppContext, actor: Actor, id: string, note: string | undefined) {
  const now = new Date();
  const view = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(alarms)
      .set({
        status: 'acknowledged',
        acknowledgedAt: now,
        acknowledgedBy: actor.userId,
        acknowledgeNote: note ?? null,
        updatedAt: now,
        updatedBy: actor.userId,
      })
      .where(and(eq(alarms.id, id), eq(alarms.orgId, actor.orgId), eq(alarms.status, 'raised')))
      .returning({ id: alarms.id });
    if (!row) throw conflict(`alarm is ${(await requireAlarm(tx, actor.orgId, id)).status} already`);
    return answered(ctx, tx, actor, id, 'alarm.acknowledged', note ?? null);
  });
  publishAlarms(ctx, actor.orgId, [{ type: 'alarm.acknowledged', alarm: view }]);
  return view;
}

/** raised or acknowledged → cleared, with the required note; audited, `alarm.cleared` to the webhooks and the live feed. */
export async function clearAlarm(ctx: AppContext, actor: Actor, id: string, note: string) {
  const now = new Date();
  const view = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(alarms)
      .set({ status: 'cleared', clearedAt: now, clearedBy: actor.userId, clearNote: note, updatedAt: now, updatedBy: actor.userId })
      .where(and(eq(alarms.id, id), eq(alarms.orgId, actor.orgId), ne(alarms.status, 'cleared')))
      .returning({ id: alarms.id });
    if (!row) {
      await requireAlarm(tx, actor.orgId, id);
      throw conflict('alarm is cleared already');
    }
    return answered(ctx, tx, actor, id, 'alarm.cleared', note);
  });
  publishAlarms(ctx, actor.orgId, [{ type: 'alarm.cleared', alarm: view }]);
  return view;
}

async function answered(
  ctx: AppContext,
  tx: Executor,
  actor: Actor,
  id: string,
  action: 'alarm.acknowledged' | 'alarm.cleared',
  note: string | null,
): Promise<AlarmView> {
  const [view] = await viewsOf(tx, ctx.sealer, actor.orgId, [id]);
  if (!view) throw notFound('alarm');
  await writeAudit(tx, actor, {
    action,
    entityType: 'alarm',
    entityId: id,
    data: { kind: view.kind, gateId: view.gateId, siteId: view.siteId, note },
  });
  await emitEvent(ctx, tx, actor.orgId, action, alarmEventData(view));
  return view;
}
