/**
 * Site-wide presence (SPEC SYNC-3, DEC-11/12/16): per site and pass, what the
 * `counted` check-ins of every gate of the site imply — uses, people inside,
 * the latest in/out — kept in `pass_presence` by the ingest transaction and
 * sent to every edge of the site as a `presence` change, so a pass that went
 * in at one controller is refused a second entry at another. A guard's
 * forgiveness resets it; the muster (roll call) reads who is inside.
 */
import { stringify } from 'csv-stringify/sync';
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { gates, passPresence, sites, visitors, visitPasses, zones } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { syncChanges } from '../../sync/schema.js';
import { joinPassNames, type NameAccess, NO_SEALED_NAMES, openNames, sealedNameColumns } from '../checkins/service.js';
import { openVisitorField } from '../orgs/personal-data.js';
import { requirePass } from '../passes/service.js';
import { requireSite } from '../sites/service.js';

/** A stored check-in as presence reads it. */
export interface CountedRow {
  id: string;
  passId: string | null;
  gateId: string;
  direction: 'in' | 'out';
  occurredAt: Date;
  type: string;
  counted: boolean;
}

/** The passes whose presence at `siteId` a batch changed. */
export interface PresenceTouched {
  siteId: string;
  passIds: string[];
}

/**
 * Carries a batch's newly stored check-ins into `pass_presence`, inside the
 * ingest transaction, in one statement whatever the batch's size: only
 * `counted` events of a pass (a `no_passage` never moves anybody). Per pass:
 * uses grow by its counted entries; the latest event decides the side — but
 * only if it is newer than the stored `last_at`, because an edge that was
 * offline delivers old events late, and a guard's forgiveness (a `last_at`
 * of its own) must not be undone by an entry made before it. A non-group
 * pass is inside (1) or not (0) as its side says; a group pass counts people
 * (+1 in, −1 out, never below 0; DEC-16). The same statement appends one
 * `presence` change per touched pass for the site's edges.
 */
export async function recordPresence(
  db: Executor,
  gate: { orgId: string; siteId: string },
  rows: readonly CountedRow[],
): Promise<PresenceTouched | null> {
  const counted = rows.filter((r) => r.counted && r.passId !== null && r.type !== 'no_passage');
  if (counted.length === 0) return null;
  const col = <T>(f: (r: CountedRow) => T) => sql.param(counted.map(f));
  const org = gate.orgId;
  const site = gate.siteId;
  const result = await db.execute(sql`
    with ev as (
      select u.id, u.pass_id, u.direction, u.occurred_at, u.gate_id, g.zone_id
      from unnest(${col((r) => r.id)}::uuid[], ${col((r) => r.passId)}::uuid[], ${col((r) => r.direction)}::text[],
                  ${col((r) => r.occurredAt.toISOString())}::timestamptz[], ${col((r) => r.gateId)}::uuid[])
        as u(id, pass_id, direction, occurred_at, gate_id)
      left join gates g on g.id = u.gate_id and g.org_id = ${org}
    ),
    agg as (
      select pass_id,
             (count(*) filter (where direction = 'in'))::int as uses,
             sum(case when direction = 'in' then 1 else -1 end)::int as net,
             (array_agg(direction order by occurred_at desc, id desc))[1] as dir,
             max(occurred_at) as at,
             (array_agg(gate_id order by occurred_at desc, id desc))[1] as gate_id,
             (array_agg(zone_id order by occurred_at desc, id desc))[1] as zone_id,
             (array_agg(id order by occurred_at desc, id desc))[1] as checkin_id
      from ev group by pass_id
    ),
    up as (
      insert into pass_presence as pp
        (site_id, pass_id, org_id, use_count, inside_count, last_direction, last_at, last_gate_id, last_zone_id, last_checkin_id, updated_at)
      select ${site}, a.pass_id, ${org}, a.uses,
             case when p.type = 'group' then greatest(a.net, 0) when a.dir = 'in' then 1 else 0 end,
             a.dir, a.at, a.gate_id, a.zone_id, a.checkin_id, now()
      from agg a join visit_passes p on p.id = a.pass_id and p.org_id = ${org}
      -- One lock order for every batch, so two batches naming the same passes queue instead of deadlocking.
      order by a.pass_id
      on conflict (site_id, pass_id) do update set
        use_count = pp.use_count + excluded.use_count,
        inside_count = case
          -- A group's people add up whatever the order; only its batch's net (in the CTE) says by how much.
          when exists (select 1 from visit_passes vp where vp.id = excluded.pass_id and vp.type = 'group')
            then greatest(0, pp.inside_count + (select a2.net from agg a2 where a2.pass_id = excluded.pass_id))
          when pp.last_at is null or excluded.last_at > pp.last_at then excluded.inside_count
          else pp.inside_count end,
        last_direction = case when pp.last_at is null or excluded.last_at > pp.last_at then excluded.last_direction else pp.last_direction end,
        last_gate_id = case when pp.last_at is null or excluded.last_at > pp.last_at then excluded.last_gate_id else pp.last_gate_id end,
        last_zone_id = case when pp.last_at is null or excluded.last_at > pp.last_at then excluded.last_zone_id else pp.last_zone_id end,
        last_checkin_id = case when pp.last_at is null or excluded.last_at > pp.last_at then excluded.last_checkin_id else pp.last_checkin_id end,
        last_at = greatest(pp.last_at, excluded.last_at),
        updated_at = now()
      returning pp.pass_id
    )
    insert into sync_changes (org_id, site_id, entity, entity_id)
    select ${org}, ${site}, 'presence', pass_id from up
    returning entity_id`);
  const passIds = (result as { rows: { entity_id: string }[] }).rows.map((r) => r.entity_id);
  return passIds.length ? { siteId: site, passIds } : null;
}

