/**
 * Fleet health on /metrics, over every organisation's enrolled controllers.
 *
 * Cardinality is bounded on purpose: no series per gate. A fleet of thousands
 * of controllers times a dozen figures would be tens of thousands of series,
 * each gate added or removed leaves a stale one behind, and the question a
 * dashboard asks ("how many are offline, on which version, how deep are the
 * outboxes") is an aggregate anyway; which gate it is comes from GET
 * /api/admin/fleet and the console. Labels are the version (the releases in
 * use: a handful), a state out of three, a quantile out of four and an update
 * state out of twelve. The sync lag per site is `gatehouse_sync_lag_seconds`
 * (sync/lag.ts): sites are tens, not thousands.
 *
 * Read from the database at scrape, one round of queries per `cacheMs`
 * however many scrape, so every instance answers the same.
 */
import { sql } from 'drizzle-orm';
import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../../db/client.js';
import { gateUpdateCounts } from './updates.js';

/** SYNC-5: past one TOTP step a controller leans on its estimate of the cloud's clock (as the console flags it). */
export const SKEW_WARN_MS = 30_000;
const QUANTILES = [0.5, 0.9, 0.99, 1] as const;

interface Snapshot {
  byVersion: Array<{ version: string; state: string; n: number }>;
  totals: {
    offline: number;
    offlineMaxS: number;
    outboxRecords: number;
    growing: number;
    skewed: number;
    unhealthy: number;
  };
  quantiles: number[];
  updates: Array<{ state: string; n: number }>;
}

const rowsOf = <T>(r: unknown): T[] => (r as { rows: T[] }).rows;
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

// Enrolled and not deleted: a gate with no controller yet is not part of the fleet.
const FLEET = sql`device_id is not null and deleted_at is null`;

async function snapshot(db: Db): Promise<Snapshot> {
  const [byVersion, totals, quantiles, updates] = await Promise.all([
    db.execute(sql`
      select coalesce(version, 'unknown') as version,
             case when disabled_at is not null then 'disabled' when online then 'online' else 'offline' end as state,
             count(*)::int as n
      from gates where ${FLEET} group by 1, 2`),
    db.execute(sql`
      select count(*) filter (where not online and disabled_at is null)::int as offline,
             coalesce(max(extract(epoch from now() - last_seen_at)) filter (where not online and disabled_at is null), 0)::float8 as offline_max_s,
             coalesce(sum(outbox_depth), 0)::bigint as outbox_records,
             count(*) filter (where outbox_alarm_at is not null)::int as growing,
             count(*) filter (where online and abs(clock_skew_ms) > ${SKEW_WARN_MS})::int as skewed,
             count(*) filter (where online and hardware @> '[{"healthy": false}]'::jsonb)::int as unhealthy
      from gates where ${FLEET}`),
    db.execute(sql`
      select percentile_cont(array[${sql.raw(QUANTILES.join(','))}]::float8[]) within group (order by outbox_depth) as q
      from gates where ${FLEET} and online and disabled_at is null`),
    gateUpdateCounts(db),
  ]);
  const t = rowsOf<Record<string, unknown>>(totals)[0] ?? {};
  const q = rowsOf<{ q: unknown }>(quantiles)[0]?.q;
  return {
    byVersion: rowsOf<{ version: string; state: string; n: unknown }>(byVersion).map((r) => ({ ...r, n: num(r.n) })),
    totals: {
      offline: num(t.offline),
      offlineMaxS: num(t.offline_max_s),
      outboxRecords: num(t.outbox_records),
      growing: num(t.growing),
      skewed: num(t.skewed),
      unhealthy: num(t.unhealthy),
    },
    // Null when no controller is online (nothing to rank); PGlite and pg both hand the array back parsed.
    quantiles: Array.isArray(q) ? q.map(num) : [],
    updates,
  };
}

export function registerFleetMetrics(registry: Registry, db: Db, cacheMs = 5_000): void {
  let cached: { at: number; snap: Promise<Snapshot> } | null = null;
  const read = () => {
    const now = Date.now();
    if (!cached || now - cached.at >= cacheMs) {
      const pending = snapshot(db);
      pending.catch(() => {
        if (cached?.snap === pending) cached = null;
      });
      cached = { at: now, snap: pending };
    }
    // A scrape while the database is away still answers, without these series.
    return cached.snap.catch(() => null);
  };
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: Snapshot) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await read();
        this.reset();
        if (s) fill(this, s);
      },
    });
  gauge(
    'gatehouse_fleet_controllers',
    'Enrolled controllers by the version they report and state (online, offline, disabled)',
    ['version', 'state'],
    (g, s) => {
      for (const r of s.byVersion) g.set({ version: r.version, state: r.state }, r.n);
    },
  );
  gauge('gatehouse_fleet_offline_controllers', 'Enrolled controllers, not disabled, whose link is down', [], (g, s) =>
    g.set(s.totals.offline),
  );
  gauge(
    'gatehouse_fleet_offline_max_seconds',
    'The longest time since the last contact of an offline controller (0: none offline)',
    [],
    (g, s) => g.set(Math.round(s.totals.offlineMaxS)),
  );
  gauge(
    'gatehouse_fleet_outbox_depth',
    'Outbox depth (records waiting for the cloud) of the online controllers, by quantile (1 = the deepest)',
    ['quantile'],
    (g, s) => {
      QUANTILES.forEach((quantile, i) => {
        const v = s.quantiles[i];
        if (v !== undefined) g.set({ quantile: String(quantile) }, v);
      });
    },
  );
  gauge('gatehouse_fleet_outbox_records', 'Records waiting in every controller outbox together', [], (g, s) =>
    g.set(s.totals.outboxRecords),
  );
  gauge(
    'gatehouse_fleet_outbox_growing_controllers',
    'Controllers whose outbox_growing condition is on (growing while online, not drained since)',
    [],
    (g, s) => g.set(s.totals.growing),
  );
  gauge(
    'gatehouse_fleet_clock_skewed_controllers',
    `Online controllers whose clock is more than ${SKEW_WARN_MS / 1000} s off the cloud's (SYNC-5)`,
    [],
    (g, s) => g.set(s.totals.skewed),
  );
  gauge(
    'gatehouse_fleet_hardware_unhealthy_controllers',
    'Online controllers with a reader, relay or sensor reported unhealthy',
    [],
    (g, s) => g.set(s.totals.unhealthy),
  );
  gauge('gatehouse_fleet_update_gates', "Gates by their state in their latest update job (the Update Manager's)", ['state'], (g, s) => {
    for (const r of s.updates) g.set({ state: r.state }, r.n);
  });
}
