/**
 * Arrival (issue 12 item 6): when a pass of an appointment is first admitted
 * inward at any gate, its `arrived_at` is set and the appointment's host is
 * told — who, which gate, when — on each channel they chose; an admitted
 * outward passage after that sets `left_at` (no message), and coming back in
 * clears it again.
 *
 * Exactly one message per arrival, whatever the delivery: the claim is
 * `update … set arrived_at … where arrived_at is null returning`, and the
 * messages are written (`notify`, which enqueues their delivery) in that same
 * transaction. Two instances handling the same check-in (a batch redelivered
 * at QoS 1, a shared subscription) meet on the row lock: the second finds
 * arrived_at set and claims nothing; a rollback leaves neither the mark nor a
 * message.
 *
 * Ingestion pays for this only when a batch holds something that may move a
 * journey: the insert already read each new row's pass journey (one query per
 * batch with passes, checkins/service.ts `insertCheckins`, which the guard
 * view's names need anyway), so most batches — denied attempts, passes without
 * an appointment, visitors already in — cost nothing more here. The journey
 * statements and the host's messages run only for the few that remain, and
 * never a query per check-in.
 */
import type { CheckinEvent } from '@gatehouse/protocol';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { appointments, gates, hosts, sites, users, visitors, visitPasses } from '../../db/schema.js';
import { formatTime, pickLanguage } from '../../lib/i18n.js';
import type { StoredCheckin } from '../checkins/service.js';
import { type HostRecipient, hostRecipients } from '../host/preferences.js';
import { notify } from '../notifications/outbox.js';
import { openVisitorName } from '../orgs/personal-data.js';
import { getOrgSettings } from '../orgs/settings.js';

/** An admitted check-in of a pass that belongs to an appointment. */
export interface JourneyMove {
  checkinId: string;
  passId: string;
  gateId: string;
  direction: 'in' | 'out';
  occurredAt: Date;
}

/** An arrival this call claimed (and told the host of). */
export interface Arrival {
  passId: string;
  checkinId: string;
  appointmentId: string;
  hostUserId: string;
  occurredAt: Date;
  /** The messages written: one per recipient (notifications ids). */
  notificationIds: string[];
}

export interface JourneyResult {
  arrivals: Arrival[];
  /** Passes whose left_at was set or cleared. */
  moved: string[];
}

/**
 * The moves among just-stored check-ins that may change a journey: admitted,
 * with a pass of an appointment, and not known to change nothing (an entry of
 * a visitor already in, an exit older than the one recorded).
 */
export function journeyMoves(stored: readonly StoredCheckin[]): JourneyMove[] {
  const out: JourneyMove[] = [];
  for (const { row, journey } of stored) {
    if (!row.allow || !row.passId || !journey?.appointmentId) continue;
    const inside = journey.arrivedAt !== null && journey.leftAt === null;
    if (row.direction === 'in' && inside) continue;
    if (row.direction === 'out' && journey.leftAt !== null && journey.leftAt >= row.occurredAt) continue;
    out.push({ checkinId: row.id, passId: row.passId, gateId: row.gateId, direction: row.direction, occurredAt: row.occurredAt });
  }
  return out;
}

/**
 * The moves of events that were already stored (a batch delivered again):
 * read back from the stored rows, never from the event's claims, so a
 * delivery that was stored but not carried through — the instance stopped
 * between the insert and the journey — is carried through now. One query, and
 * only when a batch had duplicates (rare: redeliveries).
 */
export async function storedMoves(db: Executor, orgId: string, events: readonly CheckinEvent[]): Promise<JourneyMove[]> {
  const ids = events.filter((e) => e.allow && e.passId).map((e) => e.id);
  if (ids.length === 0) return [];
  const result = await db.execute(sql`
    select c.id, c.pass_id, c.gate_id, c.direction, c.occurred_at
    from checkins c
    join visit_passes p on p.id = c.pass_id and p.org_id = ${orgId}
    where c.id = any(${sql.param(ids)}::uuid[]) and c.org_id = ${orgId} and c.allow and p.appointment_id is not null
      and (p.arrived_at is null or p.left_at is not null or c.direction = 'out')`);
  return (result as { rows: Record<string, unknown>[] }).rows.map((r) => ({
    checkinId: String(r.id),
    passId: String(r.pass_id),
    gateId: String(r.gate_id),
    direction: r.direction === 'out' ? 'out' : 'in',
    occurredAt: visitPasses.arrivedAt.mapFromDriverValue(r.occurred_at as string) as Date,
  }));
}

