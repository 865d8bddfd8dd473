/**
 * Invitations (issue 12 item 3): what a visitor is sent about their visit —
 * the invitation with its .ics and guest link, an update when the time, place
 * or host changes, a cancellation, a notice when their pass is revoked, and a
 * reminder before the visit.
 *
 * Every message goes out through `notify()` in the transaction of the change
 * that causes it, so a rolled-back appointment sends nothing and a committed
 * one loses nothing. The channels of later messages are those the invitation
 * went out on (the message log keeps them in clear); the address is read from
 * the visitor at the time of sending.
 */
import { and, asc, count, desc, eq, gt, inArray, isNotNull, isNull, ne } from 'drizzle-orm';
import ical, { ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import {
  accessRules,
  appointments,
  appointmentVisitors,
  auditLogs,
  type Channel,
  hosts,
  type Language,
  notifications,
  sites,
  users,
  visitors,
  visitPasses,
  zones,
} from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { conflict, forbidden, notFound, unprocessable } from '../../lib/errors.js';
import { formatDateTime, formatTime, translator } from '../../lib/i18n.js';
import type { HostScope } from '../appointments/service.js';
import { type Attachment, maskRecipient, notify, type TemplateKey } from '../notifications/outbox.js';
import { openUser, openVisitorField, userPersonalColumns, visitorAad } from '../orgs/personal-data.js';
import { getOrgSettings, type OrgSettings } from '../orgs/settings.js';
import { effectiveStatus, issuePassIn, type passView, requirePass, revokePassIn } from '../passes/service.js';

export const REMINDER_QUEUE = 'invitation.reminder';

/** The reminder job: the appointment, and the start it was scheduled for (a moved visit's old job does nothing). */
export interface ReminderJob {
  orgId: string;
  appointmentId: string;
  startsAt: string;
}

/** An invited visitor's pass opens half an hour either side of the meeting. */
const MARGIN_MS = 30 * 60_000;

type ApptRow = typeof appointments.$inferSelect;
type PassRow = typeof visitPasses.$inferSelect;

interface Contact {
  name: string;
  email: string | null;
  phone: string | null;
}

export interface SentMessage {
  id: string;
  channel: Channel;
  /** Masked address. */
  to: string;
}

export interface InviteResult {
  passes: Array<{ visitorId: string; passId: string; guestUrl: string }>;
  messages: number;
  /** Visitors with no address on any asked channel: their pass exists, no message went out. */
  unreachable: string[];
}

async function contactOf(ctx: AppContext, db: Executor, orgId: string, visitorId: string): Promise<Contact> {
  const [v] = await db
    .select()
    .from(visitors)
    .where(and(eq(visitors.id, visitorId), eq(visitors.orgId, orgId)));
  if (!v) throw notFound('visitor');
  return {
    name: openVisitorField(ctx.sealer, v.id, 'full_name', v.fullNameEnc, v.fullName) ?? '',
    email: openVisitorField(ctx.sealer, v.id, 'email', v.emailEnc, v.email),
    phone: ctx.sealer.openNullable(v.phoneEnc, visitorAad(v.id, 'phone')),
  };
}

function addressFor(channel: Channel, c: Contact): string | null {
  if (channel === 'email') return c.email;
  if (channel === 'sms') return c.phone;
  // A visitor has no Telegram chat or push subscription: those channels are for hosts.
  return null;
}

/** CONTRACT: e-mail by default; a visitor with only a phone gets an SMS. */
function defaultChannels(c: Contact): Channel[] {
  if (c.email) return ['email'];
  if (c.phone) return ['sms'];
  return [];
}

/** The channels the visitor's invitation went out on: later messages follow them. */
async function invitedChannels(db: Executor, orgId: string, passId: string, c: Contact): Promise<Channel[]> {
  const rows = await db
    .selectDistinct({ channel: notifications.channel })
    .from(notifications)
    .where(and(eq(notifications.orgId, orgId), eq(notifications.passId, passId), eq(notifications.template, 'invitation')));
  const used = rows.map((r) => r.channel).filter((ch) => addressFor(ch, c));
  return used.length ? used : defaultChannels(c);
}

async function userName(ctx: AppContext, db: Executor, userId: string | null): Promise<string> {
  if (!userId) return '';
  const [u] = await db
    .select({ id: users.id, ...userPersonalColumns })
    .from(users)
    .where(eq(users.id, userId));
  return u ? openUser(ctx.sealer, u.id, u).fullName : '';
}

async function hostName(ctx: AppContext, db: Executor, hostId: string): Promise<string> {
  const [h] = await db.select({ userId: hosts.userId }).from(hosts).where(eq(hosts.id, hostId));
  return userName(ctx, db, h?.userId ?? null);
}

interface SiteInfo {
  name: string;
  address: string | null;
  timezone: string;
}

/** The appointment's site, else the site of the first zone of the pass's rule. */
async function siteOf(db: Executor, orgId: string, siteId: string | null, ruleId: string): Promise<SiteInfo | null> {
  let id = siteId;
  if (!id) {
    const [rule] = await db
      .select({ zoneIds: accessRules.zoneIds })
      .from(accessRules)
      .where(and(eq(accessRules.id, ruleId), eq(accessRules.orgId, orgId)));
    const first = rule?.zoneIds[0];
    if (!first) return null;
    const [z] = await db.select({ siteId: zones.siteId }).from(zones).where(eq(zones.id, first));
    id = z?.siteId ?? null;
  }
  if (!id) return null;
  const [s] = await db
    .select({ name: sites.name, address: sites.address, timezone: sites.timezone })
    .from(sites)
    .where(and(eq(sites.id, id), eq(sites.orgId, orgId)));
  return s ?? null;
}

/** Calendar SEQUENCE: how many times the appointment was changed (its audit trail only grows). */
async function sequenceOf(db: Executor, orgId: string, appointmentId: string): Promise<number> {
  const [r] = await db
    .select({ n: count() })
    .from(auditLogs)
    .where(
      and(
        eq(auditLogs.orgId, orgId),
        eq(auditLogs.entityType, 'appointment'),
        eq(auditLogs.entityId, appointmentId),
        eq(auditLogs.action, 'appointment.update'),
      ),
    );
  return Number(r?.n ?? 0);
}

/** What a message about one visitor's visit says. */
interface Visit {
  settings: OrgSettings;
  appt: ApptRow | null;
  pass: PassRow;
  contact: Contact;
  language: Language;
}

function organizer(mailFrom: string): { name: string; email: string } {
  const m = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(mailFrom);
  return m ? { name: m[1] || m[2]!, email: m[2]! } : { name: mailFrom, email: mailFrom };
}

async function compose(
  ctx: AppContext,
  db: Executor,
  v: Visit,
  calendar: 'request' | 'cancel' | null,
  extra: Record<string, string> = {},
): Promise<{ vars: Record<string, string>; attachments: Attachment[] }> {
  const { appt, pass, settings, language } = v;
  const startsAt = appt?.startsAt ?? pass.validFrom;
  const endsAt = appt?.endsAt ?? pass.validTo;
  const site = await siteOf(db, pass.orgId, appt?.siteId ?? null, pass.accessRuleId);
  const tz = site?.timezone ?? 'UTC';
  const room = appt?.room ?? '';
  // A cancelled visit's message carries no working link.
  const live = calendar !== 'cancel' && effectiveStatus(pass) === 'active';
  const guestUrl = live
    ? `${ctx.config.publicUrl}/guest#token=${await ctx.tokens.signGuest({ sub: pass.id, org: pass.orgId }, pass.validTo)}`
    : '';
  const vars: Record<string, string> = {
    visitorName: v.contact.name,
    hostName: appt ? await hostName(ctx, db, appt.hostId) : await userName(ctx, db, pass.createdBy),
    orgName: settings.orgName,
    when: formatDateTime(startsAt, language, tz),
    until: formatTime(endsAt, language, tz),
    siteName: site?.name ?? '',
    siteAddress: site?.address ?? '',
    room,
    guestUrl,
    ...extra,
  };
  if (!calendar) return { vars, attachments: [] };
  const t = translator(language, 'calendar');
  const place = [site?.name, site?.address, room ? t('room', { room }) : ''].filter(Boolean).join(', ');
  const description = [
    calendar === 'cancel' ? t('cancelled') : '',
    t('host', { hostName: vars.hostName }),
    t('when', { when: vars.when, until: vars.until }),
    place ? t('where', { place }) : '',
    guestUrl ? t('guestLink', { guestUrl }) : '',
  ]
    .filter(Boolean)
    .join('\n');
  const cal = ical({
    prodId: { company: 'Gatehouse', product: 'Gatehouse', language: language.toUpperCase() },
    method: calendar === 'cancel' ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST,
  });
  cal.createEvent({
    // One calendar entry per visitor and visit: updates and the cancellation replace it.
    id: appt ? `appointment-${appt.id}-${pass.visitorId}@gatehouse` : `pass-${pass.id}@gatehouse`,
    sequence: appt ? await sequenceOf(db, pass.orgId, appt.id) : 0,
    start: startsAt,
    end: endsAt,
    stamp: new Date(),
    summary: t(calendar === 'cancel' ? 'summaryCancelled' : 'summary', { orgName: settings.orgName }),
    location: place || null,
    description,
    url: guestUrl || null,
    organizer: organizer(ctx.config.notify.mailFrom),
    status: calendar === 'cancel' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  });
  const method = calendar === 'cancel' ? 'CANCEL' : 'REQUEST';
  return {
    vars,
    attachments: [{ filename: 'invite.ics', contentType: `text/calendar; charset=utf-8; method=${method}`, content: cal.toString() }],
  };
}

async function deliver(
  ctx: AppContext,
  tx: Executor,
  actorId: string | null,
  template: TemplateKey,
  v: Visit,
  channels: Channel[],
  calendar: 'request' | 'cancel' | null,
  extra?: Record<string, string>,
): Promise<SentMessage[]> {
  const sent: SentMessage[] = [];
  const targets = channels.map((channel) => ({ channel, to: addressFor(channel, v.contact) })).filter((x) => x.to);
  if (!targets.length) return sent;
  const { vars, attachments } = await compose(ctx, tx, v, calendar, extra);
  for (const { channel, to } of targets) {
    const id = await notify(ctx, tx, {
      orgId: v.pass.orgId,
      channel,
      to: to!,
      template,
      language: v.language,
      vars,
      attachments,
      passId: v.pass.id,
      appointmentId: v.appt?.id ?? null,
      actorId,
    });
    sent.push({ id, channel, to: maskRecipient(channel, to!) });
  }
  return sent;
}

const languageOf = (pass: PassRow, appt: ApptRow | null, s: OrgSettings): Language =>
  (pass.language as Language | null) ?? (appt?.language as Language | null) ?? s.defaultLanguage;

async function loadAppointment(db: Executor, orgId: string, id: string, scope?: HostScope): Promise<ApptRow> {
  const [row] = await db
    .select()
    .from(appointments)
    .where(and(eq(appointments.id, id), eq(appointments.orgId, orgId), isNull(appointments.deletedAt)));
  if (!row || (scope && !scope.any && row.hostId !== scope.hostId)) throw notFound('appointment');
  return row;
}

/** The visitor's live (active, not yet ended) pass of this appointment, newest first. */
async function livePass(db: Executor, orgId: string, appointmentId: string, visitorId: string): Promise<PassRow | null> {
  const [p] = await db
    .select()
    .from(visitPasses)
    .where(
      and(
        eq(visitPasses.orgId, orgId),
        eq(visitPasses.appointmentId, appointmentId),
        eq(visitPasses.visitorId, visitorId),
        eq(visitPasses.status, 'active'),
        gt(visitPasses.validTo, new Date()),
      ),
    )
    .orderBy(desc(visitPasses.id))
    .limit(1);
  return p ?? null;
}

/**
 * The access rule of invited visitors' passes: the one asked for, else the organisation's host-invite
 * rule. A Host (no `appointments:any`) gets the organisation's rule only: they grant no other access.
 */
export async function inviteRule(db: Executor, orgId: string, scope: HostScope | undefined, asked?: string): Promise<string> {
  const settings = await getOrgSettings(db, orgId);
  if (asked && scope && !scope.any && asked !== settings.hostInviteRuleId)
    throw forbidden("a host invites with the organisation's host-invite access rule only");
  const ruleId = asked ?? settings.hostInviteRuleId;
  if (!ruleId) throw unprocessable('choose an access rule');
  const [r] = await db
    .select({ id: accessRules.id })
    .from(accessRules)
    .where(and(eq(accessRules.id, ruleId), eq(accessRules.orgId, orgId), isNull(accessRules.deletedAt)));
  if (!r) throw unprocessable('accessRuleId names no access rule of this organisation');
  return ruleId;
}

async function inviteVisitor(
  ctx: AppContext,
  tx: Executor,
  actor: Actor,
  appt: ApptRow,
  visitorId: string,
  ruleId: string,
  settings: OrgSettings,
  channels: Channel[] | undefined,
) {
  let pass = await livePass(tx, appt.orgId, appt.id, visitorId);
  if (!pass) {
    const issued = await issuePassIn(ctx, tx, actor, {
      visitorId,
      accessRuleId: ruleId,
      type: 'single',
      validFrom: new Date(appt.startsAt.getTime() - MARGIN_MS).toISOString(),
      validTo: new Date(appt.endsAt.getTime() + MARGIN_MS).toISOString(),
      appointmentId: appt.id,
    });
    [pass = null] = await tx.select().from(visitPasses).where(eq(visitPasses.id, issued.id));
  }
  const language = (appt.language as Language | null) ?? settings.defaultLanguage;
  const [row] = await tx.update(visitPasses).set({ invitedAt: new Date(), language }).where(eq(visitPasses.id, pass!.id)).returning();
  const contact = await contactOf(ctx, tx, appt.orgId, visitorId);
  const v: Visit = { settings, appt, pass: row!, contact, language };
  const sent = await deliver(ctx, tx, actor.userId, 'invitation', v, channels ?? defaultChannels(contact), 'request');
  const guestUrl = `${ctx.config.publicUrl}/guest#token=${await ctx.tokens.signGuest({ sub: row!.id, org: row!.orgId }, row!.validTo)}`;
  return { pass: row!, sent, guestUrl };
}

/**
 * Invites every visitor of the appointment: their live pass of it, or a new single-entry one from half
 * an hour before to half an hour after; the invitation on each channel (e-mail by default, else SMS);
 * the appointment marked invited and its reminder scheduled. In `opts.tx` when given (createAppointment).
 */
export async function inviteAppointment(
  ctx: AppContext,
  actor: Actor,
  appointmentId: string,
  opts: { accessRuleId?: string; channels?: Channel[]; scope?: HostScope; tx?: Executor } = {},
): Promise<InviteResult> {
  const run = async (tx: Executor): Promise<InviteResult> => {
    const appt = await loadAppointment(tx, actor.orgId, appointmentId, opts.scope);
    if (appt.status !== 'scheduled') throw conflict(`the appointment is ${appt.status}`);
    const ruleId = await inviteRule(tx, actor.orgId, opts.scope, opts.accessRuleId);
    const settings = await getOrgSettings(tx, actor.orgId);
    const visitorIds = (
      await tx
        .select({ id: appointmentVisitors.visitorId })
        .from(appointmentVisitors)
        .where(eq(appointmentVisitors.appointmentId, appt.id))
        .orderBy(asc(appointmentVisitors.visitorId))
    ).map((r) => r.id);
    const result: InviteResult = { passes: [], messages: 0, unreachable: [] };
    for (const visitorId of visitorIds) {
      const r = await inviteVisitor(ctx, tx, actor, appt, visitorId, ruleId, settings, opts.channels);
      result.passes.push({ visitorId, passId: r.pass.id, guestUrl: r.guestUrl });
      result.messages += r.sent.length;
      if (!r.sent.length) result.unreachable.push(visitorId);
    }
    const [invited] = await tx.update(appointments).set({ invite: true }).where(eq(appointments.id, appt.id)).returning();
    await scheduleReminder(ctx, tx, invited!, settings);
    await writeAudit(tx, actor, {
      action: 'appointment.invite',
      entityType: 'appointment',
      entityId: appt.id,
      data: { passIds: result.passes.map((p) => p.passId), messages: result.messages, unreachable: result.unreachable },
    });
    return result;
  };
  return opts.tx ? run(opts.tx) : ctx.db.transaction(run);
}

/**
 * `POST /api/admin/passes/:id/invite`: sends the pass's visitor their invitation (again). 409 for a pass
 * that no longer opens anything, 422 when the visitor has no address on an asked channel.
 */
export async function invitePass(
  ctx: AppContext,
  actor: Actor,
  passId: string,
  opts: { channels?: Channel[]; scope?: HostScope } = {},
): Promise<{ messages: SentMessage[] }> {
  return ctx.db.transaction(async (tx) => {
    const pass = await requirePass(tx, actor.orgId, passId, opts.scope);
    const status = effectiveStatus(pass);
    if (status !== 'active') throw conflict(`the pass is ${status}`);
    const contact = await contactOf(ctx, tx, actor.orgId, pass.visitorId);
    const channels = opts.channels?.length ? [...new Set(opts.channels)] : defaultChannels(contact);
    if (!channels.length) throw unprocessable('the visitor has neither an e-mail address nor a phone number');
    for (const ch of channels) if (!addressFor(ch, contact)) throw unprocessable(`the visitor has no address for ${ch}`);
    const settings = await getOrgSettings(tx, actor.orgId);
    const appt = pass.appointmentId ? await loadAppointment(tx, actor.orgId, pass.appointmentId).catch(() => null) : null;
    const language = languageOf(pass, appt, settings);
    const [row] = await tx.update(visitPasses).set({ invitedAt: new Date(), language }).where(eq(visitPasses.id, pass.id)).returning();
    const messages = await deliver(
      ctx,
      tx,
      actor.userId,
      'invitation',
      { settings, appt, pass: row!, contact, language },
      channels,
      'request',
    );
    if (appt && appt.status === 'scheduled') {
      // From now on the visit's changes, cancellation and reminder reach this visitor too.
      const [invited] = await tx.update(appointments).set({ invite: true }).where(eq(appointments.id, appt.id)).returning();
      if (!appt.reminderJobId) await scheduleReminder(ctx, tx, invited!, settings);
    }
    await writeAudit(tx, actor, {
      action: 'pass.invite',
      // Not `pass`: an audited `pass` row makes every edge fetch the pass again, and nothing of it changed for them.
      entityType: 'pass_invitation',
      entityId: pass.id,
      data: { channels: messages.map((m) => m.channel) },
    });
    return { messages };
  });
}

/** Tells an invited visitor their pass was revoked (called by the revocation, in its transaction). */
export async function noticeRevoked(ctx: AppContext, tx: Executor, actor: Actor, pass: PassRow, reason: string): Promise<void> {
  const settings = await getOrgSettings(tx, pass.orgId);
  const appt = pass.appointmentId ? await loadAppointment(tx, pass.orgId, pass.appointmentId).catch(() => null) : null;
  const contact = await contactOf(ctx, tx, pass.orgId, pass.visitorId);
  const v: Visit = { settings, appt, pass, contact, language: languageOf(pass, appt, settings) };
  await deliver(ctx, tx, actor.userId, 'pass_revoked', v, await invitedChannels(tx, pass.orgId, pass.id, contact), null, { reason });
}

/**
 * Replaces the appointment's pending reminder: the old job is cancelled, a new one is due the
 * organisation's lead time before the start (none when that moment has passed or the lead is 0).
 */
export async function scheduleReminder(ctx: AppContext, tx: Executor, appt: ApptRow, settings?: OrgSettings): Promise<string | null> {
  if (appt.reminderJobId) await ctx.jobs.cancel(REMINDER_QUEUE, appt.reminderJobId, tx);
  const lead = (settings ?? (await getOrgSettings(tx, appt.orgId))).reminderLeadMinutes;
  const due = new Date(appt.startsAt.getTime() - lead * 60_000);
  let jobId: string | null = null;
  if (appt.invite && appt.status === 'scheduled' && !appt.deletedAt && lead > 0 && due.getTime() > Date.now()) {
    const data: ReminderJob = { orgId: appt.orgId, appointmentId: appt.id, startsAt: appt.startsAt.toISOString() };
    jobId = await ctx.jobs.send(REMINDER_QUEUE, data, { tx, startAfter: due });
  }
  await tx.update(appointments).set({ reminderJobId: jobId }).where(eq(appointments.id, appt.id));
  return jobId;
}

/** The invited visitors' live passes of an appointment. */
async function invitedPasses(db: Executor, appt: ApptRow, visitorIds?: string[]): Promise<PassRow[]> {
  if (visitorIds && !visitorIds.length) return [];
  return db
    .select()
    .from(visitPasses)
    .where(
      and(
        eq(visitPasses.orgId, appt.orgId),
        eq(visitPasses.appointmentId, appt.id),
        isNotNull(visitPasses.invitedAt),
        eq(visitPasses.status, 'active'),
        gt(visitPasses.validTo, new Date()),
        visitorIds ? inArray(visitPasses.visitorId, visitorIds) : undefined,
      ),
    )
    .orderBy(asc(visitPasses.id));
}

/** The reminder job's work: re-reads the visit and reminds each invited visitor whose pass still stands. */
export async function runReminder(ctx: AppContext, job: ReminderJob, jobId?: string): Promise<number> {
  return ctx.db.transaction(async (tx) => {
    const [appt] = await tx
      .select()
      .from(appointments)
      .where(and(eq(appointments.id, job.appointmentId), eq(appointments.orgId, job.orgId), isNull(appointments.deletedAt)));
    // A cancelled, finished or moved visit: its own reminder (if any) is another job.
    if (!appt || appt.status !== 'scheduled' || !appt.invite || appt.startsAt.toISOString() !== job.startsAt) return 0;
    const settings = await getOrgSettings(tx, job.orgId);
    let sent = 0;
    for (const pass of await invitedPasses(tx, appt)) {
      const contact = await contactOf(ctx, tx, job.orgId, pass.visitorId);
      const v: Visit = { settings, appt, pass, contact, language: languageOf(pass, appt, settings) };
      sent += (await deliver(ctx, tx, null, 'reminder', v, await invitedChannels(tx, job.orgId, pass.id, contact), null)).length;
    }
    if (jobId)
      await tx
        .update(appointments)
        .set({ reminderJobId: null })
        .where(and(eq(appointments.id, appt.id), eq(appointments.reminderJobId, jobId)));
    return sent;
  });
}

/**
 * What a change of an invited appointment tells its visitors (called by updateAppointment in its
 * transaction, after the row and its visitor list were written): cancellation revokes the passes and
 * sends CANCEL; a new time moves the passes' validity (an audited pass change reaches the edges) and
 * the reminder; a new time, place or host sends an update; removed visitors get a cancellation, added
 * ones an invitation. Answers the passes it revoked (the caller publishes them once committed).
 */
export async function appointmentChanged(
  ctx: AppContext,
  tx: Executor,
  actor: Actor,
  before: ApptRow,
  beforeVisitors: string[],
  afterVisitors: string[],
): Promise<Array<ReturnType<typeof passView>>> {
  const after = await loadAppointment(tx, actor.orgId, before.id);
  const revoked: Array<ReturnType<typeof passView>> = [];
  if (!after.invite) return revoked;
  const settings = await getOrgSettings(tx, actor.orgId);
  const cancel = async (visitorIds: string[] | undefined, reason: string) => {
    const passes = await tx
      .select()
      .from(visitPasses)
      .where(
        and(
          eq(visitPasses.orgId, after.orgId),
          eq(visitPasses.appointmentId, after.id),
          ne(visitPasses.status, 'revoked'),
          visitorIds ? inArray(visitPasses.visitorId, visitorIds) : undefined,
        ),
      );
    for (const pass of passes) {
      // The visitor hears of the cancellation, not of a revocation besides.
      revoked.push(await revokePassIn(ctx, tx, actor, pass.id, reason, { notice: false }));
      if (!pass.invitedAt || effectiveStatus(pass) !== 'active') continue;
      const contact = await contactOf(ctx, tx, after.orgId, pass.visitorId);
      const v: Visit = { settings, appt: after, pass, contact, language: languageOf(pass, after, settings) };
      await deliver(ctx, tx, actor.userId, 'invitation_cancelled', v, await invitedChannels(tx, after.orgId, pass.id, contact), 'cancel');
    }
  };

  if (after.status === 'cancelled') {
    if (before.status !== 'cancelled') {
      await cancel(undefined, 'appointment cancelled');
      await scheduleReminder(ctx, tx, after, settings);
    }
    return revoked;
  }
  if (after.status !== 'scheduled') {
    await scheduleReminder(ctx, tx, after, settings);
    return revoked;
  }

  const removed = beforeVisitors.filter((id) => !afterVisitors.includes(id));
  const added = afterVisitors.filter((id) => !beforeVisitors.includes(id));
  const staying = afterVisitors.filter((id) => beforeVisitors.includes(id));
  if (removed.length) await cancel(removed, 'removed from the appointment');

  const startShift = after.startsAt.getTime() - before.startsAt.getTime();
  const endShift = after.endsAt.getTime() - before.endsAt.getTime();
  const timeChanged = startShift !== 0 || endShift !== 0;
  if (timeChanged) {
    const live = await tx
      .select()
      .from(visitPasses)
      .where(
        and(eq(visitPasses.orgId, after.orgId), eq(visitPasses.appointmentId, after.id), inArray(visitPasses.status, ['active', 'draft'])),
      );
    for (const p of live) {
      const validFrom = new Date(p.validFrom.getTime() + startShift);
      const validTo = new Date(p.validTo.getTime() + endShift);
      if (!(validTo > validFrom)) continue;
      await tx
        .update(visitPasses)
        .set({ validFrom, validTo, updatedAt: new Date(), updatedBy: actor.userId })
        .where(eq(visitPasses.id, p.id));
      // An audited `pass` row is how a pass change reaches the edges (drizzle/0003's trigger).
      await writeAudit(tx, actor, {
        action: 'pass.update',
        entityType: 'pass',
        entityId: p.id,
        data: { validFrom: validFrom.toISOString(), validTo: validTo.toISOString(), reason: 'appointment moved' },
      });
    }
    await scheduleReminder(ctx, tx, after, settings);
  }

  const placeChanged = before.room !== after.room || before.siteId !== after.siteId || before.hostId !== after.hostId;
  if (timeChanged || placeChanged) {
    for (const pass of await invitedPasses(tx, after, staying)) {
      const contact = await contactOf(ctx, tx, after.orgId, pass.visitorId);
      const v: Visit = { settings, appt: after, pass, contact, language: languageOf(pass, after, settings) };
      await deliver(ctx, tx, actor.userId, 'invitation_update', v, await invitedChannels(tx, after.orgId, pass.id, contact), 'request');
    }
  }

  if (added.length) {
    // The newcomers' passes take the rule the others' have, else the organisation's host-invite rule.
    const [other] = await tx
      .select({ ruleId: visitPasses.accessRuleId })
      .from(visitPasses)
      .where(and(eq(visitPasses.orgId, after.orgId), eq(visitPasses.appointmentId, after.id)))
      .orderBy(desc(visitPasses.id))
      .limit(1);
    const ruleId = other?.ruleId ?? (await inviteRule(tx, after.orgId, undefined));
    for (const visitorId of added) await inviteVisitor(ctx, tx, actor, after, visitorId, ruleId, settings, undefined);
  }
  return revoked;
}
