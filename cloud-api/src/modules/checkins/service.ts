import type { CheckinEvent } from '@gatehouse/protocol';
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { checkins, visitors, visitPasses } from '../../db/schema.js';
import type { EventBus } from '../../lib/events.js';
import { decodeCursor, page } from '../../lib/pagination.js';
import { requireSite } from '../sites/service.js';

/** Only what the API shows: fewer columns to map per row on the hottest list. */
const listed = {
  id: checkins.id,
  passId: checkins.passId,
  gateId: checkins.gateId,
  siteId: checkins.siteId,
  type: checkins.type,
  credentialKind: checkins.credentialKind,
  direction: checkins.direction,
  allow: checkins.allow,
  reason: checkins.reason,
  occurredAt: checkins.occurredAt,
  receivedAt: checkins.receivedAt,
};
type Row = Pick<typeof checkins.$inferSelect, keyof typeof listed>;
export const checkinView = (r: Row) => ({
  id: r.id,
  passId: r.passId,
  gateId: r.gateId,
  siteId: r.siteId,
  type: r.type,
  credentialKind: r.credentialKind,
  direction: r.direction,
  allow: r.allow,
  reason: r.reason,
  occurredAt: r.occurredAt.toISOString(),
  receivedAt: r.receivedAt.toISOString(),
});

export interface CheckinQuery {
  limit?: number;
  cursor?: string;
  gateId?: string;
  passId?: string;
  siteId?: string;
  since?: string;
  until?: string;
}

/** Newest first by id (edge-made UUIDv7, so by occurrence), filters on indexed columns. */
export async function listCheckins(ctx: AppContext, orgId: string, q: CheckinQuery) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select(listed)
    .from(checkins)
    .where(
      and(
        eq(checkins.orgId, orgId),
        q.gateId ? eq(checkins.gateId, q.gateId) : undefined,
        q.passId ? eq(checkins.passId, q.passId) : undefined,
        q.siteId ? eq(checkins.siteId, q.siteId) : undefined,
        q.since ? gte(checkins.occurredAt, new Date(q.since)) : undefined,
        q.until ? lt(checkins.occurredAt, new Date(q.until)) : undefined,
        cursor ? lt(checkins.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(checkins.id))
    .limit(limit + 1);
  return page(rows.map(checkinView), limit);
}

/**
 * Stores events from a gate idempotently (the edge's UUIDv7 is the key) and
 * returns the ids now stored — new or already there — which is what the edge
 * may drop. Rows new to the table go to the live feed when `bus` is given
 * (pass it only outside a transaction: the feed must not show what may roll back).
 */
export async function storeCheckins(
  db: Executor,
  gate: { orgId: string; siteId: string; deviceId: string | null },
  events: CheckinEvent[],
  bus?: EventBus,
): Promise<string[]> {
  if (events.length === 0) return [];
  const inserted = await db
    .insert(checkins)
    .values(
      events.map((e) => ({
        id: e.id,
        orgId: gate.orgId,
        siteId: gate.siteId,
        gateId: e.gateId,
        passId: e.passId,
        deviceId: gate.deviceId,
        type: e.type,
        credentialKind: e.credentialKind,
        direction: e.direction,
        allow: e.allow,
        reason: e.reason,
        occurredAt: new Date(e.occurredAt),
      })),
    )
    .onConflictDoNothing({ target: checkins.id })
    .returning();
  if (bus) for (const row of inserted) bus.publish(gate.orgId, { type: 'checkin.created', data: checkinView(row) });
  return events.map((e) => e.id);
}

/** Who is on site now: passes whose latest allowed passage at this site's gates was inward. */
export async function occupancy(ctx: AppContext, orgId: string, siteId: string) {
  await requireSite(ctx.db, orgId, siteId);
  const latest = ctx.db
    .selectDistinctOn([checkins.passId], {
      passId: checkins.passId,
      gateId: checkins.gateId,
      direction: checkins.direction,
      occurredAt: checkins.occurredAt,
    })
    .from(checkins)
    .where(
      and(
        eq(checkins.orgId, orgId),
        eq(checkins.siteId, siteId),
        eq(checkins.allow, true),
        sql`${checkins.passId} is not null`,
        sql`${checkins.type} in ('attempt', 'passage', 'manual')`,
      ),
    )
    .orderBy(checkins.passId, desc(checkins.occurredAt))
    .as('latest');
  const rows = await ctx.db
    .select({
      passId: latest.passId,
      gateId: latest.gateId,
      since: latest.occurredAt,
      visitorId: visitPasses.visitorId,
      visitorName: visitors.fullName,
    })
    .from(latest)
    .leftJoin(visitPasses, eq(visitPasses.id, latest.passId))
    .leftJoin(visitors, eq(visitors.id, visitPasses.visitorId))
    .where(eq(latest.direction, 'in'))
    .orderBy(desc(latest.occurredAt));
  const items = rows.map((r) => ({
    passId: r.passId!,
    gateId: r.gateId,
    since: new Date(r.since).toISOString(),
    visitorId: r.visitorId,
    visitorName: r.visitorName,
  }));
  return { siteId, count: items.length, items };
}
