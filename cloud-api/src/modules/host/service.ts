/**
 * The host portal (issue 12 item 5): a Host's own visits with each guest's
 * journey, inviting guests in one request, cancelling a visit and sending an
 * invitation again.
 *
 * "Own" means the caller's host record, whatever else their roles allow: an
 * OrgAdmin in the portal sees their own meetings, not everyone's (the admin
 * screens are for that). Another host's visit is a 404, like another org's.
 *
 * Sending is not done here: the appointments service (extended by the
 * invitations module) issues the passes and queues the messages, and the
 * invitations module resends one; this module only decides who may ask.
 */
import { and, asc, desc, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { AppContext, Principal } from '../../context.js';
import type { Db, Executor } from '../../db/client.js';
import { appointments, appointmentVisitors, hosts, sites, visitors, visitPasses } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { badRequest, conflict, notFound, unprocessable } from '../../lib/errors.js';
import { pageLimit } from '../../lib/pagination.js';
import { createAppointment, type HostScope, updateAppointment } from '../appointments/service.js';
import { invitePass } from '../invitations/service.js';
import { maskRecipient } from '../notifications/outbox.js';
import { openVisitorField } from '../orgs/personal-data.js';
import { getOrgSettings } from '../orgs/settings.js';
import { requireSite } from '../sites/service.js';
import { createVisitor } from '../visitors/service.js';
import type { GuestState } from './schema.js';

type Language = 'en' | 'ru';

type PassRow = typeof visitPasses.$inferSelect;

export interface HostGuestView {
  visitorId: string;
  name: string;
  company: string | null;
  email: string | null;
  passId: string | null;
  state: GuestState;
  stateAt: string | null;
}

export interface HostVisitView {
  id: string;
  site: { id: string; name: string; timezone: string } | null;
  room: string | null;
  startsAt: string;
  endsAt: string;
  status: 'scheduled' | 'cancelled' | 'done';
  language: Language | null;
  guests: HostGuestView[];
}

/** The caller's own host record, or null (a user without one has no visits and cannot invite). */
export async function ownHostId(db: Executor, principal: Pick<Principal, 'userId' | 'orgId'>): Promise<string | null> {
  const [h] = await db
    .select({ id: hosts.id })
    .from(hosts)
    .where(and(eq(hosts.userId, principal.userId), eq(hosts.orgId, principal.orgId), isNull(hosts.deletedAt)));
  return h?.id ?? null;
}

/** The portal's scope for the appointments service: only the caller's own host, never `any`. */
const ownScope = (hostId: string | null): HostScope => ({ any: false, hostId });

/**
 * The state a pass shows: revoked first (nothing after it matters), then the
 * furthest step reached. Steps are read from the latest down, so a guest who
 * arrived without ever opening the link (a printed badge) is still "arrived".
 */
export function guestState(p: PassRow | undefined): { state: GuestState; at: Date | null } {
  if (!p) return { state: 'not_invited', at: null };
  if (p.status === 'revoked') return { state: 'revoked', at: p.revokedAt };
  if (p.leftAt) return { state: 'left', at: p.leftAt };
  if (p.arrivedAt) return { state: 'arrived', at: p.arrivedAt };
  if (p.signedInAt) return { state: 'signed_in', at: p.signedInAt };
  if (p.linkOpenedAt) return { state: 'link_opened', at: p.linkOpenedAt };
  if (p.invitedAt) return { state: 'invited', at: p.invitedAt };
  return { state: 'not_invited', at: null };
}

// Cursor of a list ordered by (startsAt, id): both, so visits at the same minute page without loss or repeat.
function encodeCursor(startsAt: Date, id: string): string {
  return Buffer.from(`${startsAt.toISOString()}|${id}`).toString('base64url');
}
function decodeVisitCursor(cursor: string | undefined): { startsAt: Date; id: string } | null {
  if (!cursor) return null;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const startsAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(startsAt.getTime())) throw badRequest('invalid cursor');
  return { startsAt, id };
}

type AppointmentRow = Pick<typeof appointments.$inferSelect, 'id' | 'siteId' | 'room' | 'startsAt' | 'endsAt' | 'status' | 'language'> & {
  siteName: string | null;
  siteTimezone: string | null;
};

const appointmentColumns = {
  id: appointments.id,
  siteId: appointments.siteId,
  room: appointments.room,
  startsAt: appointments.startsAt,
  endsAt: appointments.endsAt,
  status: appointments.status,
  language: appointments.language,
  siteName: sites.name,
  siteTimezone: sites.timezone,
};

