/**
 * A small circuit breaker around acquiring a PostgreSQL connection (and, through
 * lib/breaker.ts, around SMTP and webhook hosts). Hand-written: cockatiel 4 needs
 * Node >= 22, and opossum 8 (which runs on Node 20) opens on an error percentage
 * over a time window, where a dead dependency is better told by failures in a row.
 * After `threshold` consecutive connection failures it opens: every acquire fails
 * at once (no request waits out a connect timeout) for `cooldownMs`; then one
 * probe is let through (half-open) — its success closes the breaker, its failure
 * opens it again.
 */

/** Timeouts and breaker of the PostgreSQL pool (config.ts reads them from the environment). */
export interface DatabaseTimeouts {
  /** Connecting, and waiting for a free pooled connection. */
  connectTimeoutMs: number;
  /** Server-side `statement_timeout`; the client gives up on a query 5 s after it (`query_timeout`). */
  statementTimeoutMs: number;
  /** Server-side `idle_in_transaction_session_timeout`: a forgotten transaction cannot hold locks (and the sync sequencer) for longer. */
  idleInTransactionTimeoutMs: number;
  /** Consecutive connection failures that open the breaker, and how long it then fails fast. */
  breakerThreshold: number;
  breakerCooldownMs: number;
}

export const DEFAULT_DB_TIMEOUTS: DatabaseTimeouts = {
  connectTimeoutMs: 3_000,
  statementTimeoutMs: 15_000,
  idleInTransactionTimeoutMs: 30_000,
  breakerThreshold: 3,
  breakerCooldownMs: 5_000,
};

export type BreakerState = 'closed' | 'open' | 'half_open';

/** The database cannot be reached (refused, timed out, shut down, or the breaker is open): the API answers 503. */
export class DatabaseUnavailableError extends Error {
  readonly code = 'database_unavailable';
  constructor(
    message: string,
    /** Seconds a client should wait before trying again. */
    readonly retryAfterS: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

export interface BreakerOptions {
  threshold: number;
  cooldownMs: number;
  now?: () => number;
}

export class ConnectBreaker {
  state: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  /** Times the breaker opened (a metric). */
  opened = 0;
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Seconds until the next probe may pass (at least 1). */
  retryAfterS(): number {
    if (this.state === 'closed') return 1;
    return Math.max(1, Math.ceil((this.openedAt + this.opts.cooldownMs - this.now()) / 1000));
  }

  /** Throws when an acquire must fail fast; otherwise the caller tries and reports with `success`/`failure`. */
  before(): void {
    if (this.state === 'closed') return;
    if (this.state === 'open' && this.now() >= this.openedAt + this.opts.cooldownMs) {
      this.state = 'half_open';
      this.probing = false;
    }
    if (this.state === 'half_open' && !this.probing) {
      this.probing = true;
      return;
    }
    throw new DatabaseUnavailableError('the database is unavailable', this.retryAfterS());
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    this.state = 'closed';
  }

  failure(): void {
    this.probing = false;
    this.failures++;
    if (this.state === 'half_open' || this.failures >= this.opts.threshold) {
      if (this.state !== 'open') this.opened++;
      this.state = 'open';
      this.openedAt = this.now();
    }
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
]);

/**
 * Whether an error (or any cause under it) means the database is gone or too
 * slow rather than that a statement was wrong: connection refused/reset/timed
 * out, SQLSTATE class 08 (connection exception), 57P01-03 (shut down, crashed,
 * starting up), 57014 (statement_timeout), 53300 (too many connections), or
 * node-postgres' own connect/query timeouts and terminated connections.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DatabaseUnavailableError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '57014' || code === '53300')
        return true;
    }
    const message = (e as { message?: unknown }).message;
    if (
      typeof message === 'string' &&
      /^(timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error)/.test(
        message,
      )
    )
      return true;
  }
  return false;
}
