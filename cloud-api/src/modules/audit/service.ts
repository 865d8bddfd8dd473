import { and, desc, eq, gte, lt } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import { auditLogs } from '../../db/schema.js';
import { decodeCursor, page } from '../../lib/pagination.js';

/** The smallest UUIDv7 of millisecond `ms`. */
function uuidFloor(ms: number): string {
  const h = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7000-8000-000000000000`;
}

/** Read-only by design: there is no route that edits or deletes audit rows, and a trigger refuses it in the database. */
export async function listAudit(
  ctx: AppContext,
  orgId: string,
  q: { limit?: number; cursor?: string; entityType?: string; entityId?: string; actorId?: string; since?: string; until?: string },
) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(auditLogs)
    .where(
      and(
        eq(auditLogs.orgId, orgId),
        q.entityType ? eq(auditLogs.entityType, q.entityType) : undefined,
        q.entityId ? eq(auditLogs.entityId, q.entityId) : undefined,
        q.actorId ? eq(auditLogs.actorId, q.actorId) : undefined,
        // Audit ids are UUIDv7 stamped at insert, so a time range is an id range on the (org_id, id) index.
        q.since ? gte(auditLogs.id, uuidFloor(new Date(q.since).getTime())) : undefined,
        q.until ? lt(auditLogs.id, uuidFloor(new Date(q.until).getTime())) : undefined,
        cursor ? lt(auditLogs.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(auditLogs.id))
    .limit(limit + 1);
  return page(
    rows.map((r) => ({
      id: r.id,
      orgId: r.orgId,
      actorId: r.actorId,
      action: r.action,
      entityType: r.entityType,
      entityId: r.entityId,
      ip: r.ip,
      userAgent: r.userAgent,
      data: r.data,
      createdAt: r.createdAt.toISOString(),
    })),
    limit,
  );
}
