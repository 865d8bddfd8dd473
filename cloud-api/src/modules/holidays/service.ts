/**
 * A site's holiday calendar (DEC-14): days it is closed, or open only in special hours. Every write adds a
 * `holiday` change for the site in its own transaction (SYNC-4), so the site's edges get the day like a rule.
 * The change is written here rather than by the audit trigger (drizzle/0003): a calendar day concerns one
 * site, which this code knows, and the trigger's function stays as it is for the other entities.
 */
import { uuidv7 } from '@gatehouse/protocol';
import { and, asc, eq, gt, gte, inArray, isNull, lte, or } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { siteHolidays, type TimeWindowJson } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { badRequest, conflict, notFound, unprocessable } from '../../lib/errors.js';
import { pageLimit } from '../../lib/pagination.js';
import { syncChanges } from '../../sync/schema.js';
import { requireSite } from '../sites/service.js';

type Row = typeof siteHolidays.$inferSelect;
type Kind = Row['kind'];

export interface DayInput {
  date: string;
  kind: Kind;
  name: string;
  windows?: TimeWindowJson[];
}

export const holidayView = (r: Row) => ({
  id: r.id,
  orgId: r.orgId,
  siteId: r.siteId,
  date: r.date,
  kind: r.kind,
  name: r.name,
  windows: r.windows,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/** The schema's pattern lets 2030-02-31 through; the calendar does not. */
function checkDay(d: { date: string; kind: Kind; windows: TimeWindowJson[] }) {
  const [y, m, day] = d.date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, day));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== day) throw unprocessable(`${d.date} is not a date`);
  if (d.kind === 'special' && d.windows.length === 0) throw unprocessable('a special day needs at least one window (its hours)');
  if (d.kind === 'closed' && d.windows.length > 0) throw unprocessable('a closed day has no windows');
}

const taken = (date: string) => conflict(`the site has a calendar entry for ${date} already`);

/** SYNC-4: the site's edges fetch the day's current state (a deleted one as a delete). */
async function tellEdges(tx: Executor, orgId: string, siteId: string, ids: string[]) {
  if (ids.length) await tx.insert(syncChanges).values(ids.map((entityId) => ({ orgId, siteId, entity: 'holiday' as const, entityId })));
}

async function liveDay(db: Executor, siteId: string, date: string) {
  const [row] = await db
    .select({ id: siteHolidays.id })
    .from(siteHolidays)
    .where(and(eq(siteHolidays.siteId, siteId), eq(siteHolidays.date, date), isNull(siteHolidays.deletedAt)));
  return row;
}

export async function createHoliday(ctx: AppContext, actor: Actor, b: DayInput & { siteId: string }) {
  const windows = b.windows ?? [];
  checkDay({ ...b, windows });
  return ctx.db.transaction(async (tx) => {
    await requireSite(tx, actor.orgId, b.siteId);
    // The unique index says it too, under a race; this says which date.
    if (await liveDay(tx, b.siteId, b.date)) throw taken(b.date);
    const [row] = await tx
      .insert(siteHolidays)
      .values({
        id: uuidv7(),
        orgId: actor.orgId,
        siteId: b.siteId,
        date: b.date,
        kind: b.kind,
        name: b.name,
        windows,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      })
      .returning();
    await writeAudit(tx, actor, { action: 'holiday.create', entityType: 'holiday', entityId: row!.id, data: { ...b, windows } });
    await tellEdges(tx, actor.orgId, b.siteId, [row!.id]);
    return holidayView(row!);
  });
}

export async function requireHoliday(db: Executor, orgId: string, id: string) {
  const [row] = await db
    .select()
    .from(siteHolidays)
    .where(and(eq(siteHolidays.id, id), eq(siteHolidays.orgId, orgId), isNull(siteHolidays.deletedAt)));
  if (!row) throw notFound('holiday');
  return row;
}

export async function getHoliday(ctx: AppContext, orgId: string, id: string) {
  return holidayView(await requireHoliday(ctx.db, orgId, id));
}

