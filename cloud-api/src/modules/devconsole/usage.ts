/**
 * Per-application usage (issue 13): every request made with an API key is
 * counted in memory (calls, and errors: status ≥ 400) per application and UTC
 * day, and the counts are added to `api_usage` by one statement every few
 * seconds and when the app closes — never a write per request. The same
 * requests feed `gatehouse_api_requests_total{app, status_class}`.
 */
import { and, eq, gte, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { AppContext } from '../../context.js';
import { apiUsage } from '../../db/schema.js';
import { type WebhookStats, webhookStats } from '../webhooks/service.js';
import { requireApplication } from './service.js';

const counters = new WeakMap<AppContext, Counter<'app' | 'status_class'>>();

/** `gatehouse_api_requests_total{app, status_class}`: requests made with an application's key, by application id and 2xx/4xx/5xx. */
export function apiRequestCounter(ctx: AppContext): Counter<'app' | 'status_class'> {
  let c = counters.get(ctx);
  if (!c) {
    c = new Counter({
      name: 'gatehouse_api_requests_total',
      help: 'Requests made with an API key, by application id and status class',
      labelNames: ['app', 'status_class'] as const,
      registers: [],
    });
    counters.set(ctx, c);
  }
  return c;
}

/** Adds the API request counter to the app's /metrics registry (plugins/app/metrics.ts). */
export function registerUsageMetrics(registry: Registry, ctx: AppContext): void {
  registry.registerMetric(apiRequestCounter(ctx));
}

/** The UTC day of a time, as api_usage keys it. */
export const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);

interface Tally {
  appId: string;
  day: string;
  calls: number;
  errors: number;
}

/** One per app instance: counts in memory, `flush()` adds them to the table. */
export class UsageMeter {
  #pending = new Map<string, Tally>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  readonly #ctx: AppContext;
  readonly #log: FastifyBaseLogger;
  readonly #counter: Counter<'app' | 'status_class'>;

  constructor(ctx: AppContext, log: FastifyBaseLogger) {
    this.#ctx = ctx;
    this.#log = log;
    this.#counter = apiRequestCounter(ctx);
  }

  /** A response to a request made with the application's key. */
  count(appId: string, statusCode: number, now = Date.now()): void {
    const day = utcDay(now);
    const key = `${appId}|${day}`;
    let t = this.#pending.get(key);
    if (!t) {
      t = { appId, day, calls: 0, errors: 0 };
      this.#pending.set(key, t);
    }
    t.calls++;
    if (statusCode >= 400) t.errors++;
    this.#counter.inc({ app: appId, status_class: `${Math.floor(statusCode / 100)}xx` });
  }

  /** Flushes every `everyMs` until `stop()`. */
  start(everyMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.flush().catch((err: unknown) => this.#log.error({ err }, 'usage: flushing API usage failed; kept for the next flush'));
    }, everyMs);
    this.#timer.unref();
  }

  /** Stops the timer and flushes what is left. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }

  /** Adds the counts so far to api_usage (one statement); on failure they are kept for the next flush. Flushes never overlap. */
  flush(): Promise<void> {
    const run = this.#flushing.then(() => this.#write());
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending.values()];
    this.#pending = new Map();
    const col = <T>(f: (t: Tally) => T) => sql.param(batch.map(f));
    try {
      // The owner organisation is the application's; an application not (or no longer) in the table is not counted.
      await this.#ctx.db.execute(sql`
        insert into api_usage (app_id, org_id, day, calls, errors)
        select u.app_id, a.org_id, u.day, u.calls, u.errors
        from unnest(${col((t) => t.appId)}::uuid[], ${col((t) => t.day)}::text[], ${col((t) => t.calls)}::bigint[], ${col((t) => t.errors)}::bigint[])
          as u(app_id, day, calls, errors)
        join api_applications a on a.id = u.app_id
        on conflict (app_id, day) do update
          set calls = api_usage.calls + excluded.calls, errors = api_usage.errors + excluded.errors`);
    } catch (err) {
      for (const t of batch) {
        const key = `${t.appId}|${t.day}`;
        const now = this.#pending.get(key);
        if (now) {
          now.calls += t.calls;
          now.errors += t.errors;
        } else this.#pending.set(key, t);
      }
      throw err;
    }
  }
}

export interface UsageDay {
  day: string;
  calls: number;
  errors: number;
}

export interface WebhookUsage extends WebhookStats {
  /** delivered / (delivered + failed + dead); null before any delivery was tried. */
  successRate: number | null;
}

/**
 * The last `days` UTC days (today included, oldest first, a day without calls
 * as zeros) of the owner organisation's application, and its webhook
 * deliveries over the same days.
 */
export async function applicationUsage(
  ctx: AppContext,
  orgId: string,
  appId: string,
  days: number,
  now = Date.now(),
): Promise<{ days: UsageDay[]; webhooks: WebhookUsage }> {
  await requireApplication(ctx.db, orgId, appId);
  const wanted = Array.from({ length: days }, (_, i) => utcDay(now - (days - 1 - i) * 86_400_000));
  const first = wanted[0]!;
  const rows = await ctx.db
    .select({ day: apiUsage.day, calls: apiUsage.calls, errors: apiUsage.errors })
    .from(apiUsage)
    .where(and(eq(apiUsage.appId, appId), eq(apiUsage.orgId, orgId), gte(apiUsage.day, first)));
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const w = await webhookStats(ctx.db, appId, days);
  const tried = w.delivered + w.failed + w.dead;
  return {
    days: wanted.map((day) => ({ day, calls: byDay.get(day)?.calls ?? 0, errors: byDay.get(day)?.errors ?? 0 })),
    webhooks: { ...w, successRate: tried ? w.delivered / tried : null },
  };
}
