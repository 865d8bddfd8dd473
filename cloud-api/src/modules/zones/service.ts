import { uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, isNull, lt } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { gates, zones } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { conflict, notFound } from '../../lib/errors.js';
import { decodeCursor, page, pageLimit } from '../../lib/pagination.js';
import { requireSite } from '../sites/service.js';

type Row = typeof zones.$inferSelect;
const view = (r: Row) => ({
  id: r.id,
  orgId: r.orgId,
  siteId: r.siteId,
  name: r.name,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

export async function createZone(ctx: AppContext, actor: Actor, body: { siteId: string; name: string }) {
  return ctx.db.transaction(async (tx) => {
    await requireSite(tx, actor.orgId, body.siteId);
    const [row] = await tx
      .insert(zones)
      .values({ id: uuidv7(), orgId: actor.orgId, siteId: body.siteId, name: body.name, createdBy: actor.userId, updatedBy: actor.userId })
      .returning();
    await writeAudit(tx, actor, { action: 'zone.create', entityType: 'zone', entityId: row!.id, data: body });
    return view(row!);
  });
}

export async function listZones(ctx: AppContext, orgId: string, q: { limit?: number; cursor?: string; siteId?: string }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(zones)
    .where(
      and(
        eq(zones.orgId, orgId),
        isNull(zones.deletedAt),
        q.siteId ? eq(zones.siteId, q.siteId) : undefined,
        cursor ? lt(zones.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(zones.id))
    .limit(pageLimit(limit + 1));
  return page(rows.map(view), limit);
}

export async function requireZone(db: Executor, orgId: string, id: string) {
  const [row] = await db
    .select()
    .from(zones)
    .where(and(eq(zones.id, id), eq(zones.orgId, orgId), isNull(zones.deletedAt)));
  if (!row) throw notFound('zone');
  return row;
}

export async function getZone(ctx: AppContext, orgId: string, id: string) {
  return view(await requireZone(ctx.db, orgId, id));
}

export async function updateZone(ctx: AppContext, actor: Actor, id: string, patch: { name?: string }) {
  return ctx.db.transaction(async (tx) => {
    await requireZone(tx, actor.orgId, id);
    const [row] = await tx
      .update(zones)
      .set({ ...patch, updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(zones.id, id), eq(zones.orgId, actor.orgId)))
      .returning();
    await writeAudit(tx, actor, { action: 'zone.update', entityType: 'zone', entityId: id, data: patch });
    return view(row!);
  });
}

/** Soft delete; refused while a live gate stands in the zone. Rules naming it simply stop matching it. */
export async function deleteZone(ctx: AppContext, actor: Actor, id: string) {
  await ctx.db.transaction(async (tx) => {
    await requireZone(tx, actor.orgId, id);
    const [gate] = await tx
      .select({ id: gates.id })
      .from(gates)
      .where(and(eq(gates.zoneId, id), eq(gates.orgId, actor.orgId), isNull(gates.deletedAt)))
      .limit(1);
    if (gate) throw conflict('the zone still has gates; delete or move them first');
    await tx
      .update(zones)
      .set({ deletedAt: new Date(), updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(zones.id, id), eq(zones.orgId, actor.orgId)));
    await writeAudit(tx, actor, { action: 'zone.delete', entityType: 'zone', entityId: id });
  });
}
