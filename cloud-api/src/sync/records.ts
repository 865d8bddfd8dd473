/**
 * The cloud's rows as the edge caches them (protocol records): for a delta,
 * the current state of each changed entity; for a snapshot, everything one
 * site's gates need.
 *
 * An edge gets only the passes its site needs (SPEC SYNC-1): those whose rule
 * lists a zone of that site. The change log names every site for
 * a pass or rule change; here each site's view of it is made: a pass out of
 * the site's scope is a delete, and a rule change carries every cached pass
 * of the rule (upserts where the rule now opens the site, deletes where it no
 * longer does), so editing a rule's zones moves its passes in or out.
 */
import {
  type Change,
  type GateRecord,
  type HolidayRecord,
  localDate,
  type PassRecord,
  type PresenceRecord,
  type RuleRecord,
  type SiteRecord,
  type ZoneRecord,
} from '@gatehouse/protocol';
import { and, eq, gt, gte, inArray, isNull } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { accessRules, gates, passPresence, siteHolidays, sites, visitPasses, zones } from '../db/schema.js';
import { ruleRecord } from '../modules/access-rules/service.js';
import { holidayRecord } from '../modules/holidays/record.js';
import { passRecord, presenceRecord } from '../modules/passes/service.js';

type Entity = Change['entity'];

const siteRecord = (r: typeof sites.$inferSelect): SiteRecord => ({ id: r.id, name: r.name, timezone: r.timezone });
const zoneRecord = (r: typeof zones.$inferSelect): ZoneRecord => ({ id: r.id, siteId: r.siteId, name: r.name });
const gateRecord = (r: typeof gates.$inferSelect): GateRecord => ({
  id: r.id,
  siteId: r.siteId,
  zoneId: r.zoneId,
  name: r.name,
  direction: r.direction,
  lockdown: r.lockdown,
  emergency: r.emergency,
});

/**
 * Passes an edge must hold: live ones, and revoked ones until they would have
 * expired anyway — a revoked pass missing from the cache would let its static
 * QR through (SPEC CRED-5).
 */
const cachedPass = (p: typeof visitPasses.$inferSelect, now: number) => p.status !== 'expired' && p.validTo.getTime() > now;

/**
 * SYNC-1: the rules that list a zone of the site — an edge of that site gets
 * exactly their passes. Deleted rules and zones count with the zones they had:
 * their passes stay in the cache of the sites they were for (where they are
 * denied `wrong_zone`), so a static QR of such a pass never meets an edge
 * that has forgotten it (CRED-5, DEC-13).
 */
export async function siteRuleIds(db: AppContext['db'], orgId: string, siteId: string): Promise<Set<string>> {
  const siteZones = new Set(
    (
      await db
        .select({ id: zones.id })
        .from(zones)
        .where(and(eq(zones.orgId, orgId), eq(zones.siteId, siteId)))
    ).map((z) => z.id),
  );
  const rules = await db.select({ id: accessRules.id, zoneIds: accessRules.zoneIds }).from(accessRules).where(eq(accessRules.orgId, orgId));
  return new Set(rules.filter((r) => r.zoneIds.some((z) => siteZones.has(z))).map((r) => r.id));
}

