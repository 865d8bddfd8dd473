import { isTimeZone, uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, inArray, isNull, lt } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { gates, sites, users } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import type { Sealer } from '../../lib/crypto.js';
import { conflict, notFound, unprocessable } from '../../lib/errors.js';
import { decodeCursor, page, pageLimit } from '../../lib/pagination.js';
import { staffMember } from '../orgs/personal-data.js';

type Row = typeof sites.$inferSelect;
type StaffMember = ReturnType<typeof staffMember>;
export const siteView = (r: Row, modeChangedBy: StaffMember = null) => ({
  id: r.id,
  orgId: r.orgId,
  name: r.name,
  timezone: r.timezone,
  address: r.address,
  mode: r.mode,
  modeReason: r.modeReason,
  modeChangedAt: r.modeChangedAt?.toISOString() ?? null,
  modeChangedBy,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/**
 * The sites as the API shows them, each with the user who last changed its mode, named the way an
 * alarm names who answered it (`staffMember`): one query for all of them, org-scoped.
 */
export async function siteViews(db: Executor, sealer: Sealer, orgId: string, rows: readonly Row[]) {
  const ids = [...new Set(rows.flatMap((r) => (r.modeChangedBy ? [r.modeChangedBy] : [])))];
  const names = new Map(
    (ids.length
      ? await db
          .select({ id: users.id, fullName: users.fullName, fullNameEnc: users.fullNameEnc })
          .from(users)
          .where(and(eq(users.orgId, orgId), inArray(users.id, ids)))
      : []
    ).map((u) => [u.id, u]),
  );
  return rows.map((r) => {
    const u = r.modeChangedBy ? names.get(r.modeChangedBy) : undefined;
    return siteView(r, staffMember(sealer, r.modeChangedBy, u?.fullName ?? null, u?.fullNameEnc ?? null));
  });
}

export async function createSite(ctx: AppContext, actor: Actor, body: { name: string; timezone: string; address?: string | null }) {
  if (!isTimeZone(body.timezone)) throw unprocessable(`unknown time zone ${JSON.stringify(body.timezone)}`);
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(sites)
      .values({
        id: uuidv7(),
        orgId: actor.orgId,
        name: body.name,
        timezone: body.timezone,
        address: body.address ?? null,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      })
      .returning();
    await writeAudit(tx, actor, {
      action: 'site.create',
      entityType: 'site',
      entityId: row!.id,
      data: { name: body.name, timezone: body.timezone, address: body.address ?? null },
    });
    return siteView(row!);
  });
}

export async function listSites(ctx: AppContext, orgId: string, q: { limit?: number; cursor?: string }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(sites)
    .where(and(eq(sites.orgId, orgId), isNull(sites.deletedAt), cursor ? lt(sites.id, cursor) : undefined))
    .orderBy(desc(sites.id))
    .limit(pageLimit(limit + 1));
  return page(await siteViews(ctx.db, ctx.sealer, orgId, rows), limit);
}

/** The live site of this org, or 404 — also for another org's id. */
export async function requireSite(db: Executor, orgId: string, id: string) {
  const [row] = await db
    .select()
    .from(sites)
    .where(and(eq(sites.id, id), eq(sites.orgId, orgId), isNull(sites.deletedAt)));
  if (!row) throw notFound('site');
  return row;
}

export async function getSite(ctx: AppContext, orgId: string, id: string) {
  const [view] = await siteViews(ctx.db, ctx.sealer, orgId, [await requireSite(ctx.db, orgId, id)]);
  return view!;
}

export async function updateSite(
  ctx: AppContext,
  actor: Actor,
  id: string,
  patch: { name?: string; timezone?: string; address?: string | null },
) {
  if (patch.timezone !== undefined && !isTimeZone(patch.timezone))
    throw unprocessable(`unknown time zone ${JSON.stringify(patch.timezone)}`);
  return ctx.db.transaction(async (tx) => {
    await requireSite(tx, actor.orgId, id);
    const [row] = await tx
      .update(sites)
      .set({ ...patch, updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(sites.id, id), eq(sites.orgId, actor.orgId)))
      .returning();
    // The audit row also tells the site's edges (its time zone drives their schedules).
    await writeAudit(tx, actor, { action: 'site.update', entityType: 'site', entityId: id, data: patch });
    const [view] = await siteViews(tx, ctx.sealer, actor.orgId, [row!]);
    return view!;
  });
}

/** Soft delete; refused while live gates stand at the site (their controllers would lose their time zone). */
export async function deleteSite(ctx: AppContext, actor: Actor, id: string) {
  await ctx.db.transaction(async (tx) => {
    await requireSite(tx, actor.orgId, id);
    const [gate] = await tx
      .select({ id: gates.id })
      .from(gates)
      .where(and(eq(gates.siteId, id), eq(gates.orgId, actor.orgId), isNull(gates.deletedAt)))
      .limit(1);
    if (gate) throw conflict('the site still has gates; delete or move them first');
    await tx
      .update(sites)
      .set({ deletedAt: new Date(), updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(sites.id, id), eq(sites.orgId, actor.orgId)));
    await writeAudit(tx, actor, { action: 'site.delete', entityType: 'site', entityId: id });
  });
}
