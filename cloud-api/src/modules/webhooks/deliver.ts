/**
 * Delivery of webhook events (emit.ts fans them out): the `webhook.deliver` job
 * opens one delivery, signs its body with the endpoint's secret per the
 * Standard Webhooks specification (the `standardwebhooks` package: headers
 * webhook-id, webhook-timestamp, webhook-signature) and POSTs it to the
 * address the SSRF guard checked (url-guard.ts), redirects not followed.
 *
 * A 2xx within the timeout is `delivered`. Anything else is `failed` and the
 * job throws, so the queue retries with exponential backoff (config: over a
 * day by default); the last attempt's failure is `dead`. The `webhook-id` is
 * the delivery's, the same on every attempt and redelivery, so a receiver can
 * drop duplicates; the timestamp and signature are made afresh per attempt
 * (receivers refuse old timestamps).
 *
 * An endpoint whose every delivery has failed for `disableAfterDays` is
 * disabled, audited, and the application's creator told by e-mail (its
 * organisation's admins when the creator is gone).
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { and, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { Counter, Histogram, type Registry } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { apiApplications, type Language, userRoles, users, webhookDeliveries, webhookEndpoints } from '../../db/schema.js';
import type { Attempt } from '../../jobs/queue.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { BreakerOpenError, breakersOf } from '../../lib/breaker.js';
import { formatDateTime } from '../../lib/i18n.js';
import { notify } from '../notifications/outbox.js';
import { openUser, userPersonalColumns } from '../orgs/personal-data.js';
import { getOrgSettings } from '../orgs/settings.js';
import { announceEndpointChange, DELIVER_QUEUE, type DeliverJob, FANOUT_QUEUE, type FanoutJob, fanOut, subscriptionsOf } from './emit.js';
import { secretAad } from './secret.js';
import { type ResolvedAddress, resolveChecked, resolverOf, UrlRefused } from './url-guard.js';

/** The Standard Webhooks message id of a delivery: stable across attempts and redeliveries. */
export const webhookId = (deliveryId: string) => `msg_${deliveryId.replaceAll('-', '')}`;

interface Metrics {
  deliveries: Counter<'result'>;
  duration: Histogram<'result'>;
}
const metrics = new WeakMap<AppContext, Metrics>();

function metricsOf(ctx: AppContext): Metrics {
  let m = metrics.get(ctx);
  if (!m) {
    m = {
      deliveries: new Counter({
        name: 'gatehouse_webhook_deliveries_total',
        help: 'Webhook delivery attempts by outcome (delivered; failed = will retry; dead)',
        labelNames: ['result'] as const,
        registers: [],
      }),
      duration: new Histogram({
        name: 'gatehouse_webhook_delivery_duration_seconds',
        help: 'Time from connecting to a webhook endpoint to its answer (or the failure), by outcome',
        labelNames: ['result'] as const,
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
        registers: [],
      }),
    };
    metrics.set(ctx, m);
  }
  return m;
}

/** Adds the webhook metrics to the app's /metrics registry (plugins/app/metrics.ts). */
export function registerWebhookMetrics(registry: Registry, ctx: AppContext): void {
  const m = metricsOf(ctx);
  registry.registerMetric(m.deliveries);
  registry.registerMetric(m.duration);
}

interface PostResult {
  status: number | null;
  error: string | null;
}

/** Always this address, whatever the name: the connection goes where the guard looked. */
const pinnedLookup =
  (to: ResolvedAddress): LookupFunction =>
  (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: ResolvedAddress[]) => void)(null, [to]);
    else callback(null, to.address, to.family);
  };

/** One POST, no redirect followed, the body read and dropped; never throws. */
function post(url: URL, to: ResolvedAddress, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PostResult> {
  return new Promise((resolve) => {
    const mod = url.protocol === 'https:' ? https : http;
    let settled = false;
    const done = (r: PostResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinnedLookup(to),
        // A fresh connection each time: a kept-alive socket would skip the check of a name that changed.
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode ?? null, error: null }));
        res.on('error', () => done({ status: res.statusCode ?? null, error: null }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      done({
        status: null,
        error:
          err.name === 'AbortError' || err.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (err.code ?? err.message),
      }),
    );
    req.end(body);
  });
}

