/**
 * Sync lag per site on /metrics, and an alert when it passes a threshold.
 *
 * `gatehouse_sync_lag_seconds{site}` is the age of the oldest change of the
 * site that some online edge has not yet acknowledged: unstamped, or stamped
 * above the lowest `cacheSeq` an online controller of the site reported (the
 * edge reports its status right after applying each delta, so this is the
 * acknowledged cursor, not the one the cloud hopes it sent). 0 when every
 * online edge is current. Edges that are offline are left out (the
 * controller_offline alarm covers them), and so are edges still waiting for
 * their first snapshot (cacheSeq 0: the snapshot, not the change log, brings
 * them up to date). Read from the database, so any instance answers the same.
 *
 * `gatehouse_sync_lag_alert{site}` is 1 while that lag is at or above
 * SYNC_LAG_ALERT_S (default 30), and each site crossing it logs one warning.
 */

import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { isDatabaseUnavailable } from '../db/breaker.js';
import type { Db } from '../db/client.js';
import { gates } from '../db/schema.js';
import { syncChanges } from './schema.js';

export const DEFAULT_SYNC_LAG_ALERT_S = 30;

/** SYNC_LAG_ALERT_S: seconds of lag that raise the alert; a positive number. */
export function syncLagAlertS(env: NodeJS.ProcessEnv): number {
  const raw = env.SYNC_LAG_ALERT_S;
  if (raw === undefined || raw === '') return DEFAULT_SYNC_LAG_ALERT_S;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`SYNC_LAG_ALERT_S must be a positive number of seconds, got ${raw}`);
  return n;
}

/** Lag in seconds per site id, for every site with a change not yet acknowledged by all its online edges. */
export async function syncLagBySite(db: Db): Promise<Map<string, number>> {
  const age = sql<number>`extract(epoch from now() - min(${syncChanges.createdAt}))::float8`.mapWith(Number);
  const [unstamped, unacked] = await Promise.all([
    db.select({ siteId: syncChanges.siteId, age }).from(syncChanges).where(isNull(syncChanges.seq)).groupBy(syncChanges.siteId),
    db
      .select({ siteId: gates.siteId, age })
      .from(gates)
      .innerJoin(syncChanges, and(eq(syncChanges.siteId, gates.siteId), gt(syncChanges.seq, gates.cacheSeq)))
      .where(and(eq(gates.online, true), gt(gates.cacheSeq, 0), isNull(gates.deletedAt), isNull(gates.disabledAt)))
      .groupBy(gates.siteId),
  ]);
  const lag = new Map<string, number>();
  for (const r of [...unstamped, ...unacked]) lag.set(r.siteId, Math.max(lag.get(r.siteId) ?? 0, Math.max(0, r.age)));
  return lag;
}

export interface SyncLagMonitor {
  /** Reads the lag now, updates both gauges and logs sites that just crossed the threshold. */
  check(): Promise<Map<string, number>>;
  stop(): void;
}

/**
 * Registers both gauges and checks every `everyMs`, so the warning is logged
 * even when nobody scrapes; a scrape reuses the last check when it is recent.
 */
export function registerSyncLagMetrics(
  registry: Registry,
  db: Db,
  log: Pick<Logger, 'warn' | 'info' | 'error'>,
  opts: { alertS: number; everyMs?: number; ready?: () => boolean },
): SyncLagMonitor {
  const alertS = opts.alertS;
  const everyMs = opts.everyMs ?? 5_000;
  let last = new Map<string, number>();
  let lastAt = 0;
  const alerting = new Set<string>();
  const lagGauge = new Gauge({
    name: 'gatehouse_sync_lag_seconds',
    help: 'Age of the oldest change of a site not yet acknowledged by every online edge of the site (0: all current)',
    labelNames: ['site'] as const,
    registers: [registry],
    // A scrape between checks sees the last one; a stale one is refreshed first.
    async collect() {
      if (Date.now() - lastAt > everyMs) await check().catch(() => undefined);
    },
  });
  const alertGauge = new Gauge({
    name: 'gatehouse_sync_lag_alert',
    help: `1 while a site's sync lag is at or above SYNC_LAG_ALERT_S (${alertS} s)`,
    labelNames: ['site'] as const,
    registers: [registry],
  });
  const check = async (): Promise<Map<string, number>> => {
    const lag = await syncLagBySite(db);
    // Sites that caught up drop to 0 rather than vanish, so an alert visibly clears.
    for (const site of last.keys()) if (!lag.has(site)) lagGauge.set({ site }, 0);
    for (const [site, s] of lag) lagGauge.set({ site }, s);
    for (const site of new Set([...alerting, ...lag.keys()])) {
      const s = lag.get(site) ?? 0;
      const on = s >= alertS;
      alertGauge.set({ site }, on ? 1 : 0);
      if (on && !alerting.has(site)) {
        alerting.add(site);
        log.warn({ siteId: site, lagS: Math.round(s), alertS }, 'sync: edges of a site are behind by more than SYNC_LAG_ALERT_S');
      } else if (!on && alerting.delete(site)) log.info({ siteId: site, lagS: Math.round(s) }, 'sync: site caught up');
    }
    last = lag;
    lastAt = Date.now();
    return lag;
  };
  let unavailableLoggedAt = 0;
  const run = () => {
    // Before the database's start is done (db/startup.ts) there is nothing to measure yet.
    if (opts.ready && !opts.ready()) return;
    check().catch((err: unknown) => {
      if (!isDatabaseUnavailable(err)) log.error({ err }, 'sync: lag check failed');
      else if (Date.now() - unavailableLoggedAt > 60_000) {
        unavailableLoggedAt = Date.now();
        log.warn({ err }, 'sync: lag not measured while the database is unavailable');
      }
    });
  };
  const timer = setInterval(run, everyMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
