/**
 * A store for @fastify/rate-limit that every cloud instance shares through
 * PostgreSQL, so a client whose requests a proxy spreads over N instances gets
 * the limit once, not N times.
 *
 * Counting: one row per (key, fixed window) in the UNLOGGED table
 * rate_limit_counters, bumped by one `INSERT … ON CONFLICT DO UPDATE …
 * RETURNING` — one round trip, windows cut by the database's clock so every
 * instance agrees on them.
 *
 * That round trip is not paid on every request. Each instance takes a *lease*
 * of several counter values at once (adds n, gets the new count back) and
 * hands them out locally until used up, so a busy client costs one statement
 * per lease, and 50 concurrent requests of one user do not queue on one row's
 * lock. Every admitted request still holds its own counter value ≤ max, so
 * the sum over instances never exceeds the limit; the price is that values
 * leased by one instance and left unused when the client's requests move to
 * another are lost for the rest of the window (under-admission, never over).
 * The lease shrinks as the window fills (an eighth of what is left, at most
 * LEASE_MAX), so near the limit it is one value at a time and what can be
 * stranded is small. Once an instance has seen the window's count reach the
 * limit, it refuses that key locally until the window ends: a flood of refused
 * requests costs the database nothing.
 *
 * PGlite is one process, so one instance: the plugin's own in-memory store
 * serves there (rate-limit.ts chooses).
 */
import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';

/** Counter values taken per round trip at most. */
export const LEASE_MAX = 32;
/** A lease is this fraction of what is left of the window's limit (so near the limit, one at a time). */
const LEASE_DIVISOR = 8;
/** How often an instance deletes windows that ended (any instance's; each does it, it is cheap). */
const SWEEP_MS = 60_000;
/** Local state kept per key at most; past it, the oldest go (a lost lease is only under-admission). */
const MAX_KEYS = 10_000;

interface Lease {
  windowStart: number;
  /** Local clock (ms) at which the window ends. */
  endsAt: number;
  /** The next counter value to hand out, and the last one this instance holds. */
  next: number;
  last: number;
  /** The highest count of the window this instance has seen (any instance's requests included). */
  seen: number;
}

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Counting statements run, for tests and the bench (how many requests a round trip served). */
export interface StoreStats {
  roundTrips: number;
  localHits: number;
  localRefusals: number;
}

export interface SharedStoreOptions {
  /** Counter values taken per round trip at most (1: a round trip per request, what the bench compares with). */
  leaseMax?: number;
  /** Counted into, when given. */
  stats?: StoreStats;
}

export function sharedRateLimitStore(db: Db, opts: SharedStoreOptions = {}): FastifyRateLimitStoreCtor {
  const leaseMax = opts.leaseMax ?? LEASE_MAX;
  const stats = opts.stats ?? { roundTrips: 0, localHits: 0, localRefusals: 0 };
  let lastSweep = Date.now();
  const sweep = () => {
    lastSweep = Date.now();
    db.execute(sql`DELETE FROM rate_limit_counters WHERE expires_at < now()`).catch(() => undefined);
  };

  class SharedStore implements FastifyRateLimitStore {
    readonly #leases = new Map<string, Lease>();
    /** Requests waiting for a round trip already under way for their key: they share its lease. */
    readonly #pending = new Map<string, Array<() => void>>();

    readonly #namespace: string;

    constructor(_options?: FastifyRateLimitOptions, namespace = '*') {
      this.#namespace = namespace;
    }

    incr(key: string, cb: Callback, timeWindow: number, max: number): void {
      const k = `${this.#namespace}|${key}`;
      const now = Date.now();
      const lease = this.#leases.get(k);
      if (lease && lease.endsAt > now) {
        if (lease.next <= lease.last) {
          stats.localHits++;
          cb(null, { current: lease.next++, ttl: lease.endsAt - now });
          return;
        }
        if (lease.seen >= max) {
          // The window is full everywhere (counts only grow within it): refuse without asking.
          stats.localRefusals++;
          cb(null, { current: ++lease.seen, ttl: lease.endsAt - now });
          return;
        }
      }
      const waiting = this.#pending.get(k);
      if (waiting) {
        waiting.push(() => this.incr(key, cb, timeWindow, max));
        return;
      }
      this.#pending.set(k, []);
      const seen = lease && lease.endsAt > now ? lease.seen : 0;
      const n = Math.max(1, Math.min(leaseMax, Math.floor((max - seen) / LEASE_DIVISOR)));
      this.#take(k, n, timeWindow).then(
        (taken) => {
          const woken = this.#pending.get(k) ?? [];
          this.#pending.delete(k);
          const ttl = taken.endsAt - Date.now();
          cb(null, { current: taken.next++, ttl });
          for (const w of woken) w();
        },
        (err: unknown) => {
          const woken = this.#pending.get(k) ?? [];
          this.#pending.delete(k);
          cb(err instanceof Error ? err : new Error(String(err)));
          for (const w of woken) w();
        },
      );
    }

    async #take(k: string, n: number, timeWindow: number): Promise<Lease> {
      stats.roundTrips++;
      const t0 = Date.now();
      const rows = await db.execute(sql`
        INSERT INTO rate_limit_counters AS c (key, window_start, count, expires_at)
        SELECT ${k}, w.start, ${n}::int, to_timestamp((w.start + ${timeWindow}::bigint) / 1000.0)
          FROM (SELECT floor(extract(epoch FROM now()) * 1000 / ${timeWindow}::bigint)::bigint * ${timeWindow}::bigint AS start) w
        ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + excluded.count
        RETURNING c.count, c.window_start, (extract(epoch FROM now()) * 1000)::bigint AS now_ms`);
      const [row] = (rows as unknown as { rows: { count: number | string; window_start: number | string; now_ms: number | string }[] })
        .rows;
      if (!row) throw new Error('rate limit: the counting statement returned no row');
      const count = Number(row.count);
      const windowStart = Number(row.window_start);
      // The window's end on this instance's clock: the database's remaining time, from when the statement was sent.
      const endsAt = t0 + (windowStart + timeWindow - Number(row.now_ms));
      const lease: Lease = { windowStart, endsAt, next: count - n + 1, last: count, seen: count };
      if (this.#leases.size >= MAX_KEYS && !this.#leases.has(k)) {
        const oldest = this.#leases.keys().next().value;
        if (oldest !== undefined) this.#leases.delete(oldest);
      }
      this.#leases.set(k, lease);
      if (Date.now() - lastSweep > SWEEP_MS) sweep();
      return lease;
    }

    /** A route with limits of its own counts apart from the global ones, as the in-memory store's children do. */
    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      // Typed as the route's options, but what the plugin passes is its merged settings, the route under `routeInfo`.
      const r = (routeOptions as unknown as { routeInfo?: { method?: string | string[]; url?: string } }).routeInfo;
      return new SharedStore(undefined, r?.url ? `${[r.method ?? ''].flat().join(',')} ${r.url}` : this.#namespace);
    }
  }
  return SharedStore;
}