/** A system actor for what the delivery worker decides on its own. */
const systemActor = (orgId: string): Actor => ({ orgId, userId: null, ip: null, userAgent: null });

/** The handler of `webhook.deliver`. */
export function webhookDeliverer(ctx: AppContext) {
  const m = metricsOf(ctx);
  return async (job: DeliverJob, attempt: Attempt): Promise<void> => {
    const log = ctx.jobs.log;
    const [row] = await ctx.db
      .select({ d: webhookDeliveries, ep: webhookEndpoints })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .where(and(eq(webhookDeliveries.id, job.id), eq(webhookDeliveries.orgId, job.orgId)));
    if (!row) {
      log?.warn({ deliveryId: job.id, orgId: job.orgId }, 'webhook delivery to send is gone');
      return;
    }
    const { d, ep } = row;
    if (d.status === 'delivered') return;
    if (ep.status !== 'active' || ep.deletedAt) {
      await finish(ctx, d.id, { status: 'dead', responseCode: null, durationMs: null, lastError: 'endpoint disabled or deleted' });
      m.deliveries.inc({ result: 'dead' });
      return;
    }
    const cfg = ctx.config.webhooks;
    const body = JSON.stringify(d.payload);
    const msgId = webhookId(d.id);
    const started = performance.now();
    let result: PostResult;
    try {
      const url = new URL(ep.url);
      // Checked again now, after resolving again: the name may point elsewhere than when it was saved.
      const to = await resolveChecked(url, cfg.allowPrivateUrls, resolverOf(ctx));
      const secret = ctx.sealer.open(ep.secretEnc, secretAad(ep.id));
      const now = new Date();
      const headers = {
        'content-type': 'application/json',
        'user-agent': `Gatehouse-Webhooks/${ctx.config.version}`,
        'webhook-id': msgId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(msgId, now, body),
      };
      // One breaker per host: a dead receiver fails its deliveries fast instead of each waiting out the timeout.
      result = await breakersOf(ctx).run(
        `webhook:${url.host}`,
        () => post(url, to, headers, body, cfg.timeoutMs),
        ({ value }) => !value || value.status === null || value.status >= 500,
      );
    } catch (err) {
      result = {
        status: null,
        error: err instanceof UrlRefused ? `refused: ${err.message}` : err instanceof BreakerOpenError ? err.message : 'delivery failed',
      };
      if (!(err instanceof UrlRefused) && !(err instanceof BreakerOpenError))
        log?.warn({ err, deliveryId: d.id, endpointId: ep.id }, 'webhook delivery could not be sent');
    }
    const durationMs = Math.round(performance.now() - started);
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const status = ok ? 'delivered' : attempt.final ? 'dead' : 'failed';
    const lastError = ok ? null : (result.error ?? `HTTP ${result.status}`);
    await finish(ctx, d.id, { status, responseCode: result.status, durationMs, lastError });
    m.deliveries.inc({ result: status });
    m.duration.observe({ result: status }, durationMs / 1000);
    if (ok) {
      if (ep.failingSince)
        await ctx.db.update(webhookEndpoints).set({ failingSince: null, updatedAt: new Date() }).where(eq(webhookEndpoints.id, ep.id));
    } else {
      log?.warn(
        {
          deliveryId: d.id,
          endpointId: ep.id,
          orgId: d.orgId,
          attempt: attempt.attempt,
          status,
          responseCode: result.status,
          error: lastError,
        },
        'webhook delivery failed',
      );
      await failing(ctx, ep.id);
    }
    if (status === 'failed') throw new Error(lastError ?? 'delivery failed');
  };
}

async function finish(
  ctx: AppContext,
  id: string,
  r: { status: 'delivered' | 'failed' | 'dead'; responseCode: number | null; durationMs: number | null; lastError: string | null },
): Promise<void> {
  await ctx.db
    .update(webhookDeliveries)
    .set({
      status: r.status,
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      responseCode: r.responseCode,
      durationMs: r.durationMs,
      lastError: r.lastError,
      ...(r.status === 'delivered' ? { deliveredAt: new Date() } : {}),
      updatedAt: new Date(),
    })
    .where(eq(webhookDeliveries.id, id));
}

