/**
 * Rollouts of an edge release to an organisation's controllers (issue 16): an update job per site or for
 * the whole fleet, canary gates first, then batches; per-site maintenance windows in the site's time zone;
 * pause, resume, cancel, postpone. The engine (`advanceJob`) runs on the durable job queue — one
 * `update.tick` chain per job — and right after a gate's report settles it: it times out gates that never
 * report, halts the rollout when a canary fails (the gates after it stay pending: no command is sent to
 * them) or when more gates fail than the strategy tolerates, dispatches the next gates as signed `update`
 * commands through the ordinary command path (CMD-6), and finishes the job with `update.completed`.
 */
import { compareVersions, inSchedule, type Status, type UpdateGateState, type UpdateJob, uuidv7, wallClock } from '@gatehouse/protocol';
import { and, asc, desc, eq, inArray, isNull, lt, ne, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import {
  gateCommands,
  gates,
  organizations,
  sites,
  type UpdateGateStateName,
  type UpdateJobState,
  type UpdateScope,
  type UpdateStrategy,
  updateJobGates,
  updateJobs,
  updateLogs,
  updateNotices,
  updatePackages,
} from '../../db/schema.js';
import { type Actor, NO_ORG, writeAudit } from '../../lib/audit.js';
import { conflict, notFound, unprocessable } from '../../lib/errors.js';
import { decodeCursor, iso, page, pageLimit } from '../../lib/pagination.js';
import { deliverCommands, type QueuedCommand, queueCommand } from '../gates/service.js';
import { requireSite } from '../sites/service.js';
import { emitEvent } from '../webhooks/emit.js';
import type { UpdateCompletedData, UpdateGateChangedData } from './events.js';

export const TICK_QUEUE = 'update.tick';
export const CHECK_QUEUE = 'update.check';

/** Gate states after which nothing more is expected of it in this job (a later report still counts). */
const FINAL: readonly UpdateGateStateName[] = ['done', 'failed', 'rolled_back', 'skipped', 'cancelled'];
/** States the controller reports while it works on the job. */
const IN_PROGRESS: readonly UpdateGateStateName[] = ['downloading', 'verifying', 'installing', 'restarting', 'checking_health'];
const BAD: readonly UpdateGateStateName[] = ['failed', 'rolled_back', 'skipped'];
/** Past the health window and the install budget, a silent controller is given this much more. */
const REPORT_MARGIN_MS = 60_000;
/** A dispatched command is sent again when its controller shows up without having taken it, at most this often. */
const RESEND_AFTER_MS = 30_000;

const isFinal = (s: string) => (FINAL as readonly string[]).includes(s);
const isInProgress = (s: string) => (IN_PROGRESS as readonly string[]).includes(s);

type JobRow = typeof updateJobs.$inferSelect;
type GateRow = typeof updateJobGates.$inferSelect;

/** The rollout acting on its own (dispatches, timeouts): audit rows with no user. */
const systemActor = (orgId: string): Actor => ({ orgId, userId: null, appId: null, ip: null, userAgent: 'gatehouse update rollout' });

// ---- views ----

const jobGateView = (r: GateRow & { gateName?: string | null }) => ({
  gateId: r.gateId,
  gateName: r.gateName ?? null,
  siteId: r.siteId,
  canary: r.canary,
  batch: r.batch,
  state: r.state,
  detail: r.detail,
  fromVersion: r.fromVersion,
  dispatchedAt: iso(r.dispatchedAt),
  deadlineAt: iso(r.deadlineAt),
  reportedAt: iso(r.reportedAt),
  postponedUntil: iso(r.postponedUntil),
  finishedAt: iso(r.finishedAt),
});
export type UpdateJobGateView = ReturnType<typeof jobGateView>;

function counts(rows: readonly { state: string }[]) {
  const c: Record<UpdateGateStateName, number> = {
    pending: 0,
    downloading: 0,
    verifying: 0,
    installing: 0,
    restarting: 0,
    checking_health: 0,
    done: 0,
    failed: 0,
    rolled_back: 0,
    skipped: 0,
    cancelled: 0,
    postponed: 0,
  };
  for (const r of rows) c[r.state as UpdateGateStateName]++;
  return c;
}

const jobView = (j: JobRow, pkg: { version: string; serial: number; channel: 'stable' | 'beta' }, rows: readonly { state: string }[]) => ({
  id: j.id,
  releaseId: j.packageId,
  version: pkg.version,
  serial: pkg.serial,
  channel: pkg.channel,
  scope: j.scope.fleet ? ('fleet' as const) : j.scope.siteIds,
  strategy: j.strategy,
  allowDowngrade: j.allowDowngrade,
  state: j.state,
  stage: j.stage,
  startAt: j.startAt.toISOString(),
  haltedReason: j.haltedReason,
  finishedAt: iso(j.finishedAt),
  gates: rows.length,
  counts: counts(rows),
  createdAt: j.createdAt.toISOString(),
  updatedAt: j.updatedAt.toISOString(),
});
export type UpdateJobView = ReturnType<typeof jobView>;

async function requireJob(db: Executor, orgId: string, id: string, lock = false): Promise<JobRow> {
  const q = db
    .select()
    .from(updateJobs)
    .where(and(eq(updateJobs.id, id), eq(updateJobs.orgId, orgId)));
  const [row] = await (lock ? q.for('update') : q);
  if (!row) throw notFound('update job');
  return row;
}

async function packageOf(db: Executor, id: string) {
  const [p] = await db.select().from(updatePackages).where(eq(updatePackages.id, id));
  if (!p) throw notFound('release');
  return p;
}

async function viewJob(db: Executor, j: JobRow) {
  const pkg = await packageOf(db, j.packageId);
  const rows = await db.select({ state: updateJobGates.state }).from(updateJobGates).where(eq(updateJobGates.jobId, j.id));
  return jobView(j, pkg, rows);
}

async function log(
  db: Executor,
  orgId: string,
  jobId: string,
  gateId: string | null,
  message: string,
  level: 'info' | 'warn' | 'error' = 'info',
) {
  await db.insert(updateLogs).values({ orgId, jobId, gateId, level, message: message.slice(0, 1000) });
}

// ---- maintenance windows ----

export interface MaintenanceWindow {
  /** ISO weekdays (Monday 1 … Sunday 7); empty: every day. */
  days: number[];
  from: string;
  to: string;
}

const windowOf = (s: { maintenanceDays: number[] | null; maintenanceFrom: string | null; maintenanceTo: string | null }) =>
  s.maintenanceFrom && s.maintenanceTo ? { days: s.maintenanceDays ?? [], from: s.maintenanceFrom, to: s.maintenanceTo } : null;

/** Whether a site's window (null: any time) is open at `now` in its own time zone; `to <= from` crosses midnight (DEC-8). */
export function inMaintenanceWindow(window: MaintenanceWindow | null, timezone: string, now: Date): boolean {
  if (!window) return true;
  return inSchedule(wallClock(now.getTime(), timezone), window.days, [{ from: window.from, to: window.to }]);
}

export async function listMaintenanceWindows(ctx: AppContext, orgId: string) {
  const rows = await ctx.db
    .select()
    .from(sites)
    .where(and(eq(sites.orgId, orgId), isNull(sites.deletedAt)))
    .orderBy(asc(sites.id));
  return { items: rows.map((s) => ({ siteId: s.id, siteName: s.name, timezone: s.timezone, window: windowOf(s) })) };
}

export async function setMaintenanceWindow(ctx: AppContext, actor: Actor, siteId: string, window: MaintenanceWindow | null) {
  return ctx.db.transaction(async (tx) => {
    await requireSite(tx, actor.orgId, siteId);
    const [s] = await tx
      .update(sites)
      .set({
        maintenanceDays: window ? [...new Set(window.days)].sort() : null,
        maintenanceFrom: window?.from ?? null,
        maintenanceTo: window?.to ?? null,
        updatedAt: new Date(),
        updatedBy: actor.userId,
      })
      .where(and(eq(sites.id, siteId), eq(sites.orgId, actor.orgId)))
      .returning();
    await writeAudit(tx, actor, { action: 'site.maintenance_window', entityType: 'site', entityId: siteId, data: { window } });
    return { siteId: s!.id, siteName: s!.name, timezone: s!.timezone, window: windowOf(s!) };
  });
}

// ---- creating a job ----

export interface JobBody {
  releaseId: string;
  scope: 'fleet' | string[];
  strategy?: Partial<{
    canaryGateIds: string[];
    canaryPercent: number;
    batchSize: number;
    batchPercent: number;
    healthWindowS: number;
    failureThreshold: number;
    deliveryTtlS: number;
    installTimeoutS: number;
  }>;
  allowDowngrade?: boolean;
  startAt?: string;
}

export async function createJob(ctx: AppContext, actor: Actor, body: JobBody, now = new Date()) {
  const s = body.strategy ?? {};
  const strategy: UpdateStrategy = {
    canaryGateIds: [...new Set(s.canaryGateIds ?? [])],
    canaryPercent: s.canaryGateIds?.length ? 0 : (s.canaryPercent ?? 10),
    batchSize: s.batchSize ?? null,
    batchPercent: s.batchSize ? null : (s.batchPercent ?? 25),
    healthWindowS: s.healthWindowS ?? 120,
    failureThreshold: s.failureThreshold ?? 0,
    deliveryTtlS: s.deliveryTtlS ?? 3600,
    installTimeoutS: s.installTimeoutS ?? 900,
  };
  const startAt = body.startAt ? new Date(body.startAt) : now;
  const scope: UpdateScope = body.scope === 'fleet' ? { fleet: true, siteIds: [] } : { fleet: false, siteIds: [...new Set(body.scope)] };
  const id = uuidv7();
  const out = await ctx.db.transaction(async (tx) => {
    const pkg = await packageOf(tx, body.releaseId);
    if (pkg.status !== 'ready') throw conflict(`release ${pkg.version} is not ready: some of its files are not uploaded`);
    if (pkg.expiresAt.getTime() <= now.getTime()) throw conflict(`release ${pkg.version} has expired (controllers refuse it)`);
    // A controller on it would talk a protocol this cloud may not speak yet: upgrade the cloud first.
    const minCloud = String((pkg.manifest as { minCloudVersion?: unknown }).minCloudVersion ?? '0.0.0');
    if (/^\d+\.\d+\.\d+/.test(ctx.config.version) && compareVersions(ctx.config.version, minCloud) < 0)
      throw conflict(`release ${pkg.version} needs cloud ${minCloud} or later; this cloud is ${ctx.config.version}`);
    for (const siteId of scope.siteIds) await requireSite(tx, actor.orgId, siteId);
    // Enrolled, enabled controllers in scope; a gate without one has nothing to update.
    const inScope = await tx
      .select({ id: gates.id, siteId: gates.siteId, version: gates.version })
      .from(gates)
      .where(
        and(
          eq(gates.orgId, actor.orgId),
          isNull(gates.deletedAt),
          isNull(gates.disabledAt),
          sql`${gates.deviceId} is not null`,
          scope.fleet ? undefined : inArray(gates.siteId, scope.siteIds),
        ),
      )
      .orderBy(asc(gates.siteId), asc(gates.id));
    if (inScope.length === 0) throw unprocessable('no enrolled gate in scope');
    const ids = new Set(inScope.map((g) => g.id));
    const unknown = strategy.canaryGateIds.filter((g) => !ids.has(g));
    if (unknown.length) throw unprocessable(`canary gates not in scope (or not enrolled): ${unknown.join(', ')}`);
    const canaries = new Set(
      strategy.canaryGateIds.length
        ? strategy.canaryGateIds
        : strategy.canaryPercent > 0
          ? spread(inScope, Math.max(1, Math.ceil((inScope.length * strategy.canaryPercent) / 100))).map((g) => g.id)
          : [],
    );
    const rest = inScope.filter((g) => !canaries.has(g.id));
    const size = Math.max(1, strategy.batchSize ?? Math.ceil((rest.length * (strategy.batchPercent ?? 100)) / 100));
    const [job] = await tx
      .insert(updateJobs)
      .values({
        id,
        orgId: actor.orgId,
        packageId: pkg.id,
        scope,
        strategy,
        allowDowngrade: body.allowDowngrade ?? false,
        state: startAt.getTime() > now.getTime() ? 'scheduled' : 'running',
        stage: canaries.size ? 'canary' : 'batches',
        startAt,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      })
      .returning();
    const rows = inScope.map((g) => {
      const canary = canaries.has(g.id);
      return {
        id: uuidv7(),
        orgId: actor.orgId,
        jobId: id,
        gateId: g.id,
        siteId: g.siteId,
        canary,
        batch: canary ? 0 : Math.floor(rest.indexOf(g) / size) + 1,
        state: 'pending' as const,
        fromVersion: g.version,
      };
    });
    for (let i = 0; i < rows.length; i += 1000) await tx.insert(updateJobGates).values(rows.slice(i, i + 1000));
    const batches = rest.length ? Math.ceil(rest.length / size) : 0;
    await log(
      tx,
      actor.orgId,
      id,
      null,
      `rollout of ${pkg.version} to ${rows.length} gate(s): ${canaries.size} canary, then ${batches} batch(es) of up to ${size}`,
    );
    await writeAudit(tx, actor, {
      action: 'update.job_create',
      entityType: 'update_job',
      entityId: id,
      data: { releaseId: pkg.id, version: pkg.version, scope: body.scope, strategy, startAt: startAt.toISOString(), gates: rows.length },
    });
    await ctx.jobs.send(TICK_QUEUE, { orgId: actor.orgId, jobId: id }, { tx, startAfter: startAt });
    return jobView(job!, pkg, rows);
  });
  return out;
}

/** `n` gates spread over the sites in scope (one per site in turn), so a canary set sees more than one building. */
function spread<T extends { id: string; siteId: string }>(gs: readonly T[], n: number): T[] {
  const bySite = new Map<string, T[]>();
  for (const g of gs) bySite.set(g.siteId, [...(bySite.get(g.siteId) ?? []), g]);
  const out: T[] = [];
  for (let round = 0; out.length < n; round++) {
    let any = false;
    for (const list of bySite.values()) {
      const g = list[round];
      if (g && out.length < n) {
        out.push(g);
        any = true;
      }
    }
    if (!any) break;
  }
  return out;
}

// ---- reading ----

export async function listJobs(ctx: AppContext, orgId: string, q: { limit?: number; cursor?: string; state?: UpdateJobState }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select({ job: updateJobs, version: updatePackages.version, serial: updatePackages.serial, channel: updatePackages.channel })
    .from(updateJobs)
    .innerJoin(updatePackages, eq(updatePackages.id, updateJobs.packageId))
    .where(
      and(eq(updateJobs.orgId, orgId), q.state ? eq(updateJobs.state, q.state) : undefined, cursor ? lt(updateJobs.id, cursor) : undefined),
    )
    .orderBy(desc(updateJobs.id))
    .limit(pageLimit(limit + 1));
  const ids = rows.map((r) => r.job.id);
  const states = ids.length
    ? await ctx.db
        .select({ jobId: updateJobGates.jobId, state: updateJobGates.state })
        .from(updateJobGates)
        .where(and(eq(updateJobGates.orgId, orgId), inArray(updateJobGates.jobId, ids)))
    : [];
  return page(
    rows.map((r) =>
      jobView(
        r.job,
        r,
        states.filter((s) => s.jobId === r.job.id),
      ),
    ),
    limit,
  );
}

export async function getJob(ctx: AppContext, orgId: string, id: string) {
  const job = await requireJob(ctx.db, orgId, id);
  const pkg = await packageOf(ctx.db, job.packageId);
  const rows = await ctx.db
    .select({ row: updateJobGates, gateName: gates.name })
    .from(updateJobGates)
    .leftJoin(gates, and(eq(gates.id, updateJobGates.gateId), eq(gates.orgId, orgId)))
    .where(and(eq(updateJobGates.jobId, id), eq(updateJobGates.orgId, orgId)))
    .orderBy(asc(updateJobGates.batch), asc(updateJobGates.gateId));
  return {
    ...jobView(
      job,
      pkg,
      rows.map((r) => r.row),
    ),
    gateStates: rows.map((r) => jobGateView({ ...r.row, gateName: r.gateName })),
  };
}

export async function jobLogs(ctx: AppContext, orgId: string, id: string, q: { gateId?: string; after?: number; limit?: number }) {
  await requireJob(ctx.db, orgId, id);
  const limit = q.limit ?? 200;
  const rows = await ctx.db
    .select()
    .from(updateLogs)
    .where(
      and(
        eq(updateLogs.orgId, orgId),
        eq(updateLogs.jobId, id),
        q.gateId ? eq(updateLogs.gateId, q.gateId) : undefined,
        q.after !== undefined ? sql`${updateLogs.id} > ${q.after}` : undefined,
      ),
    )
    .orderBy(asc(updateLogs.id))
    .limit(limit);
  return {
    items: rows.map((r) => ({ id: r.id, gateId: r.gateId, level: r.level, message: r.message, at: r.at.toISOString() })),
    /** Pass as `after` for the lines that follow. */
    last: rows.at(-1)?.id ?? q.after ?? 0,
  };
}

// ---- admin actions ----

async function setJob(tx: Executor, actor: Actor, job: JobRow, set: Partial<JobRow>, action: string, data: Record<string, unknown> = {}) {
  const [row] = await tx
    .update(updateJobs)
    .set({ ...set, updatedAt: new Date(), updatedBy: actor.userId })
    .where(eq(updateJobs.id, job.id))
    .returning();
  await writeAudit(tx, actor, { action, entityType: 'update_job', entityId: job.id, data: { from: job.state, ...data } });
  return row!;
}

/** No new gate is started while paused; gates already updating finish (and still report). */
export async function pauseJob(ctx: AppContext, actor: Actor, id: string) {
  return ctx.db.transaction(async (tx) => {
    const job = await requireJob(tx, actor.orgId, id, true);
    if (job.state !== 'running' && job.state !== 'scheduled') throw conflict(`the job is ${job.state}`);
    const row = await setJob(tx, actor, job, { state: 'paused' }, 'update.job_pause');
    await log(tx, actor.orgId, id, null, 'paused');
    return viewJob(tx, row);
  });
}

export async function resumeJob(ctx: AppContext, actor: Actor, id: string, now = new Date()) {
  const view = await ctx.db.transaction(async (tx) => {
    const job = await requireJob(tx, actor.orgId, id, true);
    if (job.state !== 'paused') throw conflict(`the job is ${job.state}`);
    const row = await setJob(
      tx,
      actor,
      job,
      { state: job.startAt.getTime() > now.getTime() ? 'scheduled' : 'running' },
      'update.job_resume',
    );
    await log(tx, actor.orgId, id, null, 'resumed');
    return viewJob(tx, row);
  });
  await advanceJob(ctx, actor.orgId, id, now);
  return getJobView(ctx, actor.orgId, id, view);
}

/** Gates not started yet are cancelled; a controller already updating cannot be stopped and still reports. */
export async function cancelJob(ctx: AppContext, actor: Actor, id: string, now = new Date()) {
  const out = await ctx.db.transaction(async (tx) => {
    const job = await requireJob(tx, actor.orgId, id, true);
    if (['done', 'cancelled'].includes(job.state)) throw conflict(`the job is ${job.state}`);
    const cancelled = await tx
      .update(updateJobGates)
      .set({ state: 'cancelled', finishedAt: now, updatedAt: now })
      .where(and(eq(updateJobGates.jobId, id), inArray(updateJobGates.state, ['pending', 'postponed']), isNull(updateJobGates.commandId)))
      .returning({ gateId: updateJobGates.gateId });
    const row = await setJob(tx, actor, job, { state: 'cancelled', finishedAt: now }, 'update.job_cancel', { gates: cancelled.length });
    await log(tx, actor.orgId, id, null, `cancelled; ${cancelled.length} gate(s) not started are left as they are`);
    const view = await viewJob(tx, row);
    const event = completedData(view, 'cancelled', null, now);
    await emitEvent(ctx, tx, actor.orgId, 'update.completed', event);
    return { view, event };
  });
  ctx.events.publish(actor.orgId, { type: 'update.completed', data: out.event });
  return out.view;
}

/**
 * Postpones the whole job to `until` (it waits as scheduled; gates already updating finish), or only the
 * named gates not started yet (they wait as postponed and join the rollout again then).
 */
export async function postponeJob(
  ctx: AppContext,
  actor: Actor,
  id: string,
  body: { until: string; gateIds?: string[] },
  now = new Date(),
) {
  const until = new Date(body.until);
  if (until.getTime() <= now.getTime()) throw unprocessable('until is not in the future');
  return ctx.db.transaction(async (tx) => {
    const job = await requireJob(tx, actor.orgId, id, true);
    if (!['running', 'scheduled', 'paused'].includes(job.state)) throw conflict(`the job is ${job.state}`);
    if (body.gateIds?.length) {
      const moved = await tx
        .update(updateJobGates)
        .set({ state: 'postponed', postponedUntil: until, updatedAt: now })
        .where(
          and(
            eq(updateJobGates.jobId, id),
            inArray(updateJobGates.gateId, body.gateIds),
            inArray(updateJobGates.state, ['pending', 'postponed']),
            isNull(updateJobGates.commandId),
          ),
        )
        .returning({ gateId: updateJobGates.gateId });
      if (moved.length !== new Set(body.gateIds).size)
        throw conflict('some of these gates are not in the job, or have started updating already');
      for (const m of moved) await log(tx, actor.orgId, id, m.gateId, `postponed until ${until.toISOString()}`);
      await writeAudit(tx, actor, {
        action: 'update.job_postpone',
        entityType: 'update_job',
        entityId: id,
        data: { until: until.toISOString(), gateIds: body.gateIds },
      });
      return viewJob(tx, job);
    }
    const row = await setJob(
      tx,
      actor,
      job,
      { startAt: until, state: job.state === 'paused' ? 'paused' : 'scheduled' },
      'update.job_postpone',
      {
        until: until.toISOString(),
      },
    );
    await log(tx, actor.orgId, id, null, `postponed until ${until.toISOString()}`);
    return viewJob(tx, row);
  });
}

async function getJobView(ctx: AppContext, orgId: string, id: string, fallback: UpdateJobView): Promise<UpdateJobView> {
  const job = await requireJob(ctx.db, orgId, id).catch(() => null);
  return job ? viewJob(ctx.db, job) : fallback;
}

// ---- the engine ----

const completedData = (
  v: UpdateJobView,
  outcome: 'done' | 'halted' | 'cancelled',
  reason: string | null,
  at: Date,
): UpdateCompletedData => ({
  jobId: v.id,
  releaseId: v.releaseId,
  version: v.version,
  outcome,
  reason,
  gates: v.gates,
  done: v.counts.done,
  failed: v.counts.failed,
  rolledBack: v.counts.rolled_back,
  skipped: v.counts.skipped,
  cancelled: v.counts.cancelled,
  pending: v.counts.pending + v.counts.postponed,
  completedAt: at.toISOString(),
});

const gateChangedData = (r: GateRow, version: string, at: Date): UpdateGateChangedData => ({
  jobId: r.jobId,
  gateId: r.gateId,
  siteId: r.siteId,
  canary: r.canary,
  state: r.state,
  detail: r.detail,
  version,
  changedAt: at.toISOString(),
});

/** Where the release's signed manifest is on this cloud, as a controller fetches it. */
export const releaseUrl = (ctx: AppContext, packageId: string) =>
  `${ctx.config.publicUrl.replace(/\/+$/, '')}/api/edge/releases/${packageId}/release.json`;

function updatePayload(ctx: AppContext, job: JobRow, pkg: { id: string; version: string; serial: number }): UpdateJob {
  return {
    jobId: job.id,
    url: releaseUrl(ctx, pkg.id),
    version: pkg.version,
    serial: pkg.serial,
    allowDowngrade: job.allowDowngrade,
    healthWindowS: job.strategy.healthWindowS,
  };
}

interface Outcome {
  commands: QueuedCommand[];
  live: Array<{ type: 'update.gate_changed' | 'update.completed'; data: Record<string, unknown> }>;
  /** When the job should be looked at again; null: it is finished. */
  next: Date | null;
}

/**
 * One step of a rollout at `now` (injectable for tests): postponed gates whose time came back to pending;
 * silent gates timed out; a failed canary (or too many failures) halts the job; the next eligible gates
 * (their site's window open) are sent the signed `update` command; a job with every gate settled is done.
 * Idempotent: the job row is locked, so concurrent ticks and reports take turns.
 */
export async function advanceJob(ctx: AppContext, orgId: string, jobId: string, now = new Date()): Promise<Date | null> {
  const out = await ctx.db.transaction(async (tx): Promise<Outcome> => {
    const o: Outcome = { commands: [], live: [], next: null };
    const [job] = await tx
      .select()
      .from(updateJobs)
      .where(and(eq(updateJobs.id, jobId), eq(updateJobs.orgId, orgId)))
      .for('update');
    if (!job || ['done', 'halted', 'cancelled'].includes(job.state)) return o;
    const pkg = await packageOf(tx, job.packageId);
    const tick = new Date(now.getTime() + ctx.config.updates.tickS * 1000);
    let state = job.state;
    if (state === 'scheduled') {
      if (job.startAt.getTime() > now.getTime()) {
        o.next = job.startAt;
        return o;
      }
      state = 'running';
      await tx.update(updateJobs).set({ state, updatedAt: now }).where(eq(updateJobs.id, jobId));
      await log(tx, orgId, jobId, null, 'started');
    }
    const rows = await tx
      .select()
      .from(updateJobGates)
      .where(eq(updateJobGates.jobId, jobId))
      .orderBy(asc(updateJobGates.batch), asc(updateJobGates.gateId));
    const change = async (r: GateRow, set: Partial<GateRow>, line: string, level: 'info' | 'warn' | 'error' = 'info') => {
      const [after] = await tx
        .update(updateJobGates)
        .set({ ...set, updatedAt: now })
        .where(eq(updateJobGates.id, r.id))
        .returning();
      await tx
        .update(gates)
        .set({ updateJobId: jobId, updateState: after!.state })
        .where(and(eq(gates.id, r.gateId), eq(gates.orgId, orgId)));
      await log(tx, orgId, jobId, r.gateId, line, level);
      const data = gateChangedData(after!, pkg.version, now);
      await emitEvent(ctx, tx, orgId, 'update.gate_changed', data);
      o.live.push({ type: 'update.gate_changed', data });
      return after!;
    };

    // Postponed gates whose time has come, and deadlines.
    for (const [i, r] of rows.entries()) {
      if (r.state === 'postponed' && r.postponedUntil && r.postponedUntil.getTime() <= now.getTime())
        rows[i] = await change(r, { state: 'pending', postponedUntil: null }, 'postponement over: back in the rollout');
      else if (r.deadlineAt && r.deadlineAt.getTime() <= now.getTime() && !isFinal(r.state)) {
        rows[i] =
          r.state === 'pending'
            ? await change(
                r,
                {
                  state: 'skipped',
                  detail: 'not reached: the controller did not take the update before its command expired',
                  finishedAt: now,
                  deadlineAt: null,
                },
                'skipped: the controller was not reached before the command expired',
                'warn',
              )
            : await change(
                r,
                {
                  state: 'failed',
                  detail: `no report since ${r.state} within the install budget and health window`,
                  finishedAt: now,
                  deadlineAt: null,
                },
                `failed: silent since ${r.state}`,
                'error',
              );
      }
    }

    // Halting: any canary that did not come through, or more failures than tolerated.
    const badCanary = rows.find((r) => r.canary && (BAD as readonly string[]).includes(r.state));
    const failures = rows.filter((r) => !r.canary && (r.state === 'failed' || r.state === 'rolled_back')).length;
    const haltReason = badCanary
      ? `canary gate ${badCanary.gateId} ${badCanary.state.replace('_', ' ')}${badCanary.detail ? `: ${badCanary.detail}` : ''}`
      : failures > job.strategy.failureThreshold
        ? `${failures} gate(s) failed or rolled back, over the threshold of ${job.strategy.failureThreshold}`
        : null;
    if (haltReason) {
      const [halted] = await tx
        .update(updateJobs)
        .set({ state: 'halted', haltedReason: haltReason.slice(0, 1000), finishedAt: now, updatedAt: now })
        .where(eq(updateJobs.id, jobId))
        .returning();
      await log(tx, orgId, jobId, null, `halted: ${haltReason}; gates not started stay on their version`, 'error');
      const data = completedData(jobView(halted!, pkg, rows), 'halted', haltReason, now);
      await emitEvent(ctx, tx, orgId, 'update.completed', data);
      o.live.push({ type: 'update.completed', data });
      return o;
    }

    // Finished?
    if (rows.every((r) => isFinal(r.state))) {
      const [done] = await tx
        .update(updateJobs)
        .set({ state: 'done', finishedAt: now, updatedAt: now })
        .where(eq(updateJobs.id, jobId))
        .returning();
      const view = jobView(done!, pkg, rows);
      await log(
        tx,
        orgId,
        jobId,
        null,
        `done: ${view.counts.done} updated, ${view.counts.skipped} skipped, ${view.counts.failed + view.counts.rolled_back} failed`,
      );
      const data = completedData(view, 'done', null, now);
      await emitEvent(ctx, tx, orgId, 'update.completed', data);
      o.live.push({ type: 'update.completed', data });
      return o;
    }

    o.next = nextLook(rows, tick);
    if (state !== 'running') return o;

    // The canary stage ends when every canary is done and its controller still says it runs the release.
    let stage = job.stage;
    const canaries = rows.filter((r) => r.canary);
    if (stage === 'canary' && canaries.every((r) => r.state === 'done')) {
      stage = 'batches';
      await tx.update(updateJobs).set({ stage, updatedAt: now }).where(eq(updateJobs.id, jobId));
      await log(tx, orgId, jobId, null, `canary stage passed (${canaries.length} gate(s) healthy on ${pkg.version}); batches start`);
    }
    // Which gates may start now: the canaries; then the lowest batch with work left.
    const open = rows.filter((r) => r.state === 'pending' || isInProgress(r.state));
    const candidates =
      stage === 'canary'
        ? rows.filter((r) => r.canary && r.state === 'pending' && !r.commandId)
        : (() => {
            const batch = Math.min(...open.filter((r) => !r.canary).map((r) => r.batch));
            return rows.filter((r) => !r.canary && r.batch === batch && r.state === 'pending' && !r.commandId);
          })();
    if (candidates.length === 0) return o;
    const siteRows = await tx
      .select()
      .from(sites)
      .where(and(eq(sites.orgId, orgId), inArray(sites.id, [...new Set(candidates.map((r) => r.siteId))])));
    const siteById = new Map(siteRows.map((s) => [s.id, s]));
    const payload = updatePayload(ctx, job, pkg);
    const actor = systemActor(orgId);
    let waiting = 0;
    for (const r of candidates) {
      const site = siteById.get(r.siteId);
      if (site && !inMaintenanceWindow(windowOf(site), site.timezone, now)) {
        waiting++;
        continue;
      }
      const cmd = await queueCommand(
        tx,
        actor,
        r.gateId,
        { type: 'update', ttlMs: job.strategy.deliveryTtlS * 1000 },
        { action: 'update.dispatch', data: { jobId, version: pkg.version, serial: pkg.serial } },
      );
      cmd.update = payload;
      o.commands.push(cmd);
      const deadline = new Date(now.getTime() + job.strategy.deliveryTtlS * 1000);
      await change(
        r,
        { commandId: cmd.id, dispatchedAt: now, deadlineAt: deadline, detail: null },
        `${r.canary ? 'canary: ' : `batch ${r.batch}: `}update command to ${pkg.version} sent`,
      );
      if (deadline.getTime() < (o.next?.getTime() ?? Number.POSITIVE_INFINITY)) o.next = deadline;
    }
    if (waiting) await log(tx, orgId, jobId, null, `${waiting} gate(s) wait for their site's maintenance window`);
    return o;
  });
  for (const e of out.live) ctx.events.publish(orgId, e);
  if (out.commands.length) await deliverCommands(ctx, orgId, out.commands);
  return out.next;
}

/** The next moment a job needs a look by itself: its nearest deadline or postponement, at the latest one tick on. */
function nextLook(rows: readonly GateRow[], tick: Date): Date {
  let t = tick.getTime();
  for (const r of rows) {
    if (r.deadlineAt && !isFinal(r.state)) t = Math.min(t, r.deadlineAt.getTime());
    if (r.state === 'postponed' && r.postponedUntil) t = Math.min(t, r.postponedUntil.getTime());
  }
  return new Date(t);
}

// ---- reports from the controllers ----

/**
 * A status's `update` (CMD-6) for this gate's row of that job: taken once per report (`ts`), whatever state
 * the row is in — a done canary that its boot guard rolled back later reports rolled_back, and that counts.
 * New log lines are appended; a report that settles the gate moves the rollout on at once. Also sends the
 * job's command again to a controller that shows up without having taken it (it was offline, or the
 * message was lost), while the command is valid.
 */
export async function updateReported(
  ctx: AppContext,
  device: { orgId: string; gateId: string },
  s: Pick<Status, 'state' | 'update'>,
  now = new Date(),
): Promise<void> {
  const u = s.update;
  let settledJob: string | null = null;
  if (u) {
    const live = await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(updateJobGates)
        .where(and(eq(updateJobGates.jobId, u.jobId), eq(updateJobGates.gateId, device.gateId), eq(updateJobGates.orgId, device.orgId)))
        .for('update');
      if (!row || (row.reportTs !== null && row.reportTs >= u.ts)) return null;
      const state = u.state as UpdateGateState;
      const [job] = await tx.select().from(updateJobs).where(eq(updateJobs.id, row.jobId));
      const strategy = job!.strategy;
      const deadline = isInProgress(state)
        ? new Date(now.getTime() + (strategy.installTimeoutS + strategy.healthWindowS) * 1000 + REPORT_MARGIN_MS)
        : null;
      const [after] = await tx
        .update(updateJobGates)
        .set({
          state,
          detail: u.detail ?? null,
          reportedAt: now,
          reportTs: u.ts,
          deadlineAt: deadline,
          finishedAt: isFinal(state) ? now : null,
          updatedAt: now,
        })
        .where(eq(updateJobGates.id, row.id))
        .returning();
      await tx
        .update(gates)
        .set({ updateJobId: row.jobId, updateState: state, updateReportedAt: now })
        .where(and(eq(gates.id, device.gateId), eq(gates.orgId, device.orgId)));
      await appendLines(
        tx,
        device.orgId,
        row.jobId,
        device.gateId,
        u.log,
        state === 'failed' || state === 'rolled_back' ? 'error' : 'info',
      );
      if (row.state === state) return { data: null, settled: false };
      await log(
        tx,
        device.orgId,
        row.jobId,
        device.gateId,
        `${state}${u.detail ? `: ${u.detail}` : ''}`,
        state === 'failed' || state === 'rolled_back' ? 'error' : 'info',
      );
      const data = gateChangedData(after!, u.version, now);
      await emitEvent(ctx, tx, device.orgId, 'update.gate_changed', data);
      return { data, settled: isFinal(state) };
    });
    if (live?.data) ctx.events.publish(device.orgId, { type: 'update.gate_changed', data: live.data });
    if (live?.settled) settledJob = u.jobId;
  }
  if (settledJob) await advanceJob(ctx, device.orgId, settledJob, now);
  if (s.state === 'online') await resendPending(ctx, device, u?.jobId ?? null, now);
}

