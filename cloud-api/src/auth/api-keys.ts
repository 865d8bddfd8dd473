/**
 * Applications' API keys as bearer tokens (issue 13): looking a key up, a
 * short per-instance cache of the answer, and dropping it everywhere when a
 * key stops being valid.
 *
 * Revocation is immediate on every instance, not "within the cache's TTL":
 * whoever revokes a key (or deletes an application) drops it from this
 * instance's cache once the transaction commits, and announces it by NOTIFY
 * (sent in that transaction, so delivered on commit) to every instance, which
 * drops it too. The TTL (`authCacheMs`) only bounds how long a lost LISTEN
 * connection could leave a revoked key usable, and a reconnected one clears
 * everything. Expiry at the end of a rotation's grace needs no message: each
 * entry carries the key's `expiresAt` and is checked on every use.
 */
import { and, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { AppContext, Principal } from '../context.js';
import type { Database, Executor } from '../db/client.js';
import { apiApplications, apiKeys, organizations } from '../db/schema.js';
import { unauthorized } from '../lib/errors.js';
import { apiKeyHash, parseApiKey } from './api-key-format.js';
import { PERMISSIONS, type Permission } from './rbac.js';

/** The NOTIFY channel: payload `key:<keyId>` or `app:<appId>`. */
export const API_KEY_CHANNEL = 'api_key_revoked';
/** last_used_at is written at most this often per key. */
const LAST_USED_EVERY_MS = 60_000;
/** Never a key's scope, whatever the row says: the developer console and the host portal are for people. */
const NEVER_SCOPES: ReadonlySet<Permission> = new Set(['devconsole:manage', 'host:portal']);

export type Revoked = { keyId: string } | { appId: string };

interface Entry {
  principal: Principal;
  /** The key's `expiresAt` (ms), Infinity when none. */
  validUntil: number;
  cachedUntil: number;
}

export class ApiKeyCache {
  readonly #byHash = new Map<string, Entry>();
  readonly #lastUsed = new Map<string, number>();
  /** Bumped by every drop: a lookup that began before a revocation does not cache what it read. */
  #generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  get generation(): number {
    return this.#generation;
  }

  get(hash: string, now = Date.now()): Principal | null {
    const e = this.#byHash.get(hash);
    if (!e) return null;
    if (e.cachedUntil <= now || e.validUntil <= now) {
      this.#byHash.delete(hash);
      return null;
    }
    return e.principal;
  }

  set(hash: string, principal: Principal, validUntil: number, generation: number, now = Date.now()): void {
    if (this.ttlMs <= 0 || generation !== this.#generation) return;
    if (this.#byHash.size >= this.max) this.#byHash.clear();
    this.#byHash.set(hash, { principal, validUntil, cachedUntil: now + this.ttlMs });
  }

  drop(what: Revoked): void {
    this.#generation++;
    for (const [hash, e] of this.#byHash)
      if ('keyId' in what ? e.principal.app?.keyId === what.keyId : e.principal.app?.id === what.appId) this.#byHash.delete(hash);
  }

  clear(): void {
    this.#generation++;
    this.#byHash.clear();
  }

  /** Whether this use should write last_used_at (true at most once a minute per key on this instance). */
  lastUsedDue(keyId: string, now = Date.now()): boolean {
    const last = this.#lastUsed.get(keyId);
    if (last !== undefined && now - last < LAST_USED_EVERY_MS) return false;
    if (this.#lastUsed.size >= this.max) this.#lastUsed.clear();
    this.#lastUsed.set(keyId, now);
    return true;
  }

  /** A NOTIFY payload, as `announceRevoked` sends it. */
  onMessage(payload: string): void {
    const m = /^(key|app):([0-9a-f-]{36})$/.exec(payload);
    if (m) this.drop(m[1] === 'key' ? { keyId: m[2]! } : { appId: m[2]! });
    else this.clear();
  }
}

/** Tells every instance, once `tx` commits, to forget a key (or all keys of an application). */
export async function announceRevoked(tx: Executor, what: Revoked): Promise<void> {
  const payload = 'keyId' in what ? `key:${what.keyId}` : `app:${what.appId}`;
  await tx.execute(sql`select pg_notify(${API_KEY_CHANNEL}, ${payload})`);
}

/** Keeps `cache` in step with revocations made by any instance; resolves to the function that stops. */
export function listenForRevocations(database: Database, cache: ApiKeyCache): Promise<() => Promise<void>> {
  // After a lost connection a message may have been missed: forget everything.
  return database.listen(
    API_KEY_CHANNEL,
    (payload) => cache.onMessage(payload),
    () => cache.clear(),
  );
}

const scopesOf = (scopes: readonly string[]): Set<Permission> =>
  new Set(PERMISSIONS.filter((p) => scopes.includes(p) && !NEVER_SCOPES.has(p)));

/**
 * The principal of a valid key: the application as the caller, the key's scopes as its permissions, the
 * organisation the application acts in. Unknown, malformed, revoked and expired keys, and keys of a deleted
 * application or organisation, are all the same 401.
 */
export async function authenticateApiKey(ctx: AppContext, key: string): Promise<Principal> {
  if (!parseApiKey(key)) throw unauthorized('invalid API key');
  const hash = apiKeyHash(key);
  const now = Date.now();
  let principal = ctx.apiKeys.get(hash, now);
  if (!principal) {
    const generation = ctx.apiKeys.generation;
    const actsIn = sql<string>`(case when ${apiApplications.sandbox} then ${apiApplications.sandboxOrgId} else ${apiApplications.orgId} end)`;
    const [row] = await ctx.db
      .select({
        keyId: apiKeys.id,
        appId: apiApplications.id,
        orgId: actsIn,
        scopes: apiKeys.scopes,
        rateLimitPerMinute: apiKeys.rateLimitPerMinute,
        expiresAt: apiKeys.expiresAt,
      })
      .from(apiKeys)
      .innerJoin(apiApplications, eq(apiApplications.id, apiKeys.appId))
      .where(
        and(
          eq(apiKeys.keyHash, hash),
          isNull(apiKeys.revokedAt),
          or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`)),
          isNull(apiApplications.deletedAt),
          // The owner and the organisation it acts in both still exist.
          sql`not exists (select 1 from ${organizations} where ${organizations.id} in (${apiApplications.orgId}, ${actsIn}) and ${organizations.deletedAt} is not null)`,
          sql`${actsIn} is not null`,
        ),
      );
    if (!row) throw unauthorized('invalid, revoked or expired API key');
    principal = {
      userId: row.appId,
      orgId: row.orgId,
      email: '',
      roles: [],
      permissions: scopesOf(row.scopes),
      via: 'apikey',
      sessionId: null,
      app: { id: row.appId, keyId: row.keyId, rateLimitPerMinute: row.rateLimitPerMinute },
    };
    ctx.apiKeys.set(hash, principal, row.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY, generation, now);
  }
  const keyId = principal.app!.keyId;
  if (ctx.apiKeys.lastUsedDue(keyId, now)) {
    // Best effort: a failed write must not fail the call it records (the next one a minute on tries again).
    await ctx.db
      .update(apiKeys)
      .set({ lastUsedAt: new Date(now) })
      .where(and(eq(apiKeys.id, keyId), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`))))
      .catch(() => undefined);
  }
  return principal;
}
