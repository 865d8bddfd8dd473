/**
 * Applications and their API keys (issue 13). An application belongs to the
 * organisation that made it; its keys act there, or in its own sandbox
 * organisation for a sandbox application. A key is shown once, when made;
 * only its SHA-256 is kept. Revoking a key, or deleting its application,
 * takes effect at once on every instance (auth/api-keys.ts).
 */
import { uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, isNull, lt } from 'drizzle-orm';
import { apiKeyHash, apiKeyPrefix, newApiKey } from '../../auth/api-key-format.js';
import { announceRevoked, type Revoked } from '../../auth/api-keys.js';
import type { Permission } from '../../auth/rbac.js';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { apiApplications, apiKeys, webhookEndpoints } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { conflict, HttpError, notFound } from '../../lib/errors.js';
import { decodeCursor, iso, page, pageLimit } from '../../lib/pagination.js';
import { createSandboxOrganization } from '../sandbox/service.js';
import { announceEndpointChange } from '../webhooks/emit.js';
import type { KeyScope } from './schema.js';

type AppRow = typeof apiApplications.$inferSelect;
type KeyRow = typeof apiKeys.$inferSelect;

/** The organisation an application's keys act in. */
export const actsIn = (a: Pick<AppRow, 'orgId' | 'sandbox' | 'sandboxOrgId'>): string => (a.sandbox ? a.sandboxOrgId! : a.orgId);

const appView = (a: AppRow) => ({
  id: a.id,
  name: a.name,
  description: a.description,
  sandbox: a.sandbox,
  actsInOrgId: actsIn(a),
  createdAt: a.createdAt.toISOString(),
});

export type KeyStatus = 'active' | 'expiring' | 'expired' | 'revoked';

export function keyStatus(k: Pick<KeyRow, 'revokedAt' | 'expiresAt'>, now = Date.now()): KeyStatus {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt) return k.expiresAt.getTime() <= now ? 'expired' : 'expiring';
  return 'active';
}

const keyView = (k: KeyRow, now = Date.now()) => ({
  id: k.id,
  prefix: k.prefix,
  scopes: k.scopes,
  rateLimitPerMinute: k.rateLimitPerMinute,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: iso(k.lastUsedAt),
  expiresAt: iso(k.expiresAt),
  revokedAt: iso(k.revokedAt),
  rotatedFrom: k.rotatedFrom,
  status: keyStatus(k, now),
});

/** The live application `id` of organisation `orgId`, or 404 (also for another organisation's). */
export async function requireApplication(db: Executor, orgId: string, id: string): Promise<AppRow> {
  const [row] = await db
    .select()
    .from(apiApplications)
    .where(and(eq(apiApplications.id, id), eq(apiApplications.orgId, orgId), isNull(apiApplications.deletedAt)));
  if (!row) throw notFound('application');
  return row;
}

export async function createApplication(
  ctx: AppContext,
  actor: Actor,
  body: { name: string; description?: string | null; sandbox?: boolean },
) {
  return ctx.db.transaction(async (tx) => {
    // The sandbox and its seed data come with the application or not at all.
    const sandboxOrg = body.sandbox ? await createSandboxOrganization(ctx, tx, actor.orgId, actor) : null;
    const [row] = await tx
      .insert(apiApplications)
      .values({
        id: uuidv7(),
        orgId: actor.orgId,
        name: body.name,
        description: body.description || null,
        sandbox: !!body.sandbox,
        sandboxOrgId: sandboxOrg?.id ?? null,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      })
      .returning();
    await writeAudit(tx, actor, {
      action: 'application.create',
      entityType: 'application',
      entityId: row!.id,
      data: { name: body.name, sandbox: !!body.sandbox, sandboxOrgId: sandboxOrg?.id ?? null },
    });
    return appView(row!);
  });
}

export async function listApplications(ctx: AppContext, orgId: string, q: { limit?: number; cursor?: string }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(apiApplications)
    .where(and(eq(apiApplications.orgId, orgId), isNull(apiApplications.deletedAt), cursor ? lt(apiApplications.id, cursor) : undefined))
    .orderBy(desc(apiApplications.id))
    .limit(pageLimit(limit + 1));
  return page(rows.map(appView), limit);
}