/** Marks the endpoint failing (since the first failure after a success) and disables it once that has lasted too long. */
async function failing(ctx: AppContext, endpointId: string): Promise<void> {
  const days = ctx.config.webhooks.disableAfterDays;
  await ctx.db
    .update(webhookEndpoints)
    .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, now())` })
    .where(eq(webhookEndpoints.id, endpointId));
  const disabledFor = await ctx.db.transaction(async (tx) => {
    // Only the one attempt that flips it active → disabled tells anyone.
    const [ep] = await tx
      .update(webhookEndpoints)
      .set({
        status: 'disabled',
        disabledAt: new Date(),
        disabledReason: `every delivery failed for ${days} days`,
        updatedAt: new Date(),
      })
      .where(
        and(
          eq(webhookEndpoints.id, endpointId),
          eq(webhookEndpoints.status, 'active'),
          isNull(webhookEndpoints.deletedAt),
          lte(webhookEndpoints.failingSince, sql`now() - make_interval(days => ${days})`),
        ),
      )
      .returning();
    if (!ep) return null;
    await writeAudit(tx, systemActor(ep.orgId), {
      action: 'webhook.disable',
      entityType: 'webhook',
      entityId: ep.id,
      data: { appId: ep.appId, reason: ep.disabledReason, failingSince: ep.failingSince?.toISOString() ?? null },
    });
    await announceEndpointChange(tx, ep.eventOrgId);
    await tellOwner(ctx, tx, ep);
    return ep.eventOrgId;
  });
  if (disabledFor) subscriptionsOf(ctx).forget(disabledFor);
}

/** E-mails the application's creator, or the organisation's admins when the creator is gone. */
async function tellOwner(ctx: AppContext, tx: Executor, ep: typeof webhookEndpoints.$inferSelect): Promise<void> {
  const [app] = await tx
    .select({ name: apiApplications.name, createdBy: apiApplications.createdBy })
    .from(apiApplications)
    .where(eq(apiApplications.id, ep.appId));
  const live = and(eq(users.orgId, ep.orgId), eq(users.status, 'active'), isNull(users.deletedAt));
  const cols = { id: users.id, language: users.language, ...userPersonalColumns };
  let to = app?.createdBy
    ? await tx
        .select(cols)
        .from(users)
        .where(and(live, eq(users.id, app.createdBy)))
    : [];
  if (to.length === 0) {
    const admins = tx
      .select({ id: userRoles.userId })
      .from(userRoles)
      .where(and(eq(userRoles.orgId, ep.orgId), eq(userRoles.role, 'OrgAdmin')));
    to = await tx
      .select(cols)
      .from(users)
      .where(and(live, inArray(users.id, admins)));
  }
  const settings = await getOrgSettings(tx, ep.orgId);
  const since = ep.failingSince ?? new Date();
  const days = String(Math.max(1, Math.floor((Date.now() - since.getTime()) / 86_400_000)));
  for (const u of to) {
    const language: Language = u.language === 'en' || u.language === 'ru' ? u.language : settings.defaultLanguage;
    await notify(ctx, tx, {
      orgId: ep.orgId,
      channel: 'email',
      to: openUser(ctx.sealer, u.id, u).email,
      template: 'webhook_disabled',
      language,
      vars: { appName: app?.name ?? '', url: ep.url, since: formatDateTime(since, language, 'UTC'), days, orgName: settings.orgName },
      userId: u.id,
    });
  }
}

/** Declares the fan-out and delivery queues; call while the app's plugins register (workers start when it is ready). */
export async function defineWebhookQueues(ctx: AppContext): Promise<void> {
  const cfg = ctx.config.webhooks;
  await ctx.jobs.define<FanoutJob>(FANOUT_QUEUE, (job, attempt) => fanOut(ctx, job, attempt.id), { concurrency: 2 });
  await ctx.jobs.define<DeliverJob>(DELIVER_QUEUE, webhookDeliverer(ctx), {
    retryLimit: cfg.retryLimit,
    retryDelayS: cfg.retryDelayS,
    // The request's own timeout, the DNS lookup and the bookkeeping fit well within this.
    expireInS: Math.ceil(cfg.timeoutMs / 1000) + 45,
    concurrency: 4,
  });
}
