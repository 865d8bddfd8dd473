/**
 * Fixed-window counters per key (login attempts per account and per IP).
 * In-process: with several cloud instances each allows the limit, which
 * still bounds guessing; a shared store is the step after.
 */
export class WindowLimiter {
  readonly #hits = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Ms until the window resets when the limit is already used up, else 0; counts nothing. */
  blockedFor(key: string, now = Date.now()): number {
    const e = this.#hits.get(key);
    return e && e.resetAt > now && e.count >= this.limit ? e.resetAt - now : 0;
  }

  /** Counts one hit; returns ms until the window resets when over the limit, else 0. */
  hit(key: string, now = Date.now()): number {
    let e = this.#hits.get(key);
    if (!e || e.resetAt <= now) {
      if (this.#hits.size > 100_000) this.#sweep(now);
      e = { count: 0, resetAt: now + this.windowMs };
      this.#hits.set(key, e);
    }
    e.count++;
    return e.count > this.limit ? e.resetAt - now : 0;
  }

  #sweep(now: number): void {
    for (const [k, e] of this.#hits) if (e.resetAt <= now) this.#hits.delete(k);
  }
}