/** Current records for a list of one site's changes (last write wins); missing, deleted or out-of-scope rows become deletes. */
export async function materialize(
  ctx: AppContext,
  orgId: string,
  siteId: string,
  changes: { seq: number; entity: Entity; entityId: string }[],
): Promise<Change[]> {
  const ids: Record<Entity, string[]> = { pass: [], rule: [], zone: [], gate: [], site: [], holiday: [], presence: [] };
  for (const c of changes) ids[c.entity].push(c.entityId);
  const now = Date.now();
  const found = new Map<string, Change['data']>();
  const { db } = ctx;
  const inScope = ids.pass.length || ids.rule.length ? await siteRuleIds(db, orgId, siteId) : new Set<string>();
  // A rule change brings along the rule's cached passes, at the rule change's seq: its zones may have moved them in or out.
  const fanOut: { seq: number; entity: Entity; entityId: string }[] = [];
  if (ids.rule.length) {
    const ruleSeq = new Map<string, number>();
    for (const c of changes) if (c.entity === 'rule') ruleSeq.set(c.entityId, Math.max(ruleSeq.get(c.entityId) ?? 0, c.seq));
    for (const p of await db
      .select()
      .from(visitPasses)
      .where(and(eq(visitPasses.orgId, orgId), inArray(visitPasses.accessRuleId, ids.rule), gt(visitPasses.validTo, new Date(now))))) {
      if (!cachedPass(p, now)) continue;
      fanOut.push({ seq: ruleSeq.get(p.accessRuleId) ?? 0, entity: 'pass', entityId: p.id });
      if (inScope.has(p.accessRuleId)) found.set(`pass:${p.id}`, passRecord(ctx, p));
    }
  }
  if (ids.pass.length) {
    for (const p of await db
      .select()
      .from(visitPasses)
      .where(and(eq(visitPasses.orgId, orgId), inArray(visitPasses.id, ids.pass))))
      if (cachedPass(p, now) && inScope.has(p.accessRuleId)) found.set(`pass:${p.id}`, passRecord(ctx, p));
  }
  if (ids.rule.length) {
    for (const r of await db
      .select()
      .from(accessRules)
      .where(and(eq(accessRules.orgId, orgId), inArray(accessRules.id, ids.rule), isNull(accessRules.deletedAt))))
      found.set(`rule:${r.id}`, ruleRecord(r));
  }
  if (ids.zone.length) {
    for (const z of await db
      .select()
      .from(zones)
      .where(and(eq(zones.orgId, orgId), inArray(zones.id, ids.zone), isNull(zones.deletedAt))))
      found.set(`zone:${z.id}`, zoneRecord(z));
  }
  if (ids.gate.length) {
    for (const g of await db
      .select()
      .from(gates)
      .where(and(eq(gates.orgId, orgId), inArray(gates.id, ids.gate), isNull(gates.deletedAt))))
      found.set(`gate:${g.id}`, gateRecord(g));
  }
  if (ids.site.length) {
    for (const s of await db
      .select()
      .from(sites)
      .where(and(eq(sites.orgId, orgId), inArray(sites.id, ids.site), isNull(sites.deletedAt))))
      found.set(`site:${s.id}`, siteRecord(s));
  }
  if (ids.holiday.length) {
    for (const h of await db
      .select()
      .from(siteHolidays)
      .where(
        and(
          eq(siteHolidays.orgId, orgId),
          eq(siteHolidays.siteId, siteId),
          inArray(siteHolidays.id, ids.holiday),
          isNull(siteHolidays.deletedAt),
        ),
      ))
      found.set(`holiday:${h.id}`, holidayRecord(h));
  }
  const noPresence = new Set<string>();
  if (ids.presence.length) {
    const rows = await db
      .select()
      .from(passPresence)
      .where(and(eq(passPresence.orgId, orgId), eq(passPresence.siteId, siteId), inArray(passPresence.passId, ids.presence)));
    for (const r of rows) found.set(`presence:${r.passId}`, presenceRecord(r));
    // A presence is never withdrawn (counts only grow): with no row there is nothing to say, not a delete.
    for (const id of ids.presence) if (!found.has(`presence:${id}`)) noPresence.add(id);
  }
  // One change per entity: the newest seq, carrying the current state.
  // A pass brought by a rule change is placed right after it (same seq, later in the list), so it is read with the new rule.
  const latest = new Map<string, { seq: number; entity: Entity; entityId: string; order: number }>();
  for (const [order, c] of [...changes, ...fanOut].entries()) {
    const key = `${c.entity}:${c.entityId}`;
    const had = latest.get(key);
    if (!had || had.seq <= c.seq) latest.set(key, { ...c, order });
  }
  return [...latest.values()]
    .filter((c) => !(c.entity === 'presence' && noPresence.has(c.entityId)))
    .sort((a, b) => a.seq - b.seq || a.order - b.order)
    .map((c) => {
      const data = found.get(`${c.entity}:${c.entityId}`);
      return (
        data
          ? { seq: c.seq, entity: c.entity, op: 'upsert', id: c.entityId, data }
          : { seq: c.seq, entity: c.entity, op: 'delete', id: c.entityId }
      ) as Change;
    });
}

export interface SiteSnapshot {
  site: SiteRecord | null;
  passes: PassRecord[];
  rules: RuleRecord[];
  zones: ZoneRecord[];
  gates: GateRecord[];
  /** SYNC-4: the site's calendar from yesterday (local) on; past days decide nothing. */
  holidays: HolidayRecord[];
  /** SYNC-3: the site-wide state of the cached passes, by pass id. */
  presence: Map<string, PresenceRecord>;
}

export async function siteSnapshot(ctx: AppContext, orgId: string, siteId: string): Promise<SiteSnapshot> {
  const { db } = ctx;
  const now = Date.now();
  const [site] = await db
    .select()
    .from(sites)
    .where(and(eq(sites.orgId, orgId), eq(sites.id, siteId), isNull(sites.deletedAt)));
  // 24 h back is yesterday or earlier in any zone and on any DST day: never a day too few.
  const fromDate = site ? localDate(now - 86_400_000, site.timezone) : '0000-00-00';
  const ruleIds = [...(await siteRuleIds(db, orgId, siteId))];
  const passRows = ruleIds.length
    ? await db
        .select()
        .from(visitPasses)
        .where(and(eq(visitPasses.orgId, orgId), inArray(visitPasses.accessRuleId, ruleIds), gt(visitPasses.validTo, new Date(now))))
    : [];
  const passes = passRows.filter((p) => cachedPass(p, now)).map((p) => passRecord(ctx, p));
  const cached = new Set(passes.map((p) => p.id));
  const presence = new Map<string, PresenceRecord>();
  // Only rows of passes still valid are read: a site's presence keeps every pass that ever went through it.
  for (const { r } of await db
    .select({ r: passPresence })
    .from(passPresence)
    .innerJoin(visitPasses, eq(visitPasses.id, passPresence.passId))
    .where(and(eq(passPresence.orgId, orgId), eq(passPresence.siteId, siteId), gt(visitPasses.validTo, new Date(now)))))
    if (cached.has(r.passId)) presence.set(r.passId, presenceRecord(r));
  return {
    site: site ? siteRecord(site) : null,
    passes,
    rules: (
      await db
        .select()
        .from(accessRules)
        .where(and(eq(accessRules.orgId, orgId), isNull(accessRules.deletedAt)))
    ).map(ruleRecord),
    zones: (
      await db
        .select()
        .from(zones)
        .where(and(eq(zones.orgId, orgId), eq(zones.siteId, siteId), isNull(zones.deletedAt)))
    ).map(zoneRecord),
    gates: (
      await db
        .select()
        .from(gates)
        .where(and(eq(gates.orgId, orgId), eq(gates.siteId, siteId), isNull(gates.deletedAt)))
    ).map(gateRecord),
    holidays: (
      await db
        .select()
        .from(siteHolidays)
        .where(
          and(
            eq(siteHolidays.orgId, orgId),
            eq(siteHolidays.siteId, siteId),
            isNull(siteHolidays.deletedAt),
            gte(siteHolidays.date, fromDate),
          ),
        )
        .orderBy(siteHolidays.date)
    ).map(holidayRecord),
    presence,
  };
}