/** The log lines of a report not stored yet: a status repeats its last lines, so the overlap with the stored tail is dropped. */
async function appendLines(tx: Executor, orgId: string, jobId: string, gateId: string, lines: readonly string[], level: 'info' | 'error') {
  if (lines.length === 0) return;
  const tail = (
    await tx
      .select({ message: updateLogs.message })
      .from(updateLogs)
      .where(
        and(
          eq(updateLogs.orgId, orgId),
          eq(updateLogs.jobId, jobId),
          eq(updateLogs.gateId, gateId),
          eq(updateLogs.level, level === 'error' ? 'error' : 'info'),
        ),
      )
      .orderBy(desc(updateLogs.id))
      .limit(lines.length)
  )
    .map((r) => r.message)
    .reverse();
  let k = Math.min(tail.length, lines.length);
  for (; k > 0; k--) if (tail.slice(tail.length - k).every((m, i) => m === `edge: ${lines[i]}`)) break;
  const fresh = lines.slice(k);
  if (fresh.length)
    await tx.insert(updateLogs).values(fresh.map((m) => ({ orgId, jobId, gateId, level, message: `edge: ${m}`.slice(0, 1000) })));
}

async function resendPending(ctx: AppContext, device: { orgId: string; gateId: string }, reportedJob: string | null, now: Date) {
  const rows = await ctx.db
    .select({ row: updateJobGates, cmd: gateCommands, job: updateJobs })
    .from(updateJobGates)
    .innerJoin(gateCommands, and(eq(gateCommands.id, updateJobGates.commandId), eq(gateCommands.orgId, device.orgId)))
    .innerJoin(updateJobs, eq(updateJobs.id, updateJobGates.jobId))
    .where(
      and(
        eq(updateJobGates.orgId, device.orgId),
        eq(updateJobGates.gateId, device.gateId),
        eq(updateJobGates.state, 'pending'),
        sql`${gateCommands.expiresAt} > ${now.toISOString()}`,
        sql`${gateCommands.updatedAt} < ${new Date(now.getTime() - RESEND_AFTER_MS).toISOString()}`,
        reportedJob ? ne(updateJobGates.jobId, reportedJob) : undefined,
      ),
    );
  for (const { row, cmd, job } of rows) {
    const pkg = await packageOf(ctx.db, job.packageId);
    await ctx.db.update(gateCommands).set({ updatedAt: now }).where(eq(gateCommands.id, cmd.id));
    await log(ctx.db, device.orgId, job.id, row.gateId, 'controller back: update command sent again');
    await deliverCommands(ctx, device.orgId, [
      {
        id: cmd.id,
        seq: cmd.seq,
        gateId: row.gateId,
        type: 'update',
        reason: null,
        expiresAt: cmd.expiresAt,
        update: updatePayload(ctx, job, pkg),
      },
    ]);
  }
}

