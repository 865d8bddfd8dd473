/**
 * How a write raises a webhook event: `emitEvent(ctx, tx, orgId, type, data)`
 * inside the transaction of the write that causes it enqueues ONE
 * `webhook.fanout` job carrying the event, in that transaction — the event
 * exists exactly when its cause was committed, and the request writes one row
 * however many endpoints listen. The fan-out job then writes one delivery per
 * subscribed endpoint with one `webhook.deliver` job each (deliver.ts sends
 * them, each retried on its own), and completes in that same transaction, so
 * an event is fanned out once. The request waits for no receiver, and its
 * cost does not grow with the number of endpoints.
 *
 * Most organisations have no endpoint, and events come from hot paths
 * (issuance, check-in ingestion at thousands a second): so each instance keeps
 * which event types each organisation has subscribers for, loaded once per
 * organisation and dropped on every instance by a NOTIFY (`webhook_endpoints`,
 * sent in the transaction of any endpoint change). With no subscriber an
 * event costs a map lookup; callers that would open a transaction only for the
 * event ask `subscribed()` first.
 */
import { randomUUID } from 'node:crypto';
import { uuidv7 } from '@gatehouse/protocol';
import { and, eq, isNull, lte, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { webhookDeliveries, webhookEndpoints } from '../../db/schema.js';
import type { EventType } from './events.js';

export const DELIVER_QUEUE = 'webhook.deliver';
export const FANOUT_QUEUE = 'webhook.fanout';

/** The NOTIFY channel of endpoint changes; the payload is the organisation whose events they receive. */
export const ENDPOINTS_CHANNEL = 'webhook_endpoints';

/** The events of one write, to be fanned out to the endpoints of `orgId` (the organisation they happened in). */
export interface FanoutJob {
  orgId: string;
  /**
   * When the write raised its events (ISO): an endpoint made after it does not receive them, however
   * late the fan-out runs (a busy queue, an instance restarting). Absent in jobs queued before it existed.
   */
  emittedAt?: string;
  events: Array<{ type: EventType; timestamp: string; data: Record<string, unknown> }>;
}

export interface DeliverJob {
  orgId: string;
  /** The webhook_deliveries row. */
  id: string;
}

/** The event types each organisation has active endpoints for, per instance. */
export class Subscriptions {
  readonly #ctx: AppContext;
  readonly #byOrg = new Map<string, Promise<Set<string>>>();
  #unlisten: (() => Promise<void>) | null = null;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  /** Listens for endpoint changes; until then (and after stop) nothing is cached and every question reads the table. */
  async start(): Promise<void> {
    if (this.#unlisten) return;
    this.#unlisten = await this.#ctx.database.listen(
      ENDPOINTS_CHANNEL,
      (orgId) => this.#byOrg.delete(orgId),
      // The connection was lost: a change may have gone unheard.
      () => this.#byOrg.clear(),
    );
  }

  async stop(): Promise<void> {
    await this.#unlisten?.();
    this.#unlisten = null;
    this.#byOrg.clear();
  }

  /** Drops what this instance knows of `orgId` (its own changes, at once; the NOTIFY tells the others). */
  forget(orgId: string): void {
    this.#byOrg.delete(orgId);
  }

  /**
   * Whether `orgId` has an active endpoint subscribed to any of `types`. Inside a transaction, pass
   * it as `db`: on PGlite (one connection) a read beside an open transaction would wait for it forever.
   */
  async subscribed(orgId: string, types: readonly EventType[], db?: Executor): Promise<boolean> {
    const set = await this.#types(orgId, db ?? this.#ctx.db);
    return types.some((t) => set.has(t));
  }

  #types(orgId: string, db: Executor): Promise<Set<string>> {
    const cached = this.#byOrg.get(orgId);
    if (cached) return cached;
    const loading = this.#load(orgId, db);
    if (!this.#unlisten) return loading;
    this.#byOrg.set(orgId, loading);
    // A failed read is not kept: the next event asks again.
    loading.catch(() => {
      if (this.#byOrg.get(orgId) === loading) this.#byOrg.delete(orgId);
    });
    return loading;
  }

  async #load(orgId: string, db: Executor): Promise<Set<string>> {
    const rows = await db
      .select({ events: webhookEndpoints.events })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.eventOrgId, orgId), eq(webhookEndpoints.status, 'active'), isNull(webhookEndpoints.deletedAt)));
    return new Set(rows.flatMap((r) => r.events));
  }
}

const subscriptions = new WeakMap<AppContext, Subscriptions>();

