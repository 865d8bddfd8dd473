import type { Principal } from '../context.js';

/**
 * Session → principal for a few seconds, so a burst of requests on one
 * session costs one lookup. Revocations made by this instance clear it at
 * once; one made on another instance is seen here within `ttlMs`.
 */
export class PrincipalCache {
  readonly #entries = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  get(sessionId: string, now = Date.now()): Principal | null {
    const e = this.#entries.get(sessionId);
    if (!e) return null;
    if (e.until <= now) {
      this.#entries.delete(sessionId);
      return null;
    }
    return e.principal;
  }

  set(sessionId: string, principal: Principal, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    if (this.#entries.size >= this.max) this.#entries.clear();
    this.#entries.set(sessionId, { principal, until: now + this.ttlMs });
  }

  /** Any revocation (logout, refresh-token reuse, role change) drops everything: rare, and always safe. */
  clear(): void {
    this.#entries.clear();
  }
}