/** After the commit: the site's edges hear of it at once rather than at the next sweep, and the console refreshes. */
export function announcePresence(ctx: AppContext, orgId: string, touched: PresenceTouched, cause: 'checkin' | 'forgive'): void {
  void ctx.sync?.link.sweep();
  ctx.events.publish(orgId, { type: 'presence.changed', data: { siteId: touched.siteId, passIds: touched.passIds, cause } });
}

export const presenceView = (r: typeof passPresence.$inferSelect) => ({
  siteId: r.siteId,
  passId: r.passId,
  useCount: r.useCount,
  insideCount: r.insideCount,
  lastDirection: r.lastDirection,
  lastAt: r.lastAt?.toISOString() ?? null,
  lastGateId: r.lastGateId,
  lastZoneId: r.lastZoneId,
  forgivenAt: r.forgivenAt?.toISOString() ?? null,
  forgivenBy: r.forgivenBy,
});

/**
 * A guard's forgiveness (DEC-11, SYNC-3): the pass counts as outside at that
 * site, or at every site where it has a state, from now on — its use count
 * stays. An entry made before now no longer blocks the next; one made after
 * does. Audited, and sent to the sites' edges like any presence.
 */
export async function forgivePass(ctx: AppContext, actor: Actor, passId: string, body: { siteId?: string; reason?: string }) {
  const out = await ctx.db.transaction(async (tx) => {
    await requirePass(tx, actor.orgId, passId);
    const now = new Date();
    const reset = {
      lastDirection: null,
      insideCount: 0,
      lastAt: now,
      forgivenAt: now,
      forgivenBy: actor.userId,
      updatedAt: now,
    };
    let rows: (typeof passPresence.$inferSelect)[];
    if (body.siteId) {
      await requireSite(tx, actor.orgId, body.siteId);
      // A pass with no state there yet gets one: the forgiveness still reaches edges that counted it offline.
      rows = await tx
        .insert(passPresence)
        .values({ siteId: body.siteId, passId, orgId: actor.orgId, ...reset })
        .onConflictDoUpdate({ target: [passPresence.siteId, passPresence.passId], set: reset })
        .returning();
    } else {
      rows = await tx
        .update(passPresence)
        .set(reset)
        .where(and(eq(passPresence.orgId, actor.orgId), eq(passPresence.passId, passId)))
        .returning();
    }
    if (rows.length)
      await tx
        .insert(syncChanges)
        .values(rows.map((r) => ({ orgId: actor.orgId, siteId: r.siteId, entity: 'presence' as const, entityId: passId })));
    await writeAudit(tx, actor, {
      action: 'pass.forgive',
      // Not 'pass': that entity type would re-send the whole pass to every site; the presence change above is what the edges need.
      entityType: 'pass_presence',
      entityId: passId,
      data: { siteIds: rows.map((r) => r.siteId), reason: body.reason ?? null },
    });
    return rows;
  });
  for (const r of out) announcePresence(ctx, actor.orgId, { siteId: r.siteId, passIds: [passId] }, 'forgive');
  return { passId, items: out.map(presenceView) };
}