/** The list is in calendar order, so its cursor is the last (date, id) rather than an id alone. */
const encodeCursor = (r: { date: string; id: string }) => Buffer.from(`${r.date}/${r.id}`).toString('base64url');
function decodeDayCursor(cursor: string | undefined): { date: string; id: string } | null {
  if (!cursor) return null;
  const m = /^(\d{4}-\d{2}-\d{2})\/([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw badRequest('invalid cursor');
  return { date: m[1]!, id: m[2]! };
}

export async function listHolidays(
  ctx: AppContext,
  orgId: string,
  q: { limit?: number; cursor?: string; siteId?: string; from?: string; to?: string },
) {
  const limit = q.limit ?? 50;
  const after = decodeDayCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(siteHolidays)
    .where(
      and(
        eq(siteHolidays.orgId, orgId),
        isNull(siteHolidays.deletedAt),
        q.siteId ? eq(siteHolidays.siteId, q.siteId) : undefined,
        q.from ? gte(siteHolidays.date, q.from) : undefined,
        q.to ? lte(siteHolidays.date, q.to) : undefined,
        after ? or(gt(siteHolidays.date, after.date), and(eq(siteHolidays.date, after.date), gt(siteHolidays.id, after.id))) : undefined,
      ),
    )
    .orderBy(asc(siteHolidays.date), asc(siteHolidays.id))
    .limit(pageLimit(limit + 1));
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map(holidayView), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

export async function updateHoliday(ctx: AppContext, actor: Actor, id: string, patch: Partial<DayInput>) {
  return ctx.db.transaction(async (tx) => {
    const had = await requireHoliday(tx, actor.orgId, id);
    // Made closed without a word about windows: the old special hours go with it.
    const windows = patch.windows ?? (patch.kind === 'closed' ? [] : had.windows);
    const next = { date: patch.date ?? had.date, kind: patch.kind ?? had.kind, name: patch.name ?? had.name, windows };
    checkDay(next);
    if (next.date !== had.date && (await liveDay(tx, had.siteId, next.date))) throw taken(next.date);
    const [row] = await tx
      .update(siteHolidays)
      .set({ ...next, updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(siteHolidays.id, id), eq(siteHolidays.orgId, actor.orgId)))
      .returning();
    await writeAudit(tx, actor, { action: 'holiday.update', entityType: 'holiday', entityId: id, data: { ...patch } });
    await tellEdges(tx, actor.orgId, had.siteId, [id]);
    return holidayView(row!);
  });
}

export async function deleteHoliday(ctx: AppContext, actor: Actor, id: string) {
  await ctx.db.transaction(async (tx) => {
    const had = await requireHoliday(tx, actor.orgId, id);
    // Soft, like the rules: the audit trail still names the day.
    await tx
      .update(siteHolidays)
      .set({ deletedAt: new Date(), updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(siteHolidays.id, id), eq(siteHolidays.orgId, actor.orgId)));
    await writeAudit(tx, actor, { action: 'holiday.delete', entityType: 'holiday', entityId: id, data: { date: had.date } });
    await tellEdges(tx, actor.orgId, had.siteId, [id]);
  });
}

/**
 * A whole calendar (a country's public holidays, a year of closures) in one call and one transaction: days not
 * in the calendar are added, days already there take the imported kind, name and hours.
 */
export async function importHolidays(ctx: AppContext, actor: Actor, b: { siteId: string; days: DayInput[] }) {
  const days = b.days.map((d) => ({ ...d, windows: d.windows ?? [] }));
  const seen = new Set<string>();
  for (const d of days) {
    checkDay(d);
    if (seen.has(d.date)) throw unprocessable(`${d.date} is listed twice`);
    seen.add(d.date);
  }
  return ctx.db.transaction(async (tx) => {
    await requireSite(tx, actor.orgId, b.siteId);
    const existing = new Map(
      (
        await tx
          .select({ id: siteHolidays.id, date: siteHolidays.date })
          .from(siteHolidays)
          .where(and(eq(siteHolidays.siteId, b.siteId), inArray(siteHolidays.date, [...seen]), isNull(siteHolidays.deletedAt)))
      ).map((r) => [r.date, r.id]),
    );
    const now = new Date();
    const rows: Row[] = [];
    const fresh = days.filter((d) => !existing.has(d.date));
    if (fresh.length)
      rows.push(
        ...(await tx
          .insert(siteHolidays)
          .values(
            fresh.map((d) => ({
              id: uuidv7(),
              orgId: actor.orgId,
              siteId: b.siteId,
              ...d,
              createdBy: actor.userId,
              updatedBy: actor.userId,
            })),
          )
          .returning()),
      );
    for (const d of days) {
      const id = existing.get(d.date);
      if (!id) continue;
      const [row] = await tx
        .update(siteHolidays)
        .set({ kind: d.kind, name: d.name, windows: d.windows, updatedAt: now, updatedBy: actor.userId })
        .where(eq(siteHolidays.id, id))
        .returning();
      rows.push(row!);
    }
    await writeAudit(tx, actor, {
      action: 'holiday.import',
      // The site's calendar as a whole; not `site`, which would tell the edges the site itself changed.
      entityType: 'holiday_calendar',
      entityId: b.siteId,
      data: { siteId: b.siteId, created: fresh.length, updated: existing.size, dates: [...seen] },
    });
    await tellEdges(
      tx,
      actor.orgId,
      b.siteId,
      rows.map((r) => r.id),
    );
    rows.sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0));
    return { created: fresh.length, updated: existing.size, items: rows.map(holidayView) };
  });
}
