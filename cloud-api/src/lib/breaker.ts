/**
 * Circuit breakers for outbound dependencies that a job waits on (one per SMTP
 * transport, SMS gateway, Telegram Bot API, Web Push service host and webhook
 * host): after `threshold` consecutive connection
 * failures an attempt fails at once for `cooldownMs` instead of waiting out its
 * own timeout, then one probe is let through (half-open) — its success closes
 * the breaker, its failure opens it again. The job that failed fast throws
 * `BreakerOpenError`, so the job queue's backoff retries it: nothing is lost.
 *
 * Hand-written rather than opossum: opossum opens on an error percentage over a
 * rolling window, not on consecutive failures, and the database breaker
 * (db/breaker.ts) already has exactly this state machine — this reuses it.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import { type BreakerState, ConnectBreaker } from '../db/breaker.js';

export interface BreakerSettings {
  threshold: number;
  cooldownMs: number;
}

/** BREAKER_THRESHOLD and BREAKER_COOLDOWN_S unset (config.ts). */
export const DEFAULT_BREAKER_SETTINGS: Readonly<BreakerSettings> = { threshold: 5, cooldownMs: 10_000 };

/** An attempt refused without trying: the dependency failed `threshold` times in a row and is cooling down. */
export class BreakerOpenError extends Error {
  readonly code = 'breaker_open';
  constructor(
    readonly dependency: string,
    readonly retryAfterS: number,
  ) {
    super(`${dependency} is failing; not tried (circuit open, next probe in ${retryAfterS} s)`);
    this.name = 'BreakerOpenError';
  }
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, half_open: 0.5 };

export class Breakers {
  /** A copy of the configured settings (config.breakers), mutable so a test can shorten the cool-down. */
  readonly settings: BreakerSettings;
  readonly #byDependency = new Map<string, ConnectBreaker>();
  readonly state = new Gauge({
    name: 'gatehouse_breaker_state',
    help: 'Circuit breaker of an outbound dependency: 0 closed, 0.5 half-open (one probe), 1 open (failing fast)',
    labelNames: ['dependency'] as const,
    registers: [],
    collect: () => {
      for (const [dependency, b] of this.#byDependency) this.state.set({ dependency }, STATE_VALUE[b.state]);
    },
  });
  readonly opened = new Counter({
    name: 'gatehouse_breaker_opened_total',
    help: 'Times the circuit breaker of an outbound dependency opened',
    labelNames: ['dependency'] as const,
    registers: [],
  });

  constructor(settings: BreakerSettings = DEFAULT_BREAKER_SETTINGS) {
    this.settings = { threshold: settings.threshold, cooldownMs: settings.cooldownMs };
  }

  /** The breaker of `dependency` (e.g. `smtp:mail.example.org:587`, `webhook:hooks.example.com`), made on first use. */
  of(dependency: string): ConnectBreaker {
    let b = this.#byDependency.get(dependency);
    if (!b) {
      // The settings object is shared, so a changed cool-down applies to breakers made before it.
      const s = this.settings;
      b = new ConnectBreaker({
        get threshold() {
          return s.threshold;
        },
        get cooldownMs() {
          return s.cooldownMs;
        },
      });
      this.#byDependency.set(dependency, b);
    }
    return b;
  }

  stateOf(dependency: string): BreakerState {
    return this.#byDependency.get(dependency)?.state ?? 'closed';
  }

  /**
   * Runs `attempt` through the breaker of `dependency`. `isFailure` tells which
   * outcomes count against the dependency (a connection error, a 5xx) — a
   * rejected address or a 4xx is the caller's problem, not the host's.
   */
  async run<T>(dependency: string, attempt: () => Promise<T>, isFailure: (outcome: { value?: T; error?: unknown }) => boolean): Promise<T> {
    const b = this.of(dependency);
    try {
      b.before();
    } catch {
      throw new BreakerOpenError(dependency, b.retryAfterS());
    }
    const before = b.opened;
    let value: T;
    try {
      value = await attempt();
    } catch (error) {
      if (isFailure({ error })) b.failure();
      else b.success();
      if (b.opened > before) this.opened.inc({ dependency });
      throw error;
    }
    if (isFailure({ value })) b.failure();
    else b.success();
    if (b.opened > before) this.opened.inc({ dependency });
    return value;
  }
}

const perContext = new WeakMap<AppContext, Breakers>();

export function breakersOf(ctx: AppContext): Breakers {
  let b = perContext.get(ctx);
  if (!b) {
    b = new Breakers(ctx.config.breakers);
    perContext.set(ctx, b);
  }
  return b;
}

/** Adds the breaker metrics to the app's /metrics registry (plugins/app/metrics.ts). */
export function registerBreakerMetrics(registry: Registry, ctx: AppContext): void {
  const b = breakersOf(ctx);
  registry.registerMetric(b.state);
  registry.registerMetric(b.opened);
}