// ---- new releases ----

/**
 * The nightly check, for one organisation or all: a ready, unexpired stable release newer than the oldest
 * version its gates run is noted once (never rolled out by itself). Answers how many notices were new.
 */
export async function checkForReleases(ctx: AppContext, orgId: string | null, now = new Date()): Promise<number> {
  const [latest] = await ctx.db
    .select()
    .from(updatePackages)
    .where(
      and(
        eq(updatePackages.status, 'ready'),
        eq(updatePackages.channel, 'stable'),
        sql`${updatePackages.expiresAt} > ${now.toISOString()}`,
      ),
    )
    .orderBy(desc(updatePackages.serial))
    .limit(1);
  if (!latest) return 0;
  const fleet = await ctx.db
    .select({ orgId: gates.orgId, version: gates.version })
    .from(gates)
    .innerJoin(organizations, and(eq(organizations.id, gates.orgId), isNull(organizations.deletedAt)))
    .where(and(isNull(gates.deletedAt), sql`${gates.deviceId} is not null`, orgId ? eq(gates.orgId, orgId) : undefined));
  const oldest = new Map<string, string | null>();
  for (const g of fleet) {
    const cur = oldest.get(g.orgId);
    const v = g.version && /^\d+\.\d+\.\d+/.test(g.version) ? g.version : null;
    if (!oldest.has(g.orgId)) oldest.set(g.orgId, v);
    else if (v && (cur === null || cur === undefined || compareVersions(v, cur) < 0)) oldest.set(g.orgId, v);
  }
  let fresh = 0;
  for (const [org, version] of oldest) {
    if (version && compareVersions(latest.version, version) <= 0) continue;
    const inserted = await ctx.db
      .insert(updateNotices)
      .values({ id: uuidv7(), orgId: org, packageId: latest.id, runningVersion: version })
      .onConflictDoNothing()
      .returning({ id: updateNotices.id });
    fresh += inserted.length;
  }
  return fresh;
}