export async function getApplication(ctx: AppContext, orgId: string, id: string) {
  return appView(await requireApplication(ctx.db, orgId, id));
}

export async function updateApplication(ctx: AppContext, actor: Actor, id: string, patch: { name?: string; description?: string | null }) {
  return ctx.db.transaction(async (tx) => {
    await requireApplication(tx, actor.orgId, id);
    const [row] = await tx
      .update(apiApplications)
      .set({
        ...patch,
        // Fastify's validator coerces a JSON null to "" for a nullable string: either way, none.
        ...(patch.description !== undefined ? { description: patch.description || null } : {}),
        updatedAt: new Date(),
        updatedBy: actor.userId,
      })
      .where(eq(apiApplications.id, id))
      .returning();
    await writeAudit(tx, actor, { action: 'application.update', entityType: 'application', entityId: id, data: { ...patch } });
    return appView(row!);
  });
}

/** Runs `fn` in a transaction, then forgets what it revoked in this instance's cache (other instances hear the NOTIFY). */
async function revoking<T>(ctx: AppContext, what: Revoked, fn: (tx: Executor) => Promise<T>): Promise<T> {
  const out = await ctx.db.transaction(async (tx) => {
    const r = await fn(tx);
    await announceRevoked(tx, what);
    return r;
  });
  ctx.apiKeys.drop(what);
  return out;
}

/** Soft delete: its keys stop working at once (revoked), its webhooks stop receiving (disabled). */
export async function deleteApplication(ctx: AppContext, actor: Actor, id: string) {
  await revoking(ctx, { appId: id }, async (tx) => {
    const app = await requireApplication(tx, actor.orgId, id);
    const now = new Date();
    await tx.update(apiApplications).set({ deletedAt: now, updatedAt: now, updatedBy: actor.userId }).where(eq(apiApplications.id, id));
    const keys = await tx
      .update(apiKeys)
      .set({ revokedAt: now, updatedAt: now, updatedBy: actor.userId })
      .where(and(eq(apiKeys.appId, id), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    const hooks = await tx
      .update(webhookEndpoints)
      .set({ status: 'disabled', disabledAt: now, disabledReason: 'application deleted', updatedAt: now, updatedBy: actor.userId })
      .where(and(eq(webhookEndpoints.appId, id), eq(webhookEndpoints.status, 'active'), isNull(webhookEndpoints.deletedAt)))
      .returning({ id: webhookEndpoints.id });
    if (hooks.length) await announceEndpointChange(tx, actsIn(app));
    await writeAudit(tx, actor, {
      action: 'application.delete',
      entityType: 'application',
      entityId: id,
      data: { name: app.name, keysRevoked: keys.length, webhooksDisabled: hooks.length },
    });
  });
}

/** A non-sandbox key holds only permissions its creator holds: nobody mints a key stronger than themself. */
function checkScopesHeld(app: AppRow, scopes: readonly string[], held: ReadonlySet<Permission>) {
  // A sandbox has nothing real behind it: any scope.
  if (app.sandbox) return;
  const missing = scopes.filter((s) => !held.has(s as Permission));
  if (missing.length) throw new HttpError(403, 'scope_not_held', `you do not hold ${missing.join(', ')}, so no key of yours may`);
}

async function insertKey(
  tx: Executor,
  actor: Actor,
  app: AppRow,
  k: { scopes: string[]; rateLimitPerMinute: number | null; rotatedFrom: string | null },
) {
  const key = newApiKey(app.sandbox ? 'test' : 'live');
  const [row] = await tx
    .insert(apiKeys)
    .values({
      id: uuidv7(),
      orgId: app.orgId,
      appId: app.id,
      keyHash: apiKeyHash(key),
      prefix: apiKeyPrefix(key),
      scopes: k.scopes,
      rateLimitPerMinute: k.rateLimitPerMinute,
      rotatedFrom: k.rotatedFrom,
      createdBy: actor.userId,
      updatedBy: actor.userId,
    })
    .returning();
  return {
    id: row!.id,
    key,
    prefix: row!.prefix,
    scopes: row!.scopes,
    rateLimitPerMinute: row!.rateLimitPerMinute,
    createdAt: row!.createdAt.toISOString(),
  };
}

export async function createKey(
  ctx: AppContext,
  actor: Actor,
  held: ReadonlySet<Permission>,
  appId: string,
  body: { scopes: KeyScope[]; rateLimitPerMinute?: number; name?: string },
) {
  return ctx.db.transaction(async (tx) => {
    const app = await requireApplication(tx, actor.orgId, appId);
    checkScopesHeld(app, body.scopes, held);
    const created = await insertKey(tx, actor, app, {
      scopes: [...body.scopes],
      rateLimitPerMinute: body.rateLimitPerMinute ?? null,
      rotatedFrom: null,
    });
    // The prefix names the key in the log; the key itself is nowhere but in this answer.
    await writeAudit(tx, actor, {
      action: 'apikey.create',
      entityType: 'api_key',
      entityId: created.id,
      data: {
        appId,
        prefix: created.prefix,
        scopes: created.scopes,
        rateLimitPerMinute: created.rateLimitPerMinute,
        name: body.name ?? null,
      },
    });
    return created;
  });
}

export async function listKeys(ctx: AppContext, orgId: string, appId: string) {
  await requireApplication(ctx.db, orgId, appId);
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.orgId, orgId), eq(apiKeys.appId, appId)))
    .orderBy(desc(apiKeys.id));
  const now = Date.now();
  return { items: rows.map((k) => keyView(k, now)) };
}

