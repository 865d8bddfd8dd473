/**
 * Sign-in throttling, shared by every cloud instance through the database.
 *
 * Shaped after OWASP's Authentication and Credential Stuffing cheat sheets:
 * a hard lock of an account after N failures lets anyone lock anyone out, so
 * there is none. Instead every attempt is counted, atomically and BEFORE the
 * password is checked (one `INSERT … ON CONFLICT DO UPDATE … RETURNING`, so
 * concurrent attempts serialise on the row and at most the allowed number
 * reach argon2), in three counters, each keyed by a keyed hash:
 *
 * - account + address: after `perAccountAddress` attempts, each further one
 *   must wait a delay that doubles (1 s, 2 s, 4 s … up to `maxDelayMs`). This
 *   is the counter that slows a guesser, and it is the guesser's own: the
 *   account's owner from another address is not touched by it.
 * - address, whatever the account: `perAddress` attempts, then the same
 *   delays (one address spraying many accounts).
 * - account, whatever the address: `perAccount` attempts (far more than one
 *   address gets), then delays, but only for addresses the account never
 *   signed in from. Guessing spread over many addresses is bounded, while the
 *   owner at a usual address still gets in; one stranger's address cannot
 *   reach this count on its own (its own counter slows it first).
 *
 * Refused attempts do not count (a stranger cannot push the delay up by
 * hammering while refused). A success resets its account+address counter and
 * takes itself back from the other two. Rows are forgotten `windowMs` after
 * their last attempt or block ends.
 */
import { createHmac } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import type { LoginThrottleConfig } from '../config.js';
import type { Db } from '../db/client.js';
import { deriveKey } from '../lib/crypto.js';

/** How long an address stays a usual one of an account after a sign-in from it. */
const FAMILIAR_DAYS = 90;

export class LoginThrottle {
  readonly #key: Uint8Array;
  #attempts = 0;

  constructor(
    private readonly db: Db,
    masterKey: Buffer,
    private readonly cfg: LoginThrottleConfig,
  ) {
    this.#key = deriveKey(masterKey, 'login-throttle/v1');
  }

  #hash(...parts: string[]): string {
    return createHmac('sha256', this.#key).update(parts.join('\0')).digest('base64url');
  }

  #keys(account: string, address: string) {
    const a = account.trim().toLowerCase();
    return {
      pair: this.#hash('pair', a, address),
      address: this.#hash('addr', address),
      account: this.#hash('acct', a),
      familiar: this.#hash('seen', a, address),
    };
  }

  /**
   * Counts one attempt on `key` with `free` attempts before the delays start.
   * Returns the ms to wait when this attempt is refused, else 0.
   */
  async #count(key: string, free: number): Promise<number> {
    const { baseDelayMs, maxDelayMs, windowMs } = this.cfg;
    const ms = (x: SQL) => sql`((${x}) * interval '1 millisecond')`;
    // The delay owed after the h-th allowed attempt: 0 while h < free, then base·2^(h-free), capped.
    const delay = (h: SQL) =>
      sql`(CASE WHEN ${h} >= ${free}::int THEN least(${baseDelayMs}::float8 * power(2, least(${h} - ${free}::int, 40)), ${maxDelayMs}::float8) ELSE 0 END)`;
    const fresh = sql`(t.expires_at <= now())`;
    const blocked = sql`(NOT ${fresh} AND t.blocked_until IS NOT NULL AND t.blocked_until > now())`;
    const h = sql`(CASE WHEN ${fresh} THEN 1 ELSE t.hits + 1 END)`;
    const one = sql`1`;
    const result = await this.db.execute(sql`
      INSERT INTO login_throttle AS t (key, hits, blocked_until, expires_at, last_refused)
      VALUES (
        ${key}, 1,
        CASE WHEN ${delay(one)} > 0 THEN now() + ${ms(delay(one))} END,
        now() + ${ms(sql`${windowMs}::float8 + ${delay(one)}`)},
        false
      )
      ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN ${blocked} THEN t.hits ELSE ${h} END,
        blocked_until = CASE WHEN ${blocked} THEN t.blocked_until WHEN ${delay(h)} > 0 THEN now() + ${ms(delay(h))} END,
        expires_at = CASE WHEN ${blocked} THEN t.expires_at ELSE now() + ${ms(sql`${windowMs}::float8 + ${delay(h)}`)} END,
        last_refused = ${blocked}
      RETURNING last_refused AS refused,
        greatest(0, extract(epoch FROM (blocked_until - now())) * 1000)::float8 AS wait_ms`);
    const [row] = (result as unknown as { rows: { refused: boolean; wait_ms: number | string | null }[] }).rows;
    if (!row?.refused) return 0;
    return Math.max(1, Math.ceil(Number(row.wait_ms ?? 0)));
  }

  /** Whether the account signed in from this address within `FAMILIAR_DAYS` (a marker row `succeeded` leaves). */
  async #familiar(key: string): Promise<boolean> {
    const result = await this.db.execute(sql`SELECT 1 FROM login_throttle WHERE key = ${key} AND expires_at > now()`);
    return (result as unknown as { rows: unknown[] }).rows.length > 0;
  }

  /** Counts one sign-in attempt before the password is checked: ms to wait when refused, else 0. */
  async attempt(account: string, address: string): Promise<number> {
    if (++this.#attempts % 1000 === 0) this.#sweep();
    const k = this.#keys(account, address);
    const pair = await this.#count(k.pair, this.cfg.perAccountAddress);
    if (pair) return pair;
    const addr = await this.#count(k.address, this.cfg.perAddress);
    if (addr) return addr;
    const acct = await this.#count(k.account, this.cfg.perAccount);
    if (acct && !(await this.#familiar(k.familiar))) return acct;
    return 0;
  }

  /**
   * The password was right: the account+address counter starts over, the others take this attempt back,
   * and the address becomes a usual one of the account (a marker row, hits 0, kept `FAMILIAR_DAYS`).
   */
  async succeeded(account: string, address: string): Promise<void> {
    const k = this.#keys(account, address);
    await this.db.execute(sql`DELETE FROM login_throttle WHERE key = ${k.pair}`);
    await this.db.execute(sql`
      INSERT INTO login_throttle (key, hits, expires_at) VALUES (${k.familiar}, 0, now() + ${FAMILIAR_DAYS}::float8 * interval '1 day')
      ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at`);
    await this.db.execute(
      sql`UPDATE login_throttle SET hits = greatest(hits - 1, 0) WHERE key IN (${k.address}, ${k.account}) AND expires_at > now()`,
    );
  }

  /** Drops forgotten rows; now and then, off the request's path. */
  #sweep(): void {
    this.db.execute(sql`DELETE FROM login_throttle WHERE expires_at < now()`).catch(() => {});
  }
}