export async function availableUpdates(ctx: AppContext, orgId: string) {
  const notices = await ctx.db
    .select({ notice: updateNotices, pkg: updatePackages })
    .from(updateNotices)
    .innerJoin(updatePackages, eq(updatePackages.id, updateNotices.packageId))
    .where(eq(updateNotices.orgId, orgId))
    .orderBy(desc(updatePackages.serial))
    .limit(20);
  return {
    items: notices.map(({ notice, pkg }) => ({
      id: notice.id,
      releaseId: pkg.id,
      version: pkg.version,
      serial: pkg.serial,
      channel: pkg.channel,
      notes: pkg.notes,
      runningVersion: notice.runningVersion,
      expiresAt: pkg.expiresAt.toISOString(),
      noticedAt: notice.createdAt.toISOString(),
    })),
  };
}

export async function checkNow(ctx: AppContext, actor: Actor) {
  await checkForReleases(ctx, actor.orgId);
  await ctx.db.transaction((tx) => writeAudit(tx, actor, { action: 'update.check', entityType: 'update_notice' }));
  return availableUpdates(ctx, actor.orgId);
}

/** The tick chain of each job and the nightly check; call while the routes register. */
export async function defineUpdateQueues(ctx: AppContext): Promise<void> {
  await ctx.jobs.define<{ orgId: string; jobId: string }>(
    TICK_QUEUE,
    async ({ orgId, jobId }) => {
      const next = await advanceJob(ctx, orgId, jobId);
      // One chain per job: each tick enqueues the next until the job is finished.
      if (next) await ctx.jobs.send(TICK_QUEUE, { orgId, jobId }, { startAfter: next });
    },
    { retryDelayS: 5 },
  );
  await ctx.jobs.define<{ orgId: string }>(CHECK_QUEUE, async () => {
    const n = await checkForReleases(ctx, null);
    if (n) ctx.jobs.log?.info({ notices: n }, 'updates: new releases noted');
  });
  await ctx.jobs.schedule(CHECK_QUEUE, '17 3 * * *', { orgId: NO_ORG });
}
