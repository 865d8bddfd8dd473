import { type RuleRecord, uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, inArray, isNull, lt } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { accessRules, type TimeWindowJson, zones } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { notFound, unprocessable } from '../../lib/errors.js';
import { decodeCursor, page, pageLimit } from '../../lib/pagination.js';

type Row = typeof accessRules.$inferSelect;
export const ruleView = (r: Row) => ({
  id: r.id,
  orgId: r.orgId,
  name: r.name,
  zoneIds: r.zoneIds,
  weekdays: r.weekdays,
  timeWindows: r.timeWindows,
  maxUses: r.maxUses,
  escortRequired: r.escortRequired,
  escortSeconds: r.escortSeconds,
  antiPassback: r.antiPassback,
  passbackMinutes: r.passbackMinutes,
  holidays: r.holidays,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/** The rule as the edge caches it and `decide()` reads it. */
export const ruleRecord = (r: Row): RuleRecord => ({
  id: r.id,
  zoneIds: r.zoneIds,
  weekdays: r.weekdays,
  timeWindows: r.timeWindows,
  maxUses: r.maxUses,
  antiPassback: r.antiPassback,
  passbackMinutes: r.passbackMinutes,
  escortRequired: r.escortRequired,
  escortSeconds: r.escortSeconds,
  holidays: r.holidays,
});

export interface RuleInput {
  name?: string;
  zoneIds?: string[];
  weekdays?: number[];
  timeWindows?: TimeWindowJson[];
  maxUses?: number | null;
  escortRequired?: boolean;
  escortSeconds?: number;
  /** A mode, or the legacy boolean of the first API version (true = hard, false = off). */
  antiPassback?: Row['antiPassback'] | boolean;
  passbackMinutes?: number | null;
  holidays?: Row['holidays'];
}

type Mode = Row['antiPassback'];
const passbackMode = (v: Mode | boolean): Mode => (v === true ? 'hard' : v === false ? 'off' : v);

/** The input as columns: legacy booleans become modes, weekdays are kept sorted. */
function columns(b: RuleInput) {
  const { antiPassback, weekdays, ...rest } = b;
  return {
    ...rest,
    ...(antiPassback !== undefined ? { antiPassback: passbackMode(antiPassback) } : {}),
    ...(weekdays ? { weekdays: [...weekdays].sort() } : {}),
  };
}

async function checkZones(db: Executor, orgId: string, ids: string[]) {
  const found = await db
    .select({ id: zones.id })
    .from(zones)
    .where(and(eq(zones.orgId, orgId), inArray(zones.id, ids), isNull(zones.deletedAt)));
  if (found.length !== new Set(ids).size) throw unprocessable('zoneIds names a zone that does not exist');
}

export async function createRule(
  ctx: AppContext,
  actor: Actor,
  b: Required<Pick<RuleInput, 'name' | 'zoneIds' | 'weekdays' | 'timeWindows'>> & RuleInput,
) {
  return ctx.db.transaction(async (tx) => {
    await checkZones(tx, actor.orgId, b.zoneIds);
    const [row] = await tx
      .insert(accessRules)
      .values({
        maxUses: null,
        escortRequired: false,
        antiPassback: 'hard',
        ...columns(b),
        id: uuidv7(),
        orgId: actor.orgId,
        name: b.name,
        zoneIds: b.zoneIds,
        weekdays: [...b.weekdays].sort(),
        timeWindows: b.timeWindows,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      })
      .returning();
    await writeAudit(tx, actor, { action: 'access_rule.create', entityType: 'access_rule', entityId: row!.id, data: { ...b } });
    return ruleView(row!);
  });
}

export async function requireRule(db: Executor, orgId: string, id: string) {
  const [row] = await db
    .select()
    .from(accessRules)
    .where(and(eq(accessRules.id, id), eq(accessRules.orgId, orgId), isNull(accessRules.deletedAt)));
  if (!row) throw notFound('access rule');
  return row;
}

export async function listRules(ctx: AppContext, orgId: string, q: { limit?: number; cursor?: string }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(accessRules)
    .where(and(eq(accessRules.orgId, orgId), isNull(accessRules.deletedAt), cursor ? lt(accessRules.id, cursor) : undefined))
    .orderBy(desc(accessRules.id))
    .limit(pageLimit(limit + 1));
  return page(rows.map(ruleView), limit);
}

export async function getRule(ctx: AppContext, orgId: string, id: string) {
  return ruleView(await requireRule(ctx.db, orgId, id));
}

export async function updateRule(ctx: AppContext, actor: Actor, id: string, patch: RuleInput) {
  return ctx.db.transaction(async (tx) => {
    await requireRule(tx, actor.orgId, id);
    if (patch.zoneIds) await checkZones(tx, actor.orgId, patch.zoneIds);
    const [row] = await tx
      .update(accessRules)
      .set({ ...columns(patch), updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(accessRules.id, id), eq(accessRules.orgId, actor.orgId)))
      .returning();
    await writeAudit(tx, actor, { action: 'access_rule.update', entityType: 'access_rule', entityId: id, data: { ...patch } });
    return ruleView(row!);
  });
}

export async function deleteRule(ctx: AppContext, actor: Actor, id: string) {
  await ctx.db.transaction(async (tx) => {
    await requireRule(tx, actor.orgId, id);
    // Soft: passes issued under the rule still name it.
    await tx
      .update(accessRules)
      .set({ deletedAt: new Date(), updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(accessRules.id, id), eq(accessRules.orgId, actor.orgId)));
    await writeAudit(tx, actor, { action: 'access_rule.delete', entityType: 'access_rule', entityId: id });
  });
}
