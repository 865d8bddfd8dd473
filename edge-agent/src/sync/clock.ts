/**
 * The cloud's clock as this controller estimates it (SYNC-5). A controller's own clock may be
 * minutes off (no NTP on a closed site, a dead RTC battery); TOTP codes and command expiry are
 * judged against the cloud's time, so every signed cloud→edge message's `issuedAt` is a sample
 * of the offset. The estimate is the median of the recent samples: a single message held in a
 * queue (a command that waited out an outage) or a wild value does not swing it. Only messages
 * whose signature was verified are fed in (the link calls `observe` after `openMessage`).
 */

/** Samples kept; the median of this many survives up to half of them being wild. */
const WINDOW = 15;
/** Transit from the cloud's clock reading to our receipt: the message left about this long before we saw it. */
const TRANSPORT_ALLOWANCE_MS = 20;

export class CloudClock {
  readonly #raw: () => number;
  readonly #samples: number[] = [];
  #offset: number | null = null;

  constructor(raw: () => number = Date.now) {
    this.#raw = raw;
  }

  /** A verified message issued at `issuedAt` (cloud time) arrived now (local time). */
  observe(issuedAt: number, receivedAt: number = this.#raw()): void {
    if (!Number.isFinite(issuedAt)) return;
    this.#samples.push(issuedAt + TRANSPORT_ALLOWANCE_MS - receivedAt);
    if (this.#samples.length > WINDOW) this.#samples.shift();
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
    this.#offset = Math.round(median);
  }

  /** Cloud time minus local time in ms; null before the first signed message. */
  get offsetMs(): number | null {
    return this.#offset;
  }

  /** The corrected time: the local clock plus the estimated offset (the raw clock while there is none). */
  now(): number {
    return this.#raw() + (this.#offset ?? 0);
  }
}
