/**
 * Webhook endpoints of an organisation's applications and their delivery log.
 * Everything is scoped by the owner organisation (`org_id`): another
 * organisation's application, endpoint or delivery is a 404. Every change is
 * audited and announced (emit.ts), so every instance's subscription cache
 * follows it.
 */
import { uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, gte, isNull, lt, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Db, Executor } from '../../db/client.js';
import { apiApplications, webhookDeliveries, webhookEndpoints } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { conflict, notFound, unprocessable } from '../../lib/errors.js';
import { decodeCursor, iso, page, pageLimit } from '../../lib/pagination.js';
import { webhookId } from './deliver.js';
import { announceEndpointChange, DELIVER_QUEUE, type DeliverJob, enqueueDeliveries, subscriptionsOf } from './emit.js';
import { type EventType, isEventType, TEST_EVENT } from './events.js';
import type { DeliveryItem, WebhookItem } from './schema.js';
import { newSecret, secretAad } from './secret.js';
import { checkEndpointUrl, UrlRefused } from './url-guard.js';

type Endpoint = typeof webhookEndpoints.$inferSelect;
type Delivery = typeof webhookDeliveries.$inferSelect;

const webhookView = (r: Endpoint): WebhookItem => ({
  id: r.id,
  appId: r.appId,
  url: r.url,
  events: r.events.filter(isEventType),
  description: r.description,
  status: r.status,
  failingSince: iso(r.failingSince),
  disabledAt: iso(r.disabledAt),
  disabledReason: r.disabledReason,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

const deliveryView = (r: Delivery): DeliveryItem => ({
  id: r.id,
  webhookId: webhookId(r.id),
  event: r.eventType,
  status: r.status,
  attempts: r.attempts,
  responseCode: r.responseCode,
  durationMs: r.durationMs,
  error: r.lastError,
  createdAt: r.createdAt.toISOString(),
  deliveredAt: iso(r.deliveredAt),
});

/** The application, if this organisation owns it and it is not deleted. */
async function requireApp(db: Executor, orgId: string, appId: string) {
  const [app] = await db
    .select()
    .from(apiApplications)
    .where(and(eq(apiApplications.id, appId), eq(apiApplications.orgId, orgId), isNull(apiApplications.deletedAt)));
  if (!app) throw notFound('application');
  return app;
}

async function requireEndpoint(db: Executor, orgId: string, id: string): Promise<Endpoint> {
  const [ep] = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId), isNull(webhookEndpoints.deletedAt)));
  if (!ep) throw notFound('webhook');
  // An endpoint of a deleted application is as gone as the application.
  await requireApp(db, orgId, ep.appId).catch(() => {
    throw notFound('webhook');
  });
  return ep;
}

async function checkedUrl(ctx: AppContext, url: string): Promise<string> {
  try {
    return (await checkEndpointUrl(ctx, url)).toString();
  } catch (err) {
    if (err instanceof UrlRefused) throw unprocessable(err.message);
    throw err;
  }
}

export async function createWebhook(
  ctx: AppContext,
  actor: Actor,
  appId: string,
  b: { url: string; events: EventType[]; description?: string | null },
) {
  await requireApp(ctx.db, actor.orgId, appId);
  // Resolved before the transaction: a slow name server holds no connection.
  const url = await checkedUrl(ctx, b.url);
  const secret = newSecret();
  const created = await ctx.db.transaction(async (tx) => {
    const app = await requireApp(tx, actor.orgId, appId);
    const id = uuidv7();
    const eventOrgId = app.sandbox && app.sandboxOrgId ? app.sandboxOrgId : app.orgId;
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        id,
        orgId: actor.orgId,
        appId,
        eventOrgId,
        url,
        events: [...new Set(b.events)],
        description: b.description ?? null,
        secretEnc: ctx.sealer.seal(secret, secretAad(id)),
        createdBy: actor.userId,
        updatedBy: actor.userId,
      })
      .returning();
    await writeAudit(tx, actor, {
      action: 'webhook.create',
      entityType: 'webhook',
      entityId: id,
      data: { appId, url, events: row!.events },
    });
    await announceEndpointChange(tx, eventOrgId);
    return { eventOrgId, view: { ...webhookView(row!), secret } };
  });
  subscriptionsOf(ctx).forget(created.eventOrgId);
  return created.view;
}