/** The guests of these appointments with their latest pass each, in one query per table. */
async function views(ctx: AppContext, orgId: string, rows: AppointmentRow[]): Promise<HostVisitView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const guests = await ctx.db
    .select({
      appointmentId: appointmentVisitors.appointmentId,
      id: visitors.id,
      fullName: visitors.fullName,
      fullNameEnc: visitors.fullNameEnc,
      email: visitors.email,
      emailEnc: visitors.emailEnc,
      company: visitors.company,
      companyEnc: visitors.companyEnc,
    })
    .from(appointmentVisitors)
    .innerJoin(visitors, and(eq(visitors.id, appointmentVisitors.visitorId), eq(visitors.orgId, orgId)))
    .where(and(inArray(appointmentVisitors.appointmentId, ids), eq(appointmentVisitors.orgId, orgId)))
    .orderBy(asc(appointmentVisitors.appointmentId), asc(visitors.id));
  const passes = await ctx.db
    .select()
    .from(visitPasses)
    .where(and(eq(visitPasses.orgId, orgId), inArray(visitPasses.appointmentId, ids)))
    // Latest first: a visitor given a second pass for the same visit is shown by the newer one.
    .orderBy(desc(visitPasses.id));
  const passOf = new Map<string, PassRow>();
  for (const p of passes) {
    const key = `${p.appointmentId}|${p.visitorId}`;
    if (!passOf.has(key)) passOf.set(key, p);
  }
  const s = ctx.sealer;
  return rows.map((r) => ({
    id: r.id,
    site: r.siteId && r.siteName && r.siteTimezone ? { id: r.siteId, name: r.siteName, timezone: r.siteTimezone } : null,
    room: r.room,
    startsAt: r.startsAt.toISOString(),
    endsAt: r.endsAt.toISOString(),
    status: r.status,
    language: r.language === 'en' || r.language === 'ru' ? r.language : null,
    guests: guests
      .filter((g) => g.appointmentId === r.id)
      .map((g) => {
        const pass = passOf.get(`${r.id}|${g.id}`);
        const { state, at } = guestState(pass);
        const email = openVisitorField(s, g.id, 'email', g.emailEnc, g.email);
        return {
          visitorId: g.id,
          name: openVisitorField(s, g.id, 'full_name', g.fullNameEnc, g.fullName) ?? '',
          company: openVisitorField(s, g.id, 'company', g.companyEnc, g.company),
          email: email ? maskRecipient('email', email) : null,
          passId: pass?.id ?? null,
          state,
          stateAt: at ? at.toISOString() : null,
        };
      }),
  }));
}

function selectAppointments(db: Executor, where: SQL | undefined) {
  return db
    .select(appointmentColumns)
    .from(appointments)
    .leftJoin(sites, eq(sites.id, appointments.siteId))
    .where(and(isNull(appointments.deletedAt), where));
}

/** The caller's own visits from `from` (default: a day ago, so today's finished meetings stay in view), by start time. */
export async function listHostVisits(
  ctx: AppContext,
  principal: Pick<Principal, 'userId' | 'orgId'>,
  q: { from?: string; to?: string; limit?: number; cursor?: string },
): Promise<{ items: HostVisitView[]; nextCursor: string | null }> {
  const hostId = await ownHostId(ctx.db, principal);
  if (!hostId) return { items: [], nextCursor: null };
  const limit = q.limit ?? 50;
  const from = q.from ? new Date(q.from) : new Date(Date.now() - 86_400_000);
  const cursor = decodeVisitCursor(q.cursor);
  const rows = await selectAppointments(
    ctx.db,
    and(
      eq(appointments.orgId, principal.orgId),
      eq(appointments.hostId, hostId),
      sql`${appointments.startsAt} >= ${from.toISOString()}::timestamptz`,
      q.to ? sql`${appointments.startsAt} < ${new Date(q.to).toISOString()}::timestamptz` : undefined,
      cursor
        ? sql`(${appointments.startsAt}, ${appointments.id}) > (${cursor.startsAt.toISOString()}::timestamptz, ${cursor.id}::uuid)`
        : undefined,
    ),
  )
    .orderBy(asc(appointments.startsAt), asc(appointments.id))
    .limit(pageLimit(limit + 1));
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    items: await views(ctx, principal.orgId, shown),
    nextCursor: rows.length > limit && last ? encodeCursor(last.startsAt, last.id) : null,
  };
}

/** One of the caller's own visits; another host's (or another org's, or none) is a 404. */
export async function getHostVisit(ctx: AppContext, principal: Pick<Principal, 'userId' | 'orgId'>, id: string): Promise<HostVisitView> {
  const hostId = await ownHostId(ctx.db, principal);
  const [row] = hostId
    ? await selectAppointments(
        ctx.db,
        and(eq(appointments.id, id), eq(appointments.orgId, principal.orgId), eq(appointments.hostId, hostId)),
      )
    : [];
  if (!row) throw notFound('visit');
  const [view] = await views(ctx, principal.orgId, [row]);
  return view!;
}

export interface InvitationInput {
  startsAt: string;
  endsAt: string;
  siteId?: string | null;
  room?: string | null;
  language?: Language | null;
  guests: { fullName: string; email?: string | null; phone?: string | null; company?: string | null }[];
}