export interface MusterQuery {
  siteId?: string;
  zoneId?: string;
}

export interface MusterItem {
  passId: string;
  visitorName: string | null;
  company: string | null;
  hostName: string | null;
  passType: 'single' | 'multi' | 'group';
  people: number;
  siteId: string;
  zoneId: string | null;
  zoneName: string | null;
  gateId: string | null;
  gateName: string | null;
  since: string;
}

/**
 * Who is inside now, from `pass_presence` alone — the one source the muster and the occupancy both read, so
 * they never disagree: every pass whose latest counted event at one of `siteIds` was an entry (someone whose
 * unlock ended in `no_passage` never counted, so is not here), with its names still sealed.
 */
async function insideNow(db: Executor, orgId: string, siteIds: readonly string[], zoneId?: string) {
  if (siteIds.length === 0) return [];
  const base = db
    .select({
      passId: passPresence.passId,
      siteId: passPresence.siteId,
      insideCount: passPresence.insideCount,
      lastAt: passPresence.lastAt,
      zoneId: passPresence.lastZoneId,
      zoneName: zones.name,
      gateId: passPresence.lastGateId,
      gateName: gates.name,
      passType: visitPasses.type,
      company: visitors.company,
      companyEnc: visitors.companyEnc,
      names: sealedNameColumns,
    })
    .from(passPresence)
    // Every join is org-scoped: a presence row names only its own organisation's pass, people and places.
    .innerJoin(visitPasses, and(eq(visitPasses.id, passPresence.passId), eq(visitPasses.orgId, orgId)))
    .$dynamic();
  return joinPassNames(base, orgId)
    .leftJoin(zones, and(eq(zones.id, passPresence.lastZoneId), eq(zones.orgId, orgId)))
    .leftJoin(gates, and(eq(gates.id, passPresence.lastGateId), eq(gates.orgId, orgId)))
    .where(
      and(
        eq(passPresence.orgId, orgId),
        eq(passPresence.lastDirection, 'in'),
        inArray(passPresence.siteId, [...siteIds]),
        zoneId ? eq(passPresence.lastZoneId, zoneId) : undefined,
      ),
    );
}

/** A group pass stands for the people it let in (DEC-16); any other pass inside, for one. */
const peopleOf = (r: { insideCount: number }) => Math.max(1, r.insideCount);

/**
 * The muster (issue item 8): who is inside now (`insideNow`), with how many people each pass stands for,
 * where they went in, and their names as far as the caller may read them. Per site, the totals by zone.
 * Sorted by site, zone, then name, for a roll call.
 */
