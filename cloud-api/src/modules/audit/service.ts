import { and, desc, eq, gte, lt } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import { auditLogs } from '../../db/schema.js';
import { decodeCursor, page } from '../../lib/pagination.js';

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
        q.since ? gte(auditLogs.createdAt, new Date(q.since)) : undefined,
        q.until ? lt(auditLogs.createdAt, new Date(q.until)) : undefined,
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
