/**
 * Invitations (issue 12 item 3): an appointment with `invite: true` and
 * `POST /api/admin/passes/:id/invite` send each visitor an invitation with a
 * parsed-back .ics and guest link; a change sends an update (SEQUENCE grows,
 * the passes move), a cancellation CANCEL and revoked passes, a revocation a
 * notice; reminders are scheduled at start − lead, replaced on reschedule and
 * sent when run. Messages are read back from the message log (sealed payload
 * opened with the app's own sealer), so the test does not depend on a channel.
 */
import { sql } from 'drizzle-orm';
import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../src/context.js';
import { appointments, auditLogs, notifications, orgSettings, visitPasses } from '../src/db/schema.js';
import { createAppointment } from '../src/modules/appointments/service.js';
import { invitePass, REMINDER_QUEUE, runReminder } from '../src/modules/invitations/service.js';
import { mailboxOf } from '../src/modules/notifications/channels/email.js';
import { type MessagePayload, NOTIFY_QUEUE, payloadAad, recipientAad } from '../src/modules/notifications/outbox.js';
import { addUser, createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from './helpers.js';

const HOUR = 3600_000;

interface Sent {
  id: string;
  channel: string;
  template: string;
  language: string;
  to: string;
  masked: string;
  passId: string | null;
  appointmentId: string | null;
  payload: MessagePayload;
}

interface Ics {
  method: string;
  uid: string;
  sequence: number;
  start: Date;
  end: Date;
  summary: string;
  location: string | null;
  url: string | null;
  organizer: string;
}

function parseIcs(text: string): Ics {
  const cal = new ICAL.Component(ICAL.parse(text));
  const ev = cal.getFirstSubcomponent('vevent')!;
  const time = (name: string) => (ev.getFirstPropertyValue(name) as ICAL.Time).toJSDate();
  return {
    method: String(cal.getFirstPropertyValue('method')),
    uid: String(ev.getFirstPropertyValue('uid')),
    sequence: Number(ev.getFirstPropertyValue('sequence')),
    start: time('dtstart'),
    end: time('dtend'),
    summary: String(ev.getFirstPropertyValue('summary')),
    location: (ev.getFirstPropertyValue('location') as string | null) ?? null,
    url: (ev.getFirstPropertyValue('url') as string | null) ?? null,
    organizer: String(ev.getFirstPropertyValue('organizer')),
  };
}

describe('invitations', () => {
  let t: TestApp;
  let ctx: AppContext;
  let admin: Login;
  let host: Login;
  let otherHost: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;

  const inject = (who: Login, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: who.auth, ...(payload !== undefined ? { payload: payload as object } : {}) });

  /** Every message of the org in order, opened. */
  async function sent(filter: { appointmentId?: string; passId?: string; template?: string } = {}): Promise<Sent[]> {
    const rows = await ctx.db.select().from(notifications).where(sql`${notifications.orgId} = ${admin.orgId}`).orderBy(notifications.id);
    return rows
      .map((r) => ({
        id: r.id,
        channel: r.channel,
        template: r.template,
        language: r.language,
        to: ctx.sealer.open(r.recipientEnc, recipientAad(r.id)),
        masked: r.recipientMasked,
        passId: r.passId,
        appointmentId: r.appointmentId,
        payload: JSON.parse(ctx.sealer.open(r.payloadEnc, payloadAad(r.id))) as MessagePayload,
      }))
      .filter(
        (m) =>
          (!filter.appointmentId || m.appointmentId === filter.appointmentId) &&
          (!filter.passId || m.passId === filter.passId) &&
          (!filter.template || m.template === filter.template),
      );
  }
  const icsOf = (m: Sent) => {
    const a = m.payload.attachments.find((x) => x.filename === 'invite.ics');
    expect(a, `${m.template} has an invite.ics`).toBeDefined();
    return parseIcs(a!.content);
  };

  /** The development mailbox's message to `to` whose subject starts so, once the queue has delivered it. */
  async function mailTo(to: string, subject: string) {
    const box = mailboxOf(ctx)!;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const hit = (await box.list(admin.orgId)).find((m) => m.to.includes(to) && m.subject.startsWith(subject));
      if (hit) return (await box.get(admin.orgId, hit.id))!;
      if (Date.now() > deadline) throw new Error(`no mail to ${to}: ${subject}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function visitor(payload: Record<string, unknown>): Promise<string> {
    const r = await inject(admin, 'POST', '/api/admin/visitors', payload);
    expect(r.statusCode, r.body).toBe(201);
    return r.json().id as string;
  }

  async function book(payload: Record<string, unknown>, who: Login = admin) {
    const r = await inject(who, 'POST', '/api/admin/appointments', { hostId: host.hostId, room: '301', ...payload });
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as { id: string; startsAt: string; endsAt: string; invite: boolean; siteId: string | null; language: string | null };
  }

  /** An hour-long visit with the visitors invited, their passes of the topology's rule. */
  async function bookInvited(visitorIds: string[], startsAt: Date) {
    return book({
      visitorIds,
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + HOUR).toISOString(),
      invite: true,
      accessRuleId: topo.rule.id,
    });
  }

  async function passesOf(appointmentId: string) {
    return ctx.db.select().from(visitPasses).where(sql`${visitPasses.appointmentId} = ${appointmentId}`).orderBy(visitPasses.id);
  }

  async function jobRow(id: string) {
    const r = (await ctx.db.execute(sql`select state, start_after, data from pgboss.job where id = ${id}::uuid`)) as unknown as {
      rows: Array<{ state: string; start_after: string | Date; data: Record<string, unknown> }>;
    };
    const row = r.rows[0]!;
    return { state: row.state, startAfter: new Date(row.start_after), data: row.data };
  }

  async function reminderJobId(appointmentId: string) {
    const [a] = await ctx.db
      .select({ id: appointments.reminderJobId })
      .from(appointments)
      .where(sql`${appointments.id} = ${appointmentId}`);
    return a!.id;
  }

  async function setSettings(s: { hostInviteRuleId?: string | null; reminderLeadMinutes?: number; defaultLanguage?: 'en' | 'ru' }) {
    await ctx.db
      .insert(orgSettings)
      .values({ orgId: admin.orgId, ...s })
      .onConflictDoUpdate({ target: orgSettings.orgId, set: s });
  }

  let ann: string; // e-mail
  let boris: string; // phone only
  let nobody: string; // neither

  beforeAll(async () => {
    t = await startApp();
    ctx = t.app.ctx;
    admin = await createOrgWithUser(t.app, 'Invite Org', ['OrgAdmin']);
    host = await addUser(t.app, admin.orgId, ['Host']);
    otherHost = await addUser(t.app, admin.orgId, ['Host']);
    topo = await seedTopology(t.app, admin);
    ann = await visitor({ fullName: 'Ann Smith', email: 'ann@example.test' });
    boris = await visitor({ fullName: 'Boris Ivanov', phone: '+79001234567' });
    nobody = await visitor({ fullName: 'No Address' });
    // A fresh database with its migrations and the job queue's schema: slow on a loaded machine.
  }, 240_000);
  afterAll(async () => t?.close());

  it('refuses an invitation without an access rule (422 "choose an access rule") and writes nothing', async () => {
    const before = (await sent()).length;
    const r = await inject(admin, 'POST', '/api/admin/appointments', {
      hostId: host.hostId,
      visitorIds: [ann],
      startsAt: new Date(Date.now() + 5 * HOUR).toISOString(),
      endsAt: new Date(Date.now() + 6 * HOUR).toISOString(),
      invite: true,
    });
    expect(r.statusCode, r.body).toBe(422);
    expect(r.json().error.message).toMatch(/choose an access rule/);
    expect((await sent()).length).toBe(before);
    const list = await inject(admin, 'GET', '/api/admin/appointments');
    expect(list.json().items).toHaveLength(0);
  });

  it('an invited appointment issues each visitor a single pass ±30 min and sends e-mail, else SMS, with a parseable .ics', async () => {
    const startsAt = new Date(Math.ceil((Date.now() + 5 * HOUR) / 60_000) * 60_000);
    const endsAt = new Date(startsAt.getTime() + HOUR);
    const a = await book({
      visitorIds: [ann, boris, nobody],
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      invite: true,
      accessRuleId: topo.rule.id,
    });
    expect(a).toMatchObject({ invite: true, siteId: null, language: null });
    const passes = await passesOf(a.id);
    expect(passes.map((p) => p.visitorId).sort()).toEqual([ann, boris, nobody].sort());
    for (const p of passes) {
      expect(p).toMatchObject({ type: 'single', status: 'active', accessRuleId: topo.rule.id, language: 'en' });
      expect(p.validFrom.getTime()).toBe(startsAt.getTime() - 30 * 60_000);
      expect(p.validTo.getTime()).toBe(endsAt.getTime() + 30 * 60_000);
      expect(p.invitedAt).toBeInstanceOf(Date);
    }
    const msgs = await sent({ appointmentId: a.id });
    // Nobody has no address: their pass exists, no message (and no crash).
    expect(msgs.map((m) => [m.template, m.channel, m.to]).sort()).toEqual(
      [
        ['invitation', 'email', 'ann@example.test'],
        ['invitation', 'sms', '+79001234567'],
      ].sort(),
    );
    const mail = msgs.find((m) => m.channel === 'email')!;
    const annPass = passes.find((p) => p.visitorId === ann)!;
    expect(mail.passId).toBe(annPass.id);
    expect(mail.masked).not.toContain('ann@');
    const v = mail.payload.vars;
    expect(v).toMatchObject({ visitorName: 'Ann Smith', hostName: 'Test Host', orgName: 'Invite Org', siteName: 'HQ', room: '301' });
    // No site on the appointment: the site of the rule's first zone, at its clock (Europe/Moscow, UTC+3).
    const moscow = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Moscow', hour: '2-digit', minute: '2-digit' }).format(startsAt);
    expect(v.when).toContain(moscow);
    expect(v.guestUrl).toMatch(/\/guest#token=[\w-]+\.[\w-]+\.[\w-]+$/);
    // The link is a working guest token for this pass.
    const token = v.guestUrl!.split('#token=')[1]!;
    const claims = await ctx.tokens.verifyGuest(token);
    expect(claims?.sub).toBe(annPass.id);
    const ics = icsOf(mail);
    expect(ics.method).toBe('REQUEST');
    expect(ics.start.toISOString()).toBe(startsAt.toISOString());
    expect(ics.end.toISOString()).toBe(endsAt.toISOString());
    expect(ics.sequence).toBe(0);
    expect(ics.uid).toContain(a.id);
    expect(ics.url).toBe(v.guestUrl);
    expect(ics.summary).toBe('Visit to Invite Org');
    expect(ics.organizer.toLowerCase()).toContain('mailto:');
    // The SMS carries no calendar of its own use but the same words; both are logged for the right pass.
    expect(msgs.find((m) => m.channel === 'sms')!.passId).toBe(passes.find((p) => p.visitorId === boris)!.id);
    // Delivered through the queue to the development mailbox, rendered with these words and the .ics attached.
    const delivered = await mailTo('ann@example.test', 'Your visit to Invite Org on ');
    expect(delivered.subject).toContain(v.when);
    expect(delivered.text).toContain('Test Host invites you to Invite Org');
    expect(delivered.text).toContain(v.guestUrl);
    expect(delivered.attachments).toEqual(['invite.ics']);
    // The reminder is due the default lead (120 min) before the start.
    const job = await jobRow((await reminderJobId(a.id))!);
    expect(job.startAfter.getTime()).toBe(startsAt.getTime() - 120 * 60_000);
    expect(job.data).toMatchObject({ orgId: admin.orgId, appointmentId: a.id });
  });

  it('speaks Russian at the site’s clock: a site in Asia/Vladivostok shows the local hour and its address', async () => {
    const site = await inject(admin, 'POST', '/api/admin/sites', {
      name: 'Владивосток',
      timezone: 'Asia/Vladivostok',
      address: 'ул. Светланская, 1',
    });
    expect(site.statusCode, site.body).toBe(201);
    expect(site.json().address).toBe('ул. Светланская, 1');
    const startsAt = new Date('2031-03-05T01:00:00Z'); // 11:00 in Vladivostok (UTC+10), a Wednesday
    const a = await book({
      visitorIds: [ann],
      startsAt: startsAt.toISOString(),
      endsAt: '2031-03-05T02:30:00Z',
      invite: true,
      accessRuleId: topo.rule.id,
      siteId: site.json().id,
      language: 'ru',
    });
    expect(a).toMatchObject({ siteId: site.json().id, language: 'ru' });
    const [m] = await sent({ appointmentId: a.id });
    expect(m!.language).toBe('ru');
    expect(m!.payload.vars.when).toMatch(/среда/);
    expect(m!.payload.vars.when).toMatch(/марта/);
    expect(m!.payload.vars.when).toMatch(/11:00/);
    expect(m!.payload.vars.until).toBe('12:30');
    expect(m!.payload.vars).toMatchObject({ siteName: 'Владивосток', siteAddress: 'ул. Светланская, 1' });
    const ics = icsOf(m!);
    expect(ics.start.toISOString()).toBe(startsAt.toISOString());
    expect(ics.summary).toBe('Визит в Invite Org');
    expect(ics.location).toContain('ул. Светланская, 1');
    expect((await passesOf(a.id))[0]!.language).toBe('ru');
    const delivered = await mailTo('ann@example.test', 'Приглашение в Invite Org');
    expect(delivered.text).toContain('Здравствуйте, Ann Smith!');
    expect(delivered.text).toContain('ул. Светланская, 1');
  });

  it('a reschedule sends an update (SEQUENCE grows), moves the passes (an audited pass change for the edges) and replaces the reminder', async () => {
    const startsAt = new Date(Math.ceil((Date.now() + 6 * HOUR) / 60_000) * 60_000);
    const a = await bookInvited([ann, boris], startsAt);
    const firstJob = (await reminderJobId(a.id))!;
    const moved = new Date(startsAt.getTime() + 2 * HOUR);
    const r = await inject(admin, 'PATCH', `/api/admin/appointments/${a.id}`, {
      startsAt: moved.toISOString(),
      endsAt: new Date(moved.getTime() + HOUR).toISOString(),
    });
    expect(r.statusCode, r.body).toBe(200);
    const updates = await sent({ appointmentId: a.id, template: 'invitation_update' });
    expect(updates.map((m) => m.channel).sort()).toEqual(['email', 'sms']);
    const ics = icsOf(updates.find((m) => m.channel === 'email')!);
    expect(ics.method).toBe('REQUEST');
    expect(ics.start.toISOString()).toBe(moved.toISOString());
    const first = icsOf((await sent({ appointmentId: a.id, template: 'invitation' })).find((m) => m.channel === 'email')!);
    expect(ics.uid).toBe(first.uid);
    expect(ics.sequence).toBeGreaterThan(first.sequence);
    for (const p of await passesOf(a.id)) {
      expect(p.validFrom.getTime()).toBe(moved.getTime() - 30 * 60_000);
      expect(p.validTo.getTime()).toBe(moved.getTime() + HOUR + 30 * 60_000);
      const audits = await ctx.db
        .select()
        .from(auditLogs)
        .where(sql`${auditLogs.entityType} = 'pass' and ${auditLogs.entityId} = ${p.id} and ${auditLogs.action} = 'pass.update'`);
      expect(audits).toHaveLength(1);
    }
    // The edges' change feed got the pass (the audit trigger of drizzle/0003).
    const changes = (await ctx.db.execute(
      sql`select count(*)::int as n from sync_changes where entity = 'pass' and entity_id in (select id from visit_passes where appointment_id = ${a.id})`,
    )) as unknown as { rows: Array<{ n: number }> };
    expect(Number(changes.rows[0]!.n)).toBeGreaterThanOrEqual(4);
    // The old reminder is cancelled, the new one due 2 h before the new start.
    expect((await jobRow(firstJob)).state).toBe('cancelled');
    const second = (await reminderJobId(a.id))!;
    expect(second).not.toBe(firstJob);
    expect((await jobRow(second)).startAfter.getTime()).toBe(moved.getTime() - 120 * 60_000);

    // A room change alone: another update, a later SEQUENCE, the reminder left alone.
    const r2 = await inject(admin, 'PATCH', `/api/admin/appointments/${a.id}`, { room: '404' });
    expect(r2.statusCode, r2.body).toBe(200);
    const again = (await sent({ appointmentId: a.id, template: 'invitation_update' })).filter((m) => m.channel === 'email');
    expect(again).toHaveLength(2);
    const ics2 = icsOf(again[1]!);
    expect(ics2.sequence).toBeGreaterThan(ics.sequence);
    expect(again[1]!.payload.vars.room).toBe('404');
    expect(await reminderJobId(a.id)).toBe(second);

    // A change that touches no time, place or host sends nothing.
    const count = (await sent({ appointmentId: a.id })).length;
    const r3 = await inject(admin, 'PATCH', `/api/admin/appointments/${a.id}`, { language: 'ru' });
    expect(r3.statusCode, r3.body).toBe(200);
    expect((await sent({ appointmentId: a.id })).length).toBe(count);
  });

  it('removed visitors get a cancellation and lose their pass, added ones an invitation', async () => {
    const startsAt = new Date(Date.now() + 8 * HOUR);
    const a = await bookInvited([ann, boris], startsAt);
    const carl = await visitor({ fullName: 'Carl Jung', email: 'carl@example.test' });
    const r = await inject(admin, 'PATCH', `/api/admin/appointments/${a.id}`, { visitorIds: [ann, carl] });
    expect(r.statusCode, r.body).toBe(200);
    const msgs = await sent({ appointmentId: a.id });
    const cancelled = msgs.filter((m) => m.template === 'invitation_cancelled');
    expect(cancelled.map((m) => m.to)).toEqual(['+79001234567']);
    const invitedCarl = msgs.filter((m) => m.template === 'invitation' && m.to === 'carl@example.test');
    expect(invitedCarl).toHaveLength(1);
    // Ann stays and hears nothing new.
    expect(msgs.filter((m) => m.to === 'ann@example.test').map((m) => m.template)).toEqual(['invitation']);
    const passes = await passesOf(a.id);
    expect(passes.find((p) => p.visitorId === boris)).toMatchObject({ status: 'revoked', revokedReason: 'removed from the appointment' });
    expect(passes.find((p) => p.visitorId === carl)).toMatchObject({ status: 'active', accessRuleId: topo.rule.id });
    // The removed visitor hears of the cancellation only, not of a revocation besides.
    expect(msgs.filter((m) => m.template === 'pass_revoked')).toHaveLength(0);
  });

  it('a cancellation sends CANCEL, revokes the passes through the revocation (edges learn it) and drops the reminder', async () => {
    const startsAt = new Date(Date.now() + 7 * HOUR);
    const a = await bookInvited([ann, boris], startsAt);
    const job = (await reminderJobId(a.id))!;
    const r = await inject(admin, 'PATCH', `/api/admin/appointments/${a.id}`, { status: 'cancelled' });
    expect(r.statusCode, r.body).toBe(200);
    const msgs = await sent({ appointmentId: a.id, template: 'invitation_cancelled' });
    expect(msgs.map((m) => m.channel).sort()).toEqual(['email', 'sms']);
    const ics = icsOf(msgs.find((m) => m.channel === 'email')!);
    expect(ics.method).toBe('CANCEL');
    expect(ics.sequence).toBeGreaterThan(0);
    expect(ics.url).toBeNull();
    expect(msgs[0]!.payload.vars.guestUrl).toBe('');
    for (const p of await passesOf(a.id)) {
      expect(p).toMatchObject({ status: 'revoked', revokedReason: 'appointment cancelled' });
      const [audit] = await ctx.db
        .select()
        .from(auditLogs)
        .where(sql`${auditLogs.entityType} = 'pass' and ${auditLogs.entityId} = ${p.id} and ${auditLogs.action} = 'pass.revoke'`);
      expect(audit).toBeDefined();
    }
    expect(await sent({ appointmentId: a.id, template: 'pass_revoked' })).toHaveLength(0);
    expect(await reminderJobId(a.id)).toBeNull();
    expect((await jobRow(job)).state).toBe('cancelled');
  });

  it('revoking an invited pass tells the visitor; revoking one never invited sends nothing', async () => {
    const startsAt = new Date(Date.now() + 9 * HOUR);
    const a = await bookInvited([ann], startsAt);
    const [p] = await passesOf(a.id);
    const r = await inject(admin, 'POST', `/api/admin/passes/${p!.id}/revoke`, { reason: 'lost badge' });
    expect(r.statusCode, r.body).toBe(200);
    const notices = await sent({ passId: p!.id, template: 'pass_revoked' });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ channel: 'email', to: 'ann@example.test' });
    expect(notices[0]!.payload.vars).toMatchObject({ reason: 'lost badge', visitorName: 'Ann Smith', guestUrl: '' });

    const plain = await inject(admin, 'POST', '/api/admin/passes', {
      visitorId: ann,
      accessRuleId: topo.rule.id,
      type: 'single',
      validFrom: new Date().toISOString(),
      validTo: new Date(Date.now() + HOUR).toISOString(),
    });
    const r2 = await inject(admin, 'POST', `/api/admin/passes/${plain.json().id}/revoke`, { reason: 'x' });
    expect(r2.statusCode).toBe(200);
    expect(await sent({ passId: plain.json().id })).toHaveLength(0);
  });

  describe('POST /api/admin/passes/:id/invite', () => {
    const issue = async (visitorId: string, validTo = new Date(Date.now() + HOUR)) => {
      const r = await inject(admin, 'POST', '/api/admin/passes', {
        visitorId,
        accessRuleId: topo.rule.id,
        type: 'multi',
        validFrom: new Date(validTo.getTime() - 2 * HOUR).toISOString(),
        validTo: validTo.toISOString(),
      });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().id as string;
    };

    it('sends by e-mail by default, or on the asked channels, and answers the masked addresses', async () => {
      const id = await issue(ann);
      const r = await inject(admin, 'POST', `/api/admin/passes/${id}/invite`, {});
      expect(r.statusCode, r.body).toBe(200);
      const { messages } = r.json() as { messages: Array<{ id: string; channel: string; to: string }> };
      expect(messages).toHaveLength(1);
      expect(messages[0]!.channel).toBe('email');
      expect(messages[0]!.to).not.toContain('ann@example.test');
      const [m] = await sent({ passId: id });
      expect(m).toMatchObject({ id: messages[0]!.id, template: 'invitation', to: 'ann@example.test', masked: messages[0]!.to });
      // A pass of no appointment: the calendar entry spans the pass.
      const ics = icsOf(m!);
      const [row] = await ctx.db.select().from(visitPasses).where(sql`${visitPasses.id} = ${id}`);
      // (iCalendar counts whole seconds.)
      expect(ics.start.getTime()).toBe(Math.floor(row!.validFrom.getTime() / 1000) * 1000);
      expect(row!.invitedAt).toBeInstanceOf(Date);
      // No body at all is the default too.
      const bare = await t.app.inject({ method: 'POST', url: `/api/admin/passes/${id}/invite`, headers: admin.auth });
      expect(bare.statusCode, bare.body).toBe(200);

      const both = await issue(boris);
      const r2 = await inject(admin, 'POST', `/api/admin/passes/${both}/invite`, { channels: ['sms'] });
      expect(r2.statusCode, r2.body).toBe(200);
      expect(r2.json().messages.map((x: { channel: string }) => x.channel)).toEqual(['sms']);
    });

    it('404 for an unknown pass or another organisation’s, 409 revoked or expired, 422 without an address', async () => {
      expect((await inject(admin, 'POST', '/api/admin/passes/0190a0b0-0000-7000-8000-000000000000/invite', {})).statusCode).toBe(404);
      const stranger = await createOrgWithUser(t.app, 'Other Org', ['OrgAdmin']);
      const mine = await issue(ann);
      expect((await inject(stranger, 'POST', `/api/admin/passes/${mine}/invite`, {})).statusCode).toBe(404);

      const revoked = await issue(ann);
      await inject(admin, 'POST', `/api/admin/passes/${revoked}/revoke`, { reason: 'test' });
      const r1 = await inject(admin, 'POST', `/api/admin/passes/${revoked}/invite`, {});
      expect(r1.statusCode, r1.body).toBe(409);
      const expired = await issue(ann, new Date(Date.now() - 60_000));
      expect((await inject(admin, 'POST', `/api/admin/passes/${expired}/invite`, {})).statusCode).toBe(409);

      const before = (await sent()).length;
      expect((await inject(admin, 'POST', `/api/admin/passes/${mine}/invite`, { channels: ['sms'] })).statusCode).toBe(422);
      expect((await inject(admin, 'POST', `/api/admin/passes/${mine}/invite`, { channels: ['telegram'] })).statusCode).toBe(422);
      const mute = await issue(nobody);
      expect((await inject(admin, 'POST', `/api/admin/passes/${mute}/invite`, {})).statusCode).toBe(422);
      expect((await inject(admin, 'POST', `/api/admin/passes/${mine}/invite`, { channels: ['fax'] })).statusCode).toBe(400);
      expect((await sent()).length).toBe(before);
      const [row] = await ctx.db.select().from(visitPasses).where(sql`${visitPasses.id} = ${mute}`);
      expect(row!.invitedAt).toBeNull();
    });

    it('RBAC: a Host may not call it (passes:issue); a host scope never reaches another host’s pass (404)', async () => {
      const startsAt = new Date(Date.now() + 10 * HOUR);
      const a = await book({
        hostId: otherHost.hostId,
        visitorIds: [ann],
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + HOUR).toISOString(),
        invite: true,
        accessRuleId: topo.rule.id,
      });
      const [p] = await passesOf(a.id);
      expect((await inject(host, 'POST', `/api/admin/passes/${p!.id}/invite`, {})).statusCode).toBe(403);
      const actor = { orgId: admin.orgId, userId: host.userId, ip: null, userAgent: null };
      await expect(invitePass(ctx, actor, p!.id, { scope: { any: false, hostId: host.hostId } })).rejects.toMatchObject({
        statusCode: 404,
      });
      // Their own host's scope reaches it.
      const own = await invitePass(ctx, { ...actor, userId: otherHost.userId }, p!.id, { scope: { any: false, hostId: otherHost.hostId } });
      expect(own.messages).toHaveLength(1);
    });
  });

  it('a Host books with invite using the organisation’s host-invite rule only', async () => {
    const startsAt = new Date(Date.now() + 11 * HOUR);
    const body = {
      hostId: host.hostId,
      visitorIds: [ann],
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + HOUR).toISOString(),
      invite: true,
    };
    // Ann is not yet on a meeting of this host: a Host books only visitors they reach, so register one.
    const own = await inject(host, 'POST', '/api/admin/visitors', { fullName: 'Host Guest', email: 'hg@example.test' });
    expect(own.statusCode, own.body).toBe(201);
    const payload = { ...body, visitorIds: [own.json().id] };
    expect((await inject(host, 'POST', '/api/admin/appointments', payload)).statusCode).toBe(422);
    await setSettings({ hostInviteRuleId: topo.rule.id });
    const other = await inject(admin, 'POST', '/api/admin/access-rules', {
      name: 'Other',
      zoneIds: [topo.otherZone.id],
      weekdays: [],
      timeWindows: [],
    });
    expect((await inject(host, 'POST', '/api/admin/appointments', { ...payload, accessRuleId: other.json().id })).statusCode).toBe(403);
    const r = await inject(host, 'POST', '/api/admin/appointments', payload);
    expect(r.statusCode, r.body).toBe(201);
    const [p] = await passesOf(r.json().id);
    expect(p!.accessRuleId).toBe(topo.rule.id);
    expect(await sent({ appointmentId: r.json().id, template: 'invitation' })).toHaveLength(1);
  });

  describe('reminders', () => {
    it('none when the lead is 0 or the moment has passed; the org lead decides the time', async () => {
      await setSettings({ reminderLeadMinutes: 0 });
      const soon = new Date(Date.now() + 3 * HOUR);
      const a = await book({
        visitorIds: [ann],
        startsAt: soon.toISOString(),
        endsAt: new Date(soon.getTime() + HOUR).toISOString(),
        invite: true,
      });
      expect(await reminderJobId(a.id)).toBeNull();
      await setSettings({ reminderLeadMinutes: 240 });
      const b = await book({
        visitorIds: [ann],
        startsAt: soon.toISOString(),
        endsAt: new Date(soon.getTime() + HOUR).toISOString(),
        invite: true,
      });
      expect(await reminderJobId(b.id)).toBeNull(); // 4 h before a visit 3 h away is past
      await setSettings({ reminderLeadMinutes: 60 });
      const c = await book({
        visitorIds: [ann],
        startsAt: soon.toISOString(),
        endsAt: new Date(soon.getTime() + HOUR).toISOString(),
        invite: true,
      });
      const job = await jobRow((await reminderJobId(c.id))!);
      expect(job.startAfter.getTime()).toBe(soon.getTime() - HOUR);
      expect(job.state).toBe('created');
      await setSettings({ reminderLeadMinutes: 120 });
    });

    it('the handler reminds invited visitors with a live pass, and does nothing for a moved or cancelled visit', async () => {
      const startsAt = new Date(Math.ceil((Date.now() + 12 * HOUR) / 1000) * 1000);
      const a = await book({
        visitorIds: [ann, boris],
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + HOUR).toISOString(),
        invite: true,
      });
      const job = { orgId: admin.orgId, appointmentId: a.id, startsAt: startsAt.toISOString() };
      expect(await runReminder(ctx, { ...job, startsAt: new Date(startsAt.getTime() + 60_000).toISOString() })).toBe(0);
      expect(await runReminder(ctx, job)).toBe(2);
      const reminders = await sent({ appointmentId: a.id, template: 'reminder' });
      expect(reminders.map((m) => m.to).sort()).toEqual(['+79001234567', 'ann@example.test']);
      expect(reminders[0]!.payload.vars.guestUrl).toMatch(/#token=/);
      // Boris's pass is revoked: only Ann is reminded next time.
      const bp = (await passesOf(a.id)).find((p) => p.visitorId === boris)!;
      await inject(admin, 'POST', `/api/admin/passes/${bp.id}/revoke`, { reason: 'not coming' });
      expect(await runReminder(ctx, job)).toBe(1);
      await inject(admin, 'PATCH', `/api/admin/appointments/${a.id}`, { status: 'cancelled' });
      expect(await runReminder(ctx, job)).toBe(0);
    });

    it('runs through the queue: a reminder job due now is sent by the worker', async () => {
      const startsAt = new Date(Math.ceil((Date.now() + 13 * HOUR) / 1000) * 1000);
      const a = await book({
        visitorIds: [ann],
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + HOUR).toISOString(),
        invite: true,
      });
      await ctx.jobs.send(
        REMINDER_QUEUE,
        { orgId: admin.orgId, appointmentId: a.id, startsAt: startsAt.toISOString() },
        { startAfter: new Date() },
      );
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await sent({ appointmentId: a.id, template: 'reminder' })).length === 0)
        await new Promise((r) => setTimeout(r, 200));
      expect(await sent({ appointmentId: a.id, template: 'reminder' })).toHaveLength(1);
    });
  });

  it('a rolled-back appointment sends nothing and leaves no pass', async () => {
    const before = (await sent()).length;
    const passesBefore = (await ctx.db.select().from(visitPasses)).length;
    const startsAt = new Date(Date.now() + 14 * HOUR);
    const actor = { orgId: admin.orgId, userId: admin.userId, ip: null, userAgent: null };
    await expect(
      ctx.db.transaction(async (tx) => {
        await createAppointment(
          { ...ctx, db: tx as unknown as AppContext['db'] },
          actor,
          { any: true },
          {
            hostId: host.hostId!,
            visitorIds: [ann],
            startsAt: startsAt.toISOString(),
            endsAt: new Date(startsAt.getTime() + HOUR).toISOString(),
            invite: true,
            accessRuleId: topo.rule.id,
          },
        );
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect((await sent()).length).toBe(before);
    expect((await ctx.db.select().from(visitPasses)).length).toBe(passesBefore);
    // Nor a delivery job without its message row (the job is enqueued in the same transaction).
    const orphans = (await ctx.db.execute(
      sql`select count(*)::int as n from pgboss.job j where j.name = ${NOTIFY_QUEUE} and j.data->>'orgId' = ${admin.orgId}
            and not exists (select 1 from notifications n where n.id::text = j.data->>'id')`,
    )) as unknown as { rows: Array<{ n: number }> };
    expect(Number(orphans.rows[0]!.n)).toBe(0);
    const all = (await ctx.db.execute(
      sql`select count(*)::int as n from pgboss.job j where j.name = ${NOTIFY_QUEUE} and j.data->>'orgId' = ${admin.orgId}`,
    )) as unknown as { rows: Array<{ n: number }> };
    expect(Number(all.rows[0]!.n)).toBe(before);
  });
});