/**
 * Per pass, the move that wins by time: the first entry (arrival) or the last move (in or out).
 * In pass id order, so two transactions updating the same passes lock them in the same order (no deadlock).
 */
function byPass(moves: readonly JourneyMove[], pick: (a: JourneyMove, b: JourneyMove) => boolean): JourneyMove[] {
  const m = new Map<string, JourneyMove>();
  for (const x of moves) {
    const had = m.get(x.passId);
    if (!had || pick(x, had)) m.set(x.passId, x);
  }
  return [...m.values()].sort((a, b) => (a.passId < b.passId ? -1 : a.passId > b.passId ? 1 : 0));
}

const times = (ms: readonly JourneyMove[]) => sql.param(ms.map((m) => m.occurredAt.toISOString()));

/**
 * Carries the moves into the passes' journeys and tells the hosts of the
 * arrivals, in one transaction (see the top of this file).
 */
export async function recordJourney(ctx: AppContext, orgId: string, moves: readonly JourneyMove[]): Promise<JourneyResult> {
  if (moves.length === 0) return { arrivals: [], moved: [] };
  return ctx.db.transaction(async (tx) => {
    const firsts = byPass(
      moves.filter((m) => m.direction === 'in'),
      (a, b) => a.occurredAt < b.occurredAt,
    );
    let claimed: { passId: string; checkinId: string }[] = [];
    if (firsts.length) {
      // The claim: only the statement that finds arrived_at null sets it, so only its caller tells the host.
      const r = await tx.execute(sql`
        update visit_passes p set arrived_at = a.occurred_at
        from unnest(${sql.param(firsts.map((m) => m.passId))}::uuid[], ${sql.param(firsts.map((m) => m.checkinId))}::uuid[],
                    ${times(firsts)}::timestamptz[]) as a(pass_id, checkin_id, occurred_at)
        where p.id = a.pass_id and p.org_id = ${orgId} and p.appointment_id is not null and p.arrived_at is null
        returning p.id as pass_id, a.checkin_id`);
      claimed = (r as { rows: { pass_id: string; checkin_id: string }[] }).rows.map((x) => ({
        passId: String(x.pass_id),
        checkinId: String(x.checkin_id),
      }));
    }
    // Leaving and coming back: the latest admitted move of each pass says whether the visitor is out
    // (left_at = its time) or in again (left_at cleared) — unless the journey already knows a later one.
    // A pass claimed just now whose latest move is that entry has nothing more to change (left_at is null until it arrived).
    const arrived = new Set(claimed.map((c) => c.passId));
    const lasts = byPass(moves, (a, b) => a.occurredAt > b.occurredAt).filter((m) => m.direction === 'out' || !arrived.has(m.passId));
    const r =
      lasts.length === 0
        ? { rows: [] }
        : await tx.execute(sql`
      update visit_passes p set left_at = case when a.direction = 'out' then a.occurred_at end
      from unnest(${sql.param(lasts.map((m) => m.passId))}::uuid[], ${sql.param(lasts.map((m) => m.direction))}::text[],
                  ${times(lasts)}::timestamptz[]) as a(pass_id, direction, occurred_at)
      where p.id = a.pass_id and p.org_id = ${orgId} and p.appointment_id is not null
        and p.arrived_at is not null and p.arrived_at <= a.occurred_at
        and ((a.direction = 'out' and (p.left_at is null or p.left_at < a.occurred_at))
          or (a.direction = 'in' and p.left_at is not null and p.left_at < a.occurred_at))
      returning p.id`);
    const moved = (r as { rows: { id: string }[] }).rows.map((x) => String(x.id));
    const arrivals = claimed.length ? await tellHosts(ctx, tx, orgId, claimed, moves) : [];
    return { arrivals, moved };
  });
}