export async function listWebhooks(ctx: AppContext, orgId: string, appId: string) {
  await requireApp(ctx.db, orgId, appId);
  const rows = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.orgId, orgId), eq(webhookEndpoints.appId, appId), isNull(webhookEndpoints.deletedAt)))
    .orderBy(webhookEndpoints.id);
  return { items: rows.map(webhookView) };
}

export async function getWebhook(ctx: AppContext, orgId: string, id: string) {
  return webhookView(await requireEndpoint(ctx.db, orgId, id));
}

export async function updateWebhook(
  ctx: AppContext,
  actor: Actor,
  id: string,
  b: { url?: string; events?: EventType[]; description?: string | null; enabled?: boolean },
) {
  await requireEndpoint(ctx.db, actor.orgId, id);
  const url = b.url !== undefined ? await checkedUrl(ctx, b.url) : undefined;
  const updated = await ctx.db.transaction(async (tx) => {
    const cur = await requireEndpoint(tx, actor.orgId, id);
    const now = new Date();
    const state =
      b.enabled === true && cur.status !== 'active'
        ? { status: 'active' as const, disabledAt: null, disabledReason: null, failingSince: null }
        : b.enabled === false && cur.status !== 'disabled'
          ? { status: 'disabled' as const, disabledAt: now, disabledReason: 'disabled by a developer' }
          : {};
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        ...(url !== undefined ? { url } : {}),
        ...(b.events ? { events: [...new Set(b.events)] } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...state,
        updatedAt: now,
        updatedBy: actor.userId,
      })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, actor.orgId)))
      .returning();
    await writeAudit(tx, actor, {
      action: 'webhook.update',
      entityType: 'webhook',
      entityId: id,
      data: { appId: cur.appId, ...(url !== undefined ? { url } : {}), ...(b.events ? { events: b.events } : {}), enabled: b.enabled },
    });
    await announceEndpointChange(tx, cur.eventOrgId);
    return { eventOrgId: cur.eventOrgId, view: webhookView(row!) };
  });
  subscriptionsOf(ctx).forget(updated.eventOrgId);
  return updated.view;
}

export async function deleteWebhook(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  const eventOrgId = await ctx.db.transaction(async (tx) => {
    const cur = await requireEndpoint(tx, actor.orgId, id);
    const now = new Date();
    await tx
      .update(webhookEndpoints)
      .set({ deletedAt: now, updatedAt: now, updatedBy: actor.userId })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, actor.orgId)));
    await writeAudit(tx, actor, { action: 'webhook.delete', entityType: 'webhook', entityId: id, data: { appId: cur.appId } });
    await announceEndpointChange(tx, cur.eventOrgId);
    return cur.eventOrgId;
  });
  subscriptionsOf(ctx).forget(eventOrgId);
}

/** A new signing secret, at once (deliveries from now on are signed with it). */
export async function rotateSecret(ctx: AppContext, actor: Actor, id: string) {
  const secret = newSecret();
  await ctx.db.transaction(async (tx) => {
    const cur = await requireEndpoint(tx, actor.orgId, id);
    await tx
      .update(webhookEndpoints)
      .set({ secretEnc: ctx.sealer.seal(secret, secretAad(id)), updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, actor.orgId)));
    await writeAudit(tx, actor, { action: 'webhook.rotate_secret', entityType: 'webhook', entityId: id, data: { appId: cur.appId } });
  });
  return { secret };
}