export function subscriptionsOf(ctx: AppContext): Subscriptions {
  let s = subscriptions.get(ctx);
  if (!s) {
    s = new Subscriptions(ctx);
    subscriptions.set(ctx, s);
  }
  return s;
}

/** Whether an event of one of `types` in `orgId` would be delivered anywhere (cheap: the per-instance cache). */
export const subscribed = (ctx: AppContext, orgId: string, ...types: EventType[]) => subscriptionsOf(ctx).subscribed(orgId, types);

/** Tells every instance, once `tx` commits, that the endpoints receiving `eventOrgId`'s events changed. */
export async function announceEndpointChange(tx: Executor, eventOrgId: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${ENDPOINTS_CHANNEL}, ${eventOrgId})`);
}

export interface WebhookEvent {
  type: EventType;
  data: Record<string, unknown>;
  /** When it happened (default now). */
  at?: Date;
}

/**
 * Raises `events` of `orgId` in `tx` (which must be the transaction of the write that caused them):
 * one fan-out job when anyone listens, nothing at all otherwise.
 */
export async function emitEvents(ctx: AppContext, tx: Executor, orgId: string, events: readonly WebhookEvent[]): Promise<void> {
  if (events.length === 0) return;
  const types = [...new Set(events.map((e) => e.type))];
  if (!(await subscriptionsOf(ctx).subscribed(orgId, types, tx))) return;
  const at = new Date();
  await ctx.jobs.send<FanoutJob>(
    FANOUT_QUEUE,
    {
      orgId,
      emittedAt: at.toISOString(),
      events: events.map((e) => ({ type: e.type, timestamp: (e.at ?? at).toISOString(), data: e.data })),
    },
    { tx },
  );
}

/**
 * The fan-out job: a delivery (and its job) for every active endpoint of the organisation subscribed to
 * each event, written with the job's completion in one transaction. Endpoints are those active at this
 * moment, a few milliseconds after the event, and made before it: one disabled in between receives nothing,
 * and one made in between does not receive what happened before it existed.
 */
export async function fanOut(ctx: AppContext, job: FanoutJob, jobId: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const endpoints = await tx
      .select({ id: webhookEndpoints.id, orgId: webhookEndpoints.orgId, appId: webhookEndpoints.appId, events: webhookEndpoints.events })
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.eventOrgId, job.orgId),
          eq(webhookEndpoints.status, 'active'),
          isNull(webhookEndpoints.deletedAt),
          job.emittedAt ? lte(webhookEndpoints.createdAt, new Date(job.emittedAt)) : undefined,
        ),
      );
    const rows = job.events.flatMap((e) =>
      endpoints
        .filter((ep) => ep.events.includes(e.type))
        .map((ep) => ({
          id: uuidv7(),
          orgId: ep.orgId,
          endpointId: ep.id,
          appId: ep.appId,
          eventType: e.type,
          payload: { type: e.type, timestamp: e.timestamp, data: e.data },
        })),
    );
    await enqueueDeliveries(ctx, tx, rows);
    await ctx.jobs.complete(FANOUT_QUEUE, jobId, tx);
  });
}

/** One event: `emitEvents` of one. */
export async function emitEvent(
  ctx: AppContext,
  tx: Executor,
  orgId: string,
  type: EventType,
  data: Record<string, unknown>,
): Promise<void> {
  await emitEvents(ctx, tx, orgId, [{ type, data }]);
}

/** Inserts the deliveries and one job each, in `tx`: two statements however many there are. */
export async function enqueueDeliveries(
  ctx: AppContext,
  tx: Executor,
  rows: Array<typeof webhookDeliveries.$inferInsert & { id: string; orgId: string }>,
): Promise<string[]> {
  if (rows.length === 0) return [];
  // Called outside a transaction (an endpoint subscribed between a caller's check and its write): the
  // deliveries and their jobs still go in together.
  if (!(tx instanceof PgTransaction)) return ctx.db.transaction((t) => enqueueDeliveries(ctx, t, rows));
  // The job ids are chosen here, so each delivery names its job as it is written.
  const withJobs = rows.map((r) => ({ ...r, jobId: randomUUID() }));
  await tx.insert(webhookDeliveries).values(withJobs);
  await ctx.jobs.sendMany<DeliverJob>(
    DELIVER_QUEUE,
    withJobs.map((r) => ({ id: r.jobId, data: { orgId: r.orgId, id: r.id } })),
    { tx },
  );
  return rows.map((r) => r.id);
}