export async function muster(ctx: AppContext, orgId: string, q: MusterQuery, access: NameAccess) {
  if (q.siteId) await requireSite(ctx.db, orgId, q.siteId);
  const siteRows = await ctx.db
    .select({ id: sites.id, name: sites.name, mode: sites.mode })
    .from(sites)
    .where(and(eq(sites.orgId, orgId), isNull(sites.deletedAt), q.siteId ? eq(sites.id, q.siteId) : undefined))
    .orderBy(asc(sites.name), asc(sites.id));
  const rows = await insideNow(
    ctx.db,
    orgId,
    siteRows.map((s) => s.id),
    q.zoneId,
  );
  const items: MusterItem[] = rows.map((r) => {
    const names = openNames(ctx.sealer, r.names ?? NO_SEALED_NAMES, access);
    return {
      passId: r.passId,
      visitorName: names.visitorName,
      company:
        access.visitors && r.names?.visitorId ? openVisitorField(ctx.sealer, r.names.visitorId, 'company', r.companyEnc, r.company) : null,
      hostName: names.hostName,
      passType: r.passType,
      people: peopleOf(r),
      siteId: r.siteId,
      zoneId: r.zoneId,
      zoneName: r.zoneName,
      gateId: r.gateId,
      gateName: r.gateName,
      since: (r.lastAt ?? new Date(0)).toISOString(),
    };
  });
  const siteOrder = new Map(siteRows.map((s, i) => [s.id, i]));
  const text = (s: string | null) => s ?? '\uffff';
  items.sort(
    (a, b) =>
      (siteOrder.get(a.siteId) ?? 0) - (siteOrder.get(b.siteId) ?? 0) ||
      text(a.zoneName).localeCompare(text(b.zoneName)) ||
      text(a.visitorName).localeCompare(text(b.visitorName)) ||
      a.passId.localeCompare(b.passId),
  );
  const summary = siteRows.map((s) => {
    const here = items.filter((i) => i.siteId === s.id);
    const byZone = new Map<string | null, { zoneId: string | null; zoneName: string | null; count: number }>();
    for (const i of here) {
      const z = byZone.get(i.zoneId) ?? { zoneId: i.zoneId, zoneName: i.zoneName, count: 0 };
      z.count += i.people;
      byZone.set(i.zoneId, z);
    }
    return {
      siteId: s.id,
      siteName: s.name,
      mode: s.mode,
      total: here.reduce((n, i) => n + i.people, 0),
      zones: [...byZone.values()],
    };
  });
  return { generatedAt: new Date().toISOString(), sites: summary, items };
}

/**
 * GET /sites/:id/occupancy: who is on the site now, newest entry first — the muster's answer for one
 * site (`insideNow`), in the occupancy's shape; `count` is the people inside, the muster's total.
 */
export async function occupancy(ctx: AppContext, orgId: string, siteId: string, access: NameAccess) {
  await requireSite(ctx.db, orgId, siteId);
  const rows = await insideNow(ctx.db, orgId, [siteId]);
  rows.sort((a, b) => (b.lastAt?.getTime() ?? 0) - (a.lastAt?.getTime() ?? 0) || b.passId.localeCompare(a.passId));
  const items = rows.map((r) => ({
    passId: r.passId,
    visitorId: r.names?.visitorId ?? null,
    visitorName: openNames(ctx.sealer, r.names ?? NO_SEALED_NAMES, access).visitorName,
    // An entry always names its gate (recordPresence sets the side and the gate together).
    gateId: r.gateId!,
    since: (r.lastAt ?? new Date(0)).toISOString(),
  }));
  return { siteId, count: rows.reduce((n, r) => n + peopleOf(r), 0), items };
}

/**
 * The muster as CSV for a printed roll call: UTF-8 with a byte-order mark (so
 * Excel reads Cyrillic names right), one row per pass, and any cell a
 * spreadsheet would run as a formula (= + - @) defused by csv-stringify.
 */
export function musterCsv(m: Awaited<ReturnType<typeof muster>>): string {
  const siteNames = new Map(m.sites.map((s) => [s.siteId, s.siteName]));
  const body = stringify(
    m.items.map((i) => [
      siteNames.get(i.siteId) ?? '',
      i.zoneName ?? '',
      i.visitorName ?? '',
      i.company ?? '',
      i.hostName ?? '',
      i.passType,
      i.people,
      i.gateName ?? '',
      i.since,
      i.passId,
    ]),
    {
      header: true,
      columns: ['site', 'zone', 'visitor', 'company', 'host', 'pass type', 'people', 'entered at gate', 'since', 'pass id'],
      escape_formulas: true,
      record_delimiter: 'windows',
    },
  );
  return `\ufeff${body}`;
}