async function requireKey(tx: Executor, orgId: string, appId: string, keyId: string): Promise<KeyRow> {
  const [row] = await tx
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.appId, appId), eq(apiKeys.orgId, orgId)))
    .for('update');
  if (!row) throw notFound('API key');
  return row;
}

/** Revoked at once, on every instance; revoking a revoked key is a no-op. */
export async function revokeKey(ctx: AppContext, actor: Actor, appId: string, keyId: string) {
  await revoking(ctx, { keyId }, async (tx) => {
    await requireApplication(tx, actor.orgId, appId);
    const key = await requireKey(tx, actor.orgId, appId, keyId);
    if (key.revokedAt) return;
    const now = new Date();
    await tx.update(apiKeys).set({ revokedAt: now, updatedAt: now, updatedBy: actor.userId }).where(eq(apiKeys.id, keyId));
    await writeAudit(tx, actor, { action: 'apikey.revoke', entityType: 'api_key', entityId: keyId, data: { appId, prefix: key.prefix } });
  });
}

/**
 * A new key with the old one's scopes and limit; the old one keeps working for `graceSeconds` (its
 * `expiresAt`), so an integrator can roll the new one out first. Only a key that was never rotated, revoked
 * or expired can be; the new key is shown once, as when created.
 */
export async function rotateKey(
  ctx: AppContext,
  actor: Actor,
  held: ReadonlySet<Permission>,
  appId: string,
  keyId: string,
  graceSeconds: number,
) {
  // Every instance re-reads the old key, so its new end is enforced everywhere from its first second.
  return revoking(ctx, { keyId }, async (tx) => {
    const app = await requireApplication(tx, actor.orgId, appId);
    const old = await requireKey(tx, actor.orgId, appId, keyId);
    if (old.revokedAt) throw conflict('this key is revoked');
    if (old.expiresAt) throw conflict('this key was already rotated; rotate the key that replaced it');
    // Rotating shows the new key to whoever rotates: the same rule as creating one.
    checkScopesHeld(app, old.scopes, held);
    const expiresAt = new Date(Date.now() + graceSeconds * 1000);
    await tx.update(apiKeys).set({ expiresAt, updatedAt: new Date(), updatedBy: actor.userId }).where(eq(apiKeys.id, keyId));
    const created = await insertKey(tx, actor, app, {
      scopes: old.scopes,
      rateLimitPerMinute: old.rateLimitPerMinute,
      rotatedFrom: old.id,
    });
    await writeAudit(tx, actor, {
      action: 'apikey.rotate',
      entityType: 'api_key',
      entityId: created.id,
      data: { appId, prefix: created.prefix, rotatedFrom: old.id, oldPrefix: old.prefix, oldExpiresAt: expiresAt.toISOString() },
    });
    return created;
  });
}