/** Who the host is told of, and where: one query for the passes (visitor, host), one for the gates (site, clock). */
async function tellHosts(
  ctx: AppContext,
  tx: Executor,
  orgId: string,
  claimed: readonly { passId: string; checkinId: string }[],
  moves: readonly JourneyMove[],
): Promise<Arrival[]> {
  const byCheckin = new Map(moves.map((m) => [m.checkinId, m]));
  const passRows = await tx
    .select({
      passId: visitPasses.id,
      appointmentId: visitPasses.appointmentId,
      visitorId: visitors.id,
      visitorNameEnc: visitors.fullNameEnc,
      visitorName: visitors.fullName,
      hostUserId: users.id,
      hostLanguage: users.language,
    })
    .from(visitPasses)
    .innerJoin(visitors, and(eq(visitors.id, visitPasses.visitorId), eq(visitors.orgId, orgId)))
    .innerJoin(appointments, and(eq(appointments.id, visitPasses.appointmentId), eq(appointments.orgId, orgId)))
    .innerJoin(hosts, and(eq(hosts.id, appointments.hostId), eq(hosts.orgId, orgId)))
    // A host whose account is gone or disabled is told nothing (the arrival is still recorded).
    .innerJoin(users, and(eq(users.id, hosts.userId), eq(users.orgId, orgId), isNull(users.deletedAt), eq(users.status, 'active')))
    .where(
      and(
        eq(visitPasses.orgId, orgId),
        inArray(
          visitPasses.id,
          claimed.map((c) => c.passId),
        ),
      ),
    );
  if (passRows.length === 0) return [];
  const gateIds = [...new Set(claimed.map((c) => byCheckin.get(c.checkinId)?.gateId).filter((g): g is string => !!g))];
  const gateRows = await tx
    .select({ id: gates.id, name: gates.name, siteName: sites.name, timezone: sites.timezone })
    .from(gates)
    .innerJoin(sites, eq(sites.id, gates.siteId))
    .where(and(eq(gates.orgId, orgId), inArray(gates.id, gateIds)));
  const gateOf = new Map(gateRows.map((g) => [g.id, g]));
  const settings = await getOrgSettings(tx, orgId);
  const recipients = new Map<string, HostRecipient[]>();
  const out: Arrival[] = [];
  for (const c of claimed) {
    const p = passRows.find((x) => x.passId === c.passId);
    const move = byCheckin.get(c.checkinId);
    if (!p || !move || !p.appointmentId) continue;
    const gate = gateOf.get(move.gateId);
    let to = recipients.get(p.hostUserId);
    if (!to) {
      to = await hostRecipients(ctx, tx, p.hostUserId);
      recipients.set(p.hostUserId, to);
    }
    const language = pickLanguage(p.hostLanguage, settings.defaultLanguage);
    const vars = {
      visitorName: openVisitorName(ctx.sealer, p.visitorId, { fullName: p.visitorName, fullNameEnc: p.visitorNameEnc }),
      gateName: gate?.name ?? '',
      siteName: gate?.siteName ?? '',
      // The site's clock: the host reads it against the time at the gate their guest walked through.
      when: formatTime(move.occurredAt, language, gate?.timezone ?? 'UTC'),
    };
    const notificationIds: string[] = [];
    for (const r of to) {
      notificationIds.push(
        await notify(ctx, tx, {
          orgId,
          channel: r.channel,
          to: r.to,
          template: 'arrival',
          language,
          vars,
          userId: p.hostUserId,
          passId: p.passId,
          appointmentId: p.appointmentId,
          actorId: null,
        }),
      );
    }
    out.push({
      passId: p.passId,
      checkinId: c.checkinId,
      appointmentId: p.appointmentId,
      hostUserId: p.hostUserId,
      occurredAt: move.occurredAt,
      notificationIds,
    });
  }
  return out;
}