/**
 * Registers the guests, books the visit for the caller's host with the
 * organisation's rule of host invitations, and has the invitations sent — all
 * in one transaction, so a refused visit leaves no stray visitors behind.
 *
 * Phone numbers: a Host lacks `visitors:pii` (they never read a guest's phone
 * or document number), yet may invite by phone. The number the host typed is
 * stored sealed as the visitor's phone, so the SMS invitation and the guest's
 * one-time code can reach it; it is never in any answer of the portal, and
 * the host still cannot read it back through /api/admin/visitors.
 */
export async function inviteGuests(
  ctx: AppContext,
  actor: Actor & { userId: string },
  principal: Pick<Principal, 'userId' | 'orgId'>,
  b: InvitationInput,
): Promise<HostVisitView> {
  const bad = b.guests.findIndex((g) => !g.email && !g.phone);
  if (bad >= 0) throw unprocessable(`guests/${bad} needs an email or a phone: the invitation has to reach them`);
  if (!(new Date(b.endsAt) > new Date(b.startsAt))) throw unprocessable('endsAt must be after startsAt');
  const hostId = await ownHostId(ctx.db, principal);
  if (!hostId) throw unprocessable('your account has no host record: an administrator has to make you a host first');
  const settings = await getOrgSettings(ctx.db, actor.orgId);
  if (!settings.hostInviteRuleId) throw unprocessable('an administrator has not chosen the access rule for host invitations');
  if (b.siteId) await requireSite(ctx.db, actor.orgId, b.siteId).catch(() => Promise.reject(unprocessable('siteId names no site')));
  const appointmentId = await ctx.db.transaction(async (tx) => {
    // The services open their own transactions; given this one they nest in it (savepoints) and commit with it.
    const inTx: AppContext = { ...ctx, db: tx as unknown as Db };
    const visitorIds: string[] = [];
    for (const g of b.guests) {
      const v = await createVisitor(
        inTx,
        actor,
        // pii: true for the write only (see above); the answer of createVisitor is not passed on.
        { scope: ownScope(hostId), userId: actor.userId, pii: true },
        { fullName: g.fullName, email: g.email ?? null, phone: g.phone ?? null, company: g.company ?? null },
      );
      visitorIds.push(v.id);
    }
    const booking = {
      hostId,
      visitorIds,
      startsAt: b.startsAt,
      endsAt: b.endsAt,
      room: b.room ?? null,
      siteId: b.siteId ?? null,
      language: b.language ?? null,
      invite: true,
      accessRuleId: settings.hostInviteRuleId!,
    };
    const appointment = await createAppointment(inTx, actor, ownScope(hostId), booking);
    await writeAudit(tx, actor, {
      action: 'host.invite',
      entityType: 'appointment',
      entityId: appointment.id,
      // Counts and choices, never the guests' names or addresses (they are sealed for a reason).
      data: {
        guests: b.guests.length,
        byEmail: b.guests.filter((g) => g.email).length,
        byPhone: b.guests.filter((g) => g.phone).length,
        siteId: b.siteId ?? null,
        language: b.language ?? null,
      },
    });
    return appointment.id;
  });
  return getHostVisit(ctx, principal, appointmentId);
}

/** Cancels one of the caller's own visits through the appointments service (which tells the invited guests). */
export async function cancelHostVisit(
  ctx: AppContext,
  actor: Actor,
  principal: Pick<Principal, 'userId' | 'orgId'>,
  id: string,
): Promise<HostVisitView> {
  const visit = await getHostVisit(ctx, principal, id);
  if (visit.status === 'cancelled') throw conflict('the visit is already cancelled');
  await updateAppointment(ctx, actor, ownScope(await ownHostId(ctx.db, principal)), id, { status: 'cancelled' });
  return getHostVisit(ctx, principal, id);
}

/** Sends a guest's invitation again (a lost e-mail, a new phone): their pass on this visit must still be live. */
export async function resendInvitation(
  ctx: AppContext,
  actor: Actor,
  principal: Pick<Principal, 'userId' | 'orgId'>,
  id: string,
  visitorId: string,
): Promise<HostVisitView> {
  const visit = await getHostVisit(ctx, principal, id);
  const guest = visit.guests.find((g) => g.visitorId === visitorId);
  if (!guest) throw notFound('guest');
  if (visit.status === 'cancelled') throw conflict('the visit is cancelled');
  if (!guest.passId) throw conflict('this guest has no pass on this visit to send');
  if (guest.state === 'revoked') throw conflict('this guest’s pass is revoked');
  // The host's scope again, as the admin route would: only a pass of their own meeting.
  await invitePass(ctx, actor, guest.passId, { scope: ownScope(await ownHostId(ctx.db, principal)) });
  await writeAudit(ctx.db, actor, {
    action: 'host.resend',
    entityType: 'appointment',
    entityId: id,
    data: { visitorId, passId: guest.passId },
  });
  return getHostVisit(ctx, principal, id);
}
