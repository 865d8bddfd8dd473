import { uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, inArray, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { AppContext, Principal } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { appointments, appointmentVisitors, hosts, type Language, sites, users, visitors, visitPasses } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { forbidden, notFound, unprocessable } from '../../lib/errors.js';
import { decodeCursor, page, pageLimit } from '../../lib/pagination.js';
import { appointmentMatches, parseSearch } from '../../lib/search.js';
import type { NameAccess } from '../checkins/service.js';
import { appointmentChanged, inviteAppointment, inviteRule } from '../invitations/service.js';
import { openUserName, openVisitorName } from '../orgs/personal-data.js';
import { emitEvent } from '../webhooks/emit.js';

const visitorIdsOf = sql<
  string[]
>`coalesce((select array_agg(${appointmentVisitors.visitorId} order by ${appointmentVisitors.visitorId}) from ${appointmentVisitors} where ${appointmentVisitors.appointmentId} = ${appointments.id}), '{}')`;
const columns = {
  id: appointments.id,
  orgId: appointments.orgId,
  hostId: appointments.hostId,
  visitorIds: visitorIdsOf,
  startsAt: appointments.startsAt,
  endsAt: appointments.endsAt,
  room: appointments.room,
  siteId: appointments.siteId,
  language: appointments.language,
  invite: appointments.invite,
  status: appointments.status,
  createdAt: appointments.createdAt,
  updatedAt: appointments.updatedAt,
};
type Row = {
  id: string;
  orgId: string;
  hostId: string;
  visitorIds: string[];
  startsAt: Date;
  endsAt: Date;
  room: string | null;
  siteId: string | null;
  language: string | null;
  invite: boolean;
  status: 'scheduled' | 'cancelled' | 'done';
  createdAt: Date;
  updatedAt: Date;
};
const d = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();
/** What a webhook receiver learns of an appointment: ids, times and state; the room (free text) and names stay here. */
const appointmentEvent = (
  r: Pick<Row, 'id' | 'hostId' | 'siteId' | 'visitorIds' | 'status' | 'invite'> & { startsAt: Date | string; endsAt: Date | string },
) => ({
  id: r.id,
  hostId: r.hostId,
  siteId: r.siteId,
  visitorIds: [...r.visitorIds].sort(),
  startsAt: d(r.startsAt),
  endsAt: d(r.endsAt),
  status: r.status,
  invite: r.invite,
});
const view = (r: Row) => ({
  ...r,
  language: r.language === 'en' || r.language === 'ru' ? (r.language as Language) : null,
  startsAt: d(r.startsAt),
  endsAt: d(r.endsAt),
  createdAt: d(r.createdAt),
  updatedAt: d(r.updatedAt),
});

async function checkRefs(
  db: Executor,
  orgId: string,
  reach: { scope: HostScope; userId: string | null },
  hostId: string | undefined,
  visitorIds: string[] | undefined,
) {
  if (hostId) {
    const [h] = await db
      .select({ id: hosts.id })
      .from(hosts)
      .where(and(eq(hosts.id, hostId), eq(hosts.orgId, orgId), isNull(hosts.deletedAt)));
    if (!h) throw unprocessable('hostId names no host of this organisation');
  }
  if (visitorIds) {
    const found = await db
      .select({ id: visitors.id })
      .from(visitors)
      // A Host books only visitors they already reach: another host's guest is as absent as another org's.
      .where(
        and(
          eq(visitors.orgId, orgId),
          inArray(visitors.id, visitorIds),
          isNull(visitors.deletedAt),
          visitorInScope(reach.scope, reach.userId),
        ),
      );
    if (found.length !== visitorIds.length) throw unprocessable('visitorIds names a visitor that does not exist');
  }
}

async function checkSite(db: Executor, orgId: string, siteId: string | null | undefined) {
  if (!siteId) return;
  const [s] = await db
    .select({ id: sites.id })
    .from(sites)
    .where(and(eq(sites.id, siteId), eq(sites.orgId, orgId), isNull(sites.deletedAt)));
  if (!s) throw unprocessable('siteId names no site of this organisation');
}

function checkTimes(startsAt: Date, endsAt: Date) {
  if (!(endsAt > startsAt)) throw unprocessable('endsAt must be after startsAt');
}

async function fetchOne(db: Executor, orgId: string, id: string) {
  const [row] = await db
    .select(columns)
    .from(appointments)
    .where(and(eq(appointments.id, id), eq(appointments.orgId, orgId), isNull(appointments.deletedAt)));
  if (!row) throw notFound('appointment');
  return row;
}

export async function createAppointment(
  ctx: AppContext,
  actor: Actor,
  scope: HostScope,
  b: {
    hostId: string;
    visitorIds: string[];
    startsAt: string;
    endsAt: string;
    room?: string | null;
    siteId?: string | null;
    language?: Language | null;
    invite?: boolean;
    accessRuleId?: string;
  },
) {
  if (!inScope(scope, b.hostId)) throw forbidden('a host books meetings for themselves only');
  const startsAt = new Date(b.startsAt);
  const endsAt = new Date(b.endsAt);
  checkTimes(startsAt, endsAt);
  return ctx.db.transaction(async (tx) => {
    await checkRefs(tx, actor.orgId, { scope, userId: actor.userId }, b.hostId, b.visitorIds);
    await checkSite(tx, actor.orgId, b.siteId);
    // Refused before anything is written: an invitation needs the rule of the passes it hands out.
    const accessRuleId = b.invite ? await inviteRule(tx, actor.orgId, scope, b.accessRuleId) : undefined;
    const id = uuidv7();
    await tx.insert(appointments).values({
      id,
      orgId: actor.orgId,
      hostId: b.hostId,
      startsAt,
      endsAt,
      room: b.room ?? null,
      siteId: b.siteId ?? null,
      language: b.language ?? null,
      createdBy: actor.userId,
      updatedBy: actor.userId,
    });
    await tx.insert(appointmentVisitors).values(
      b.visitorIds.map((visitorId) => ({
        appointmentId: id,
        visitorId,
        orgId: actor.orgId,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      })),
    );
    await writeAudit(tx, actor, { action: 'appointment.create', entityType: 'appointment', entityId: id, data: { ...b } });
    // Before the invitation's passes, so a receiver hears of the appointment before its visitpass.issued.
    await emitEvent(
      ctx,
      tx,
      actor.orgId,
      'appointment.created',
      appointmentEvent({
        id,
        hostId: b.hostId,
        siteId: b.siteId ?? null,
        visitorIds: b.visitorIds,
        startsAt,
        endsAt,
        status: 'scheduled',
        invite: !!b.invite,
      }),
    );
    // Passes and messages in this same transaction: a rolled-back appointment invites nobody.
    if (b.invite) await inviteAppointment(ctx, actor, id, { accessRuleId, scope, tx });
    return view(await fetchOne(tx, actor.orgId, id));
  });
}

/** Whose appointments a caller may touch: all of the org's, or only those of their own host record (null: none). */
export type HostScope = { any: true } | { any: false; hostId: string | null };

export async function hostScope(
  db: Executor,
  principal: Pick<Principal, 'userId' | 'permissions'> & Partial<Pick<Principal, 'app'>>,
): Promise<HostScope> {
  if (principal.permissions.has('appointments:any')) return { any: true };
  // An application's key is nobody's host: without appointments:any it reaches what a host with no meetings does.
  if (principal.app) return { any: false, hostId: null };
  const [h] = await db
    .select({ id: hosts.id })
    .from(hosts)
    .where(and(eq(hosts.userId, principal.userId), isNull(hosts.deletedAt)));
  return { any: false, hostId: h?.id ?? null };
}

// A host's scope turns another host's appointment into a 404, exactly like another org's.
const inScope = (scope: HostScope, hostId: string) => scope.any || scope.hostId === hostId;

/**
 * The visitors a scope reaches (undefined: all of the org's): for a Host, those on their own meetings
 * (seed model: Host 1—N Appointment N—M Visitor) and those they registered themselves, so a guest they
 * have just registered can be booked.
 */
export function visitorInScope(scope: HostScope, userId: string | null): SQL | undefined {
  if (scope.any) return undefined;
  const registered = userId ? eq(visitors.createdBy, userId) : sql`false`;
  if (!scope.hostId) return registered;
  return or(
    registered,
    sql`exists (select 1 from ${appointmentVisitors} join ${appointments} on ${appointments.id} = ${appointmentVisitors.appointmentId}
      where ${appointmentVisitors.visitorId} = ${visitors.id} and ${appointments.hostId} = ${scope.hostId} and ${appointments.deletedAt} is null)`,
  );
}

/** The passes a scope reaches (undefined: all of the org's): for a Host, those of their own meetings. */
export function passInScope(scope: HostScope): SQL | undefined {
  if (scope.any) return undefined;
  if (!scope.hostId) return sql`false`;
  return sql`exists (select 1 from ${appointments} where ${appointments.id} = ${visitPasses.appointmentId} and ${appointments.hostId} = ${scope.hostId} and ${appointments.deletedAt} is null)`;
}

export async function listAppointments(
  ctx: AppContext,
  orgId: string,
  scope: HostScope,
  q: { limit?: number; cursor?: string; hostId?: string; visitorId?: string; q?: string },
) {
  if (!scope.any && (!scope.hostId || (q.hostId && q.hostId !== scope.hostId))) return { items: [], nextCursor: null };
  const hostFilter = scope.any ? q.hostId : scope.hostId!;
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const term = parseSearch(ctx.sealer, q.q);
  const rows = await ctx.db
    .select(columns)
    .from(appointments)
    .where(
      and(
        eq(appointments.orgId, orgId),
        isNull(appointments.deletedAt),
        hostFilter ? eq(appointments.hostId, hostFilter) : undefined,
        q.visitorId
          ? sql`exists (select 1 from ${appointmentVisitors} where ${appointmentVisitors.appointmentId} = ${appointments.id}
              and ${appointmentVisitors.visitorId} = ${q.visitorId})`
          : undefined,
        term ? appointmentMatches(orgId, term) : undefined,
        cursor ? lt(appointments.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(appointments.id))
    .limit(pageLimit(limit + 1, term));
  return page(rows.map(view), limit);
}

type AppointmentView = ReturnType<typeof view>;

/**
 * Appointments as the console lists them: with their host's and visitors' names (sealed; opened here, for a
 * caller with hosts:read and visitors:read), read in one statement for the distinct people of all of them —
 * the console used to name them from lookups that stop at 2,000 hosts and visitors.
 */
export async function nameAppointments(
  ctx: AppContext,
  orgId: string,
  items: AppointmentView[],
  access: NameAccess,
): Promise<Array<AppointmentView & { hostName: string | null; visitorNames: string[] | null }>> {
  const visitorIds = access.visitors ? [...new Set(items.flatMap((a) => a.visitorIds))] : [];
  const hostIds = access.hosts ? [...new Set(items.map((a) => a.hostId))] : [];
  const people = new Map<string, string | null>();
  if (visitorIds.length || hostIds.length) {
    // Arrays as one parameter each: one prepared statement whatever the page holds (an IN list would be one per size).
    const rows = await ctx.db
      .select({ id: visitors.id, userId: sql<string | null>`null::uuid`, fullName: visitors.fullName, fullNameEnc: visitors.fullNameEnc })
      .from(visitors)
      .where(and(eq(visitors.orgId, orgId), sql`${visitors.id} = any(${sql.param(visitorIds)}::uuid[])`))
      .unionAll(
        ctx.db
          .select({ id: hosts.id, userId: users.id, fullName: users.fullName, fullNameEnc: users.fullNameEnc })
          .from(hosts)
          .innerJoin(users, and(eq(users.id, hosts.userId), eq(users.orgId, orgId)))
          .where(and(eq(hosts.orgId, orgId), sql`${hosts.id} = any(${sql.param(hostIds)}::uuid[])`)),
      );
    for (const r of rows)
      people.set(r.id, r.userId ? openUserName(ctx.sealer, r.userId, r.fullName, r.fullNameEnc) : openVisitorName(ctx.sealer, r.id, r));
  }
  return items.map((a) => ({
    ...a,
    hostName: access.hosts ? (people.get(a.hostId) ?? null) : null,
    visitorNames: access.visitors ? a.visitorIds.map((v) => people.get(v) ?? '') : null,
  }));
}

export async function getAppointment(ctx: AppContext, orgId: string, scope: HostScope, id: string) {
  const row = await fetchOne(ctx.db, orgId, id);
  if (!inScope(scope, row.hostId)) throw notFound('appointment');
  return view(row);
}

export async function requireAppointment(db: Executor, orgId: string, id: string) {
  return fetchOne(db, orgId, id);
}

export async function updateAppointment(
  ctx: AppContext,
  actor: Actor,
  scope: HostScope,
  id: string,
  b: {
    hostId?: string;
    visitorIds?: string[];
    startsAt?: string;
    endsAt?: string;
    room?: string | null;
    siteId?: string | null;
    language?: Language | null;
    status?: 'scheduled' | 'cancelled' | 'done';
  },
) {
  const { result, revoked } = await ctx.db.transaction(async (tx) => {
    const cur = await fetchOne(tx, actor.orgId, id);
    if (!inScope(scope, cur.hostId)) throw notFound('appointment');
    if (b.hostId && !inScope(scope, b.hostId)) throw forbidden('a host books meetings for themselves only');
    await checkRefs(tx, actor.orgId, { scope, userId: actor.userId }, b.hostId, b.visitorIds);
    await checkSite(tx, actor.orgId, b.siteId);
    const [before] = await tx.select().from(appointments).where(eq(appointments.id, id));
    const startsAt = b.startsAt ? new Date(b.startsAt) : cur.startsAt;
    const endsAt = b.endsAt ? new Date(b.endsAt) : cur.endsAt;
    checkTimes(new Date(startsAt), new Date(endsAt));
    const { visitorIds, ...rest } = b;
    await tx
      .update(appointments)
      .set({ ...rest, startsAt: new Date(startsAt), endsAt: new Date(endsAt), updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(appointments.id, id), eq(appointments.orgId, actor.orgId)));
    if (visitorIds) {
      await tx.delete(appointmentVisitors).where(eq(appointmentVisitors.appointmentId, id));
      await tx.insert(appointmentVisitors).values(
        visitorIds.map((visitorId) => ({
          appointmentId: id,
          visitorId,
          orgId: actor.orgId,
          createdBy: actor.userId,
          updatedBy: actor.userId,
        })),
      );
    }
    await writeAudit(tx, actor, { action: 'appointment.update', entityType: 'appointment', entityId: id, data: { ...b } });
    // Invited visitors hear of the change in this transaction (after the audit row: it numbers the calendar's SEQUENCE).
    const revoked = await appointmentChanged(ctx, tx, actor, before!, cur.visitorIds, visitorIds ?? cur.visitorIds);
    const after = await fetchOne(tx, actor.orgId, id);
    await emitEvent(ctx, tx, actor.orgId, 'appointment.updated', appointmentEvent(after));
    return { result: view(after), revoked };
  });
  for (const p of revoked) ctx.events.publish(actor.orgId, { type: 'pass.revoked', data: p });
  return result;
}
