/**
 * What the shared request-limit store (cloud-api/src/auth/rate-limit-store.ts)
 * costs per request on PostgreSQL: 50 concurrent callers counting on one key
 * (one busy user) and on 50 keys (50 users), with leases (the default) and
 * with a round trip per request (leaseMax 1), against the plugin's in-memory
 * count as the raw baseline. Not a test.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx --conditions=source bench/rate-limit.ts
 *
 * Last line: {"bench":"rate-limit",…} with requests/s and µs per request of each, and roundtrips_per_request.
 */

import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import { freshDatabase } from '@gatehouse/cloud-api/testing';
// biome-ignore lint/style/noRestrictedImports: the store is internal to the cloud (no export of its own); this bench measures it alone, without HTTP.
import { type StoreStats, sharedRateLimitStore } from '../cloud-api/src/auth/rate-limit-store.js';

const CLIENTS = 50;
const PER_CLIENT = Number(process.env.PER_CLIENT ?? 200);
const MAX = 1_000_000_000;
const WINDOW = 60_000;

if (!process.env.DATABASE_URL) {
  console.error('bench/rate-limit.ts needs DATABASE_URL (PostgreSQL): on PGlite the in-memory store is used');
  process.exit(2);
}

/** The in-memory count @fastify/rate-limit keeps by default, reduced to what a request costs it: a map update. */
class MemoryStore {
  readonly #m = new Map<string, { n: number; start: number }>();
  incr(key: string, cb: (e: Error | null, r?: { current: number; ttl: number }) => void, timeWindow: number): void {
    const now = Date.now();
    let e = this.#m.get(key);
    if (!e || e.start + timeWindow <= now) {
      e = { n: 0, start: now };
      this.#m.set(key, e);
    }
    cb(null, { current: ++e.n, ttl: e.start + timeWindow - now });
  }
}

type Incr = Pick<FastifyRateLimitStore, 'incr'>;

async function run(store: Incr, keys: 'one' | 'many'): Promise<{ rps: number; us_per_request: number }> {
  const incr = (key: string) =>
    new Promise<void>((resolve, reject) => store.incr(key, (err) => (err ? reject(err) : resolve()), WINDOW, MAX));
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      const key = keys === 'one' ? 'user:bench' : `user:bench-${c}`;
      for (let i = 0; i < PER_CLIENT; i++) await incr(key);
    }),
  );
  const s = (performance.now() - t0) / 1000;
  const n = CLIENTS * PER_CLIENT;
  return { rps: Math.round(n / s), us_per_request: Math.round((s * 1e6) / n) };
}

const db = await freshDatabase();
try {
  const out: Record<string, unknown> = { bench: 'rate-limit', clients: CLIENTS, requests: CLIENTS * PER_CLIENT };
  for (const keys of ['one', 'many'] as const) {
    const memory = await run(new MemoryStore(), keys);
    const leasedStats: StoreStats = { roundTrips: 0, localHits: 0, localRefusals: 0 };
    const Leased = sharedRateLimitStore(db.database.db, { stats: leasedStats });
    const leased = await run(new Leased({}), keys);
    const Single = sharedRateLimitStore(db.database.db, { leaseMax: 1 });
    const single = await run(new Single({}), keys);
    out[`${keys}_key`] = {
      memory_rps: memory.rps,
      leased_rps: leased.rps,
      leased_us: leased.us_per_request,
      leased_roundtrips_per_request: +(leasedStats.roundTrips / (CLIENTS * PER_CLIENT)).toFixed(3),
      per_request_rps: single.rps,
      per_request_us: single.us_per_request,
      leased_vs_per_request: +(leased.rps / single.rps).toFixed(2),
    };
  }
  console.log(JSON.stringify(out));
} finally {
  await db.drop();
}
