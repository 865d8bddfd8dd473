import type { Principal } from '../context.js';

/** The NOTIFY channel on which any instance's revocation (role change, logout, disabled user) reaches every other. */
export const PRINCIPALS_CHANNEL = 'principals_changed';

/**
 * Session → principal for a few seconds, so a burst of requests on one
 * session costs one lookup. A revocation anywhere (logout, refresh-token
 * reuse, role change, a disabled or deleted user) clears this instance's
 * cache at once and, once the app listens, every other instance's too by a
 * NOTIFY (`announceWith`). `ttlMs` only bounds how long a lost LISTEN
 * connection, or a database that is down, could leave a stale principal in
 * use: a reconnected listener clears everything.
 */
export class PrincipalCache {
  readonly #entries = new Map<string, { principal: Principal; until: number }>();
  #announce: (() => void) | null = null;
  /** Bumped by every clear: a lookup that began before a revocation does not cache what it read. */
  #generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  get generation(): number {
    return this.#generation;
  }

  get(sessionId: string, now = Date.now()): Principal | null {
    const e = this.#entries.get(sessionId);
    if (!e) return null;
    if (e.until <= now) {
      this.#entries.delete(sessionId);
      return null;
    }
    return e.principal;
  }

  /** `generation`: the cache's generation when the lookup began; a clear since then makes this a no-op. */
  set(sessionId: string, principal: Principal, now = Date.now(), generation = this.#generation): void {
    if (this.ttlMs <= 0 || generation !== this.#generation) return;
    if (this.#entries.size >= this.max) this.#entries.clear();
    this.#entries.set(sessionId, { principal, until: now + this.ttlMs });
  }

  /** Tells every instance after each `clear()` (the app sets it once it listens on PRINCIPALS_CHANNEL). */
  announceWith(announce: (() => void) | null): void {
    this.#announce = announce;
  }

  /** Any revocation (logout, refresh-token reuse, role change) drops everything, here and everywhere: rare, and always safe. */
  clear(): void {
    this.forget();
    this.#announce?.();
  }

  /** Drops everything on this instance only: what another instance's announcement does here. */
  forget(): void {
    this.#generation++;
    this.#entries.clear();
  }
}