/** Queues `webhook.test` to the endpoint, whatever it subscribes to. */
export async function sendTestEvent(ctx: AppContext, actor: Actor, id: string) {
  return ctx.db.transaction(async (tx) => {
    const ep = await requireEndpoint(tx, actor.orgId, id);
    if (ep.status !== 'active') throw conflict('the webhook is disabled: enable it first');
    const deliveryId = uuidv7();
    await enqueueDeliveries(ctx, tx, [
      {
        id: deliveryId,
        orgId: ep.orgId,
        endpointId: ep.id,
        appId: ep.appId,
        eventType: TEST_EVENT,
        payload: { type: TEST_EVENT, timestamp: new Date().toISOString(), data: { webhookId: ep.id, appId: ep.appId } },
      },
    ]);
    await writeAudit(tx, actor, { action: 'webhook.test', entityType: 'webhook', entityId: id, data: { deliveryId } });
    return { deliveryId };
  });
}

export async function listDeliveries(
  ctx: AppContext,
  orgId: string,
  id: string,
  q: { limit?: number; cursor?: string; status?: Delivery['status'] },
) {
  await requireEndpoint(ctx.db, orgId, id);
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.orgId, orgId),
        eq(webhookDeliveries.endpointId, id),
        q.status ? eq(webhookDeliveries.status, q.status) : undefined,
        cursor ? lt(webhookDeliveries.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(pageLimit(limit + 1));
  return page(rows.map(deliveryView), limit);
}

async function requireDelivery(db: Executor, orgId: string, endpointId: string, deliveryId: string): Promise<Delivery> {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.endpointId, endpointId)));
  if (!row) throw notFound('delivery');
  return row;
}

export async function getDelivery(ctx: AppContext, orgId: string, id: string, deliveryId: string) {
  await requireEndpoint(ctx.db, orgId, id);
  const row = await requireDelivery(ctx.db, orgId, id, deliveryId);
  return { ...deliveryView(row), payload: row.payload as { type: string; timestamp: string; data: Record<string, unknown> } };
}

/**
 * Sends a delivery again with a fresh set of attempts: pending again, its attempt count going on,
 * the same body and webhook-id (a receiver that already had it can tell).
 */
export async function redeliver(ctx: AppContext, actor: Actor, id: string, deliveryId: string) {
  return ctx.db.transaction(async (tx) => {
    const ep = await requireEndpoint(tx, actor.orgId, id);
    const cur = await requireDelivery(tx, actor.orgId, id, deliveryId);
    if (ep.status !== 'active') throw conflict('the webhook is disabled: enable it first');
    // A job still waiting for its retry would send it a second time.
    if (cur.jobId && (cur.status === 'pending' || cur.status === 'failed')) await ctx.jobs.cancel(DELIVER_QUEUE, cur.jobId, tx);
    const jobId = await ctx.jobs.send<DeliverJob>(DELIVER_QUEUE, { orgId: cur.orgId, id: cur.id }, { tx });
    const [row] = await tx
      .update(webhookDeliveries)
      .set({ status: 'pending', jobId, updatedAt: new Date() })
      .where(eq(webhookDeliveries.id, cur.id))
      .returning();
    await writeAudit(tx, actor, { action: 'webhook.redeliver', entityType: 'webhook', entityId: id, data: { deliveryId } });
    return deliveryView(row!);
  });
}

export interface WebhookStats {
  delivered: number;
  failed: number;
  dead: number;
  pending: number;
}

/** Deliveries of an application's events created in the last `sinceDays` days, by status (the usage screen's success rate). */
export async function webhookStats(db: Db | Executor, appId: string, sinceDays: number): Promise<WebhookStats> {
  const rows = await db
    .select({ status: webhookDeliveries.status, n: sql<number>`count(*)`.mapWith(Number) })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.appId, appId),
        gte(webhookDeliveries.createdAt, sql`now() - make_interval(days => ${Math.max(0, Math.floor(sinceDays))})`),
      ),
    )
    .groupBy(webhookDeliveries.status);
  const out: WebhookStats = { delivered: 0, failed: 0, dead: 0, pending: 0 };
  for (const r of rows) if (r.status in out) out[r.status] = r.n;
  return out;
}
