/**
 * The host portal's API (issue 12 item 5): a Host invites guests in one
 * request — visitors, the appointment, passes and invitation messages come
 * into being together — and follows each guest's state as the pass moves
 * invited → link opened → signed in → arrived → left. Another host's visit is
 * a 404 for every action; no answer carries a phone, a document number, an
 * address in clear or anything that opens a gate.
 *
 * Every step goes through the code that makes it: link opened and signed in
 * through the real guest routes (the link from the invitation message, the
 * code from the code message), arrived and left through check-in ingestion
 * (the function the MQTT link calls with a gate's batch).
 */
import { type CheckinEvent, uuidv7 } from '@gatehouse/protocol';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appointments, appointmentVisitors, notifications, orgSettings, visitors, visitPasses } from '../src/db/schema.js';
import { ingestCheckins } from '../src/modules/checkins/ingest.js';
import { payloadAad } from '../src/modules/notifications/outbox.js';
import { addUser, createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from './helpers.js';

type Guest = { visitorId: string; name: string; email: string | null; passId: string | null; state: string; stateAt: string | null };
type Visit = { id: string; status: string; room: string | null; site: { id: string } | null; guests: Guest[] };

/** Every key anywhere in a JSON value, and every string. */
function walk(v: unknown, keys: Set<string>, strings: string[]) {
  if (Array.isArray(v)) for (const x of v) walk(x, keys, strings);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      keys.add(k);
      walk(x, keys, strings);
    }
  else if (typeof v === 'string') strings.push(v);
}
const FORBIDDEN_KEYS = [
  'phone',
  'documentNumber',
  'guestToken',
  'guestUrl',
  'token',
  'payload',
  'totpSecret',
  'secret',
  'credential',
  'card',
];

describe('host portal API', () => {
  let t: TestApp;
  let admin: Login;
  let hostA: Login;
  let hostB: Login;
  let siteId: string;
  let ruleId: string;
  let gateId: string;
  const answers: unknown[] = [];
  const emailA = 'anna.smirnova@northwind.example';
  const phoneB = '+7 900 555-12-34';

  const as = async (who: Login, method: 'GET' | 'POST', url: string, payload?: object) => {
    const r = await t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
    answers.push(r.body);
    return r;
  };
  const later = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();
  const invitation = (over: Record<string, unknown> = {}) => ({
    startsAt: later(2),
    endsAt: later(3),
    siteId,
    room: 'Room 4.12',
    language: 'en',
    guests: [
      { fullName: 'Anna Smirnova', email: emailA, company: 'Northwind' },
      { fullName: 'Boris Ivanov', phone: phoneB },
    ],
    ...over,
  });
  const visitsOf = async (who: Login, q = '') => {
    const r = await as(who, 'GET', `/api/host/visits${q}`);
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as { items: Visit[]; nextCursor: string | null };
  };
  const stateOf = async (who: Login, visitId: string, visitorId: string) =>
    (await visitsOf(who)).items.find((v) => v.id === visitId)?.guests.find((g) => g.visitorId === visitorId)?.state;

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Host Portal Org', ['OrgAdmin']);
    const topo = await seedTopology(t.app, admin);
    siteId = topo.site.id;
    ruleId = topo.rule.id;
    gateId = topo.gate.id;
    hostA = await addUser(t.app, admin.orgId, ['Host']);
    hostB = await addUser(t.app, admin.orgId, ['Host']);
    await t.app.ctx.db.insert(orgSettings).values({ orgId: admin.orgId, hostInviteRuleId: ruleId });
  }, 180_000);
  afterAll(async () => t?.close());

  let visit: Visit;

  it('a Host invites two guests: visitors (sealed), the appointment, passes and invitations exist; the answer is the visit', async () => {
    const r = await as(hostA, 'POST', '/api/host/invitations', invitation());
    expect(r.statusCode, r.body).toBe(201);
    visit = r.json();
    expect(visit).toMatchObject({ status: 'scheduled', room: 'Room 4.12', site: { id: siteId } });
    expect(visit.guests.map((g) => g.name).sort()).toEqual(['Anna Smirnova', 'Boris Ivanov']);
    expect(visit.guests.every((g) => g.state === 'invited' && g.passId && g.stateAt)).toBe(true);
    // The e-mail is masked; a phone-only guest shows none.
    const anna = visit.guests.find((g) => g.name === 'Anna Smirnova')!;
    expect(anna.email).toMatch(/^a\*\*\*@n\*\*\*\.example$/);
    expect(visit.guests.find((g) => g.name === 'Boris Ivanov')!.email).toBeNull();

    const db = t.app.ctx.db;
    const [appt] = await db.select().from(appointments).where(eq(appointments.id, visit.id));
    expect(appt).toMatchObject({ hostId: hostA.hostId, invite: true, siteId, language: 'en', orgId: admin.orgId });
    const links = await db.select().from(appointmentVisitors).where(eq(appointmentVisitors.appointmentId, visit.id));
    expect(links).toHaveLength(2);
    const vs = await db.select().from(visitors).where(eq(visitors.createdBy, hostA.userId));
    expect(vs).toHaveLength(2);
    // Sealed at rest: no plaintext column is filled, the phone the host typed is kept (sealed) for the SMS.
    for (const v of vs) expect(v.fullName === null && v.email === null && v.fullNameEnc !== null).toBe(true);
    const boris = vs.find((v) => v.id === visit.guests.find((g) => g.name === 'Boris Ivanov')!.visitorId)!;
    expect(t.app.ctx.sealer.open(boris.phoneEnc!, `visitors.phone:${boris.id}`)).toBe(phoneB);
    const passes = await db.select().from(visitPasses).where(eq(visitPasses.appointmentId, visit.id));
    expect(passes).toHaveLength(2);
    expect(passes.every((p) => p.accessRuleId === ruleId && p.invitedAt !== null && p.status === 'active')).toBe(true);
    const sent = await db
      .select()
      .from(notifications)
      .where(and(eq(notifications.appointmentId, visit.id), eq(notifications.template, 'invitation')));
    expect(sent.map((n) => n.channel).sort()).toEqual(['email', 'sms']);
    expect(new Set(sent.map((n) => n.passId))).toEqual(new Set(passes.map((p) => p.id)));
    // The audit row says how many, not who.
    const audit = await t.app.inject({ method: 'GET', url: '/api/admin/audit-logs?action=host.invite', headers: admin.auth });
    expect(audit.body).not.toContain('Anna');
    expect(audit.body).not.toContain(emailA);
  });

  it('lists the visit with its guests, by start time, from a day ago by default', async () => {
    const early = await as(
      hostA,
      'POST',
      '/api/host/invitations',
      invitation({ startsAt: later(1), endsAt: later(1.5), guests: [{ fullName: 'Early Bird', email: 'early@example.test' }] }),
    );
    expect(early.statusCode, early.body).toBe(201);
    const old = await as(
      hostA,
      'POST',
      '/api/host/invitations',
      invitation({ startsAt: later(-30), endsAt: later(-29), guests: [{ fullName: 'Last Month', email: 'old@example.test' }] }),
    );
    expect(old.statusCode, old.body).toBe(201);
    const list = await visitsOf(hostA);
    expect(list.items.map((v) => v.id)).toEqual([early.json().id, visit.id]);
    // `from` reaches back; a page of one has a cursor to the next.
    const all = await visitsOf(hostA, `?from=${encodeURIComponent(later(-48))}`);
    expect(all.items.map((v) => v.id)).toEqual([old.json().id, early.json().id, visit.id]);
    const p1 = await visitsOf(hostA, `?from=${encodeURIComponent(later(-48))}&limit=2`);
    expect(p1.items).toHaveLength(2);
    const p2 = await visitsOf(hostA, `?from=${encodeURIComponent(later(-48))}&limit=2&cursor=${p1.nextCursor}`);
    expect(p2.items.map((v) => v.id)).toEqual([visit.id]);
    expect(p2.nextCursor).toBeNull();
    const to = await visitsOf(hostA, `?to=${encodeURIComponent(later(1.5))}`);
    expect(to.items.map((v) => v.id)).toEqual([early.json().id]);
    expect((await as(hostA, 'GET', '/api/host/visits?cursor=bm9wZQ')).statusCode).toBe(400);
  });

  it('states move invited → link opened → signed in → arrived → left', async () => {
    const anna = visit.guests.find((g) => g.name === 'Anna Smirnova')!;
    const db = t.app.ctx.db;
    const sealer = t.app.ctx.sealer;
    const payloadOf = async (template: string) => {
      const [n] = await db
        .select()
        .from(notifications)
        .where(and(eq(notifications.passId, anna.passId!), eq(notifications.template, template)));
      expect(n, template).toBeDefined();
      return JSON.parse(sealer.open(n!.payloadEnc, payloadAad(n!.id))) as { vars: Record<string, string> };
    };
    // The link the invitation carries.
    const vars = (await payloadOf('invitation')).vars;
    const link = Object.values(vars)
      .map((s) => /\/guest#token=([A-Za-z0-9._-]+)/.exec(s)?.[1])
      .find(Boolean);
    expect(link, 'the invitation has a guest link').toBeTruthy();
    expect(await stateOf(hostA, visit.id, anna.visitorId)).toBe('invited');

    const opened = await t.app.inject({ method: 'GET', url: `/api/guest/pass?token=${link}` });
    expect(opened.statusCode, opened.body).toBe(200);
    expect(await stateOf(hostA, visit.id, anna.visitorId)).toBe('link_opened');

    const asked = await t.app.inject({ method: 'POST', url: '/api/guest/auth', payload: { token: link } });
    expect(asked.statusCode, asked.body).toBe(200);
    const code = (await payloadOf('guest_code')).vars.code;
    const verified = await t.app.inject({ method: 'POST', url: '/api/guest/auth/verify', payload: { token: link, code } });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(await stateOf(hostA, visit.id, anna.visitorId)).toBe('signed_in');

    // Arrival and leaving: admitted passages as the MQTT link ingests them, inward then outward.
    const passage = async (direction: 'in' | 'out', occurredAt: number) => {
      const event: CheckinEvent = {
        id: uuidv7(),
        type: 'attempt',
        gateId,
        passId: anna.passId,
        credentialKind: 'dynamic',
        direction,
        allow: true,
        reason: 'ok',
        occurredAt,
      };
      const r = await ingestCheckins(t.app.ctx, { orgId: admin.orgId, siteId, deviceId: null }, [event]);
      expect(r.journeyError).toBeNull();
    };
    await passage('in', Date.now() - 2000);
    expect(await stateOf(hostA, visit.id, anna.visitorId)).toBe('arrived');
    await passage('out', Date.now() - 1000);
    const left = (await visitsOf(hostA)).items.find((v) => v.id === visit.id)!.guests.find((g) => g.visitorId === anna.visitorId)!;
    expect(left.state).toBe('left');
    expect(Date.parse(left.stateAt!)).toBeGreaterThan(Date.now() - 60_000);
    // The other guest did none of it.
    expect(await stateOf(hostA, visit.id, visit.guests.find((g) => g.name === 'Boris Ivanov')!.visitorId)).toBe('invited');
  });

  it('resends an invitation: one more message to that guest', async () => {
    const boris = visit.guests.find((g) => g.name === 'Boris Ivanov')!;
    const count = async () =>
      (
        await t.app.ctx.db
          .select({ id: notifications.id })
          .from(notifications)
          .where(and(eq(notifications.passId, boris.passId!), eq(notifications.template, 'invitation')))
      ).length;
    const before = await count();
    const r = await as(hostA, 'POST', `/api/host/visits/${visit.id}/guests/${boris.visitorId}/resend`);
    expect(r.statusCode, r.body).toBe(200);
    expect(await count()).toBe(before + 1);
    // A visitor not on this visit is a 404.
    const other = visit.guests.find((g) => g.name === 'Anna Smirnova')!;
    const early = (await visitsOf(hostA)).items.find((v) => v.id !== visit.id)!;
    expect((await as(hostA, 'POST', `/api/host/visits/${early.id}/guests/${other.visitorId}/resend`)).statusCode).toBe(404);
  });

  it('another host neither sees, cancels nor resends it (404); a user without host:portal is refused', async () => {
    expect((await visitsOf(hostB)).items).toEqual([]);
    const guest = visit.guests[0]!;
    expect((await as(hostB, 'POST', `/api/host/visits/${visit.id}/cancel`)).statusCode).toBe(404);
    expect((await as(hostB, 'POST', `/api/host/visits/${visit.id}/guests/${guest.visitorId}/resend`)).statusCode).toBe(404);
    // The admin has host:portal but this is not their meeting either: the portal is one's own visits.
    expect((await as(admin, 'POST', `/api/host/visits/${visit.id}/cancel`)).statusCode).toBe(404);
    const operator = await addUser(t.app, admin.orgId, ['Operator']);
    expect((await as(operator, 'GET', '/api/host/visits')).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/host/visits' })).statusCode).toBe(401);
    const [appt] = await t.app.ctx.db.select().from(appointments).where(eq(appointments.id, visit.id));
    expect(appt!.status).toBe('scheduled');
  });

  it('cancels one’s own visit; the invited guests are told; twice is a 409', async () => {
    const r = await as(hostA, 'POST', `/api/host/visits/${visit.id}/cancel`);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().status).toBe('cancelled');
    const told = await t.app.ctx.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.appointmentId, visit.id), eq(notifications.template, 'invitation_cancelled')));
    expect(told.length).toBeGreaterThanOrEqual(2);
    expect((await as(hostA, 'POST', `/api/host/visits/${visit.id}/cancel`)).statusCode).toBe(409);
  });

  it('validates the guests and the times', async () => {
    const bad = async (body: object, status: number) => {
      const r = await as(hostA, 'POST', '/api/host/invitations', body);
      expect(r.statusCode, `${JSON.stringify(body).slice(0, 200)} → ${r.body}`).toBe(status);
    };
    await bad(invitation({ guests: [] }), 400);
    await bad(invitation({ guests: Array.from({ length: 51 }, (_, i) => ({ fullName: `G${i}`, email: `g${i}@example.test` })) }), 400);
    await bad(invitation({ guests: [{ fullName: 'No Address' }] }), 422);
    await bad(invitation({ guests: [{ fullName: 'Bad', email: 'not-an-address' }] }), 400);
    await bad(invitation({ guests: [{ fullName: '', email: 'x@example.test' }] }), 400);
    await bad(invitation({ startsAt: later(3), endsAt: later(2) }), 422);
    await bad(invitation({ language: 'de' }), 400);
    await bad(invitation({ siteId: '00000000-0000-4000-8000-000000000000' }), 422);
    // Nothing half-made: only the visitors of the successful invitations exist.
    const vs = await t.app.ctx.db.select({ id: visitors.id }).from(visitors).where(eq(visitors.createdBy, hostA.userId));
    expect(vs).toHaveLength(4);
    // A document number is no field of the portal: dropped by the schema, never stored.
    const doc = await as(
      hostA,
      'POST',
      '/api/host/invitations',
      invitation({ guests: [{ fullName: 'Doc', email: 'doc@example.test', documentNumber: '4510 999' }] }),
    );
    expect(doc.statusCode, doc.body).toBe(201);
    const [row] = await t.app.ctx.db.select().from(visitors).where(eq(visitors.id, doc.json().guests[0].visitorId));
    expect(row!.documentNumberEnc).toBeNull();
  });

  it('422 until an administrator has chosen the access rule of host invitations', async () => {
    const admin2 = await createOrgWithUser(t.app, 'No Rule Org', ['OrgAdmin']);
    const host2 = await addUser(t.app, admin2.orgId, ['Host']);
    const r = await as(host2, 'POST', '/api/host/invitations', invitation({ siteId: null }));
    expect(r.statusCode, r.body).toBe(422);
    expect(r.json().error.message).toBe('an administrator has not chosen the access rule for host invitations');
    const none = await t.app.ctx.db.select({ id: visitors.id }).from(visitors).where(eq(visitors.orgId, admin2.orgId));
    expect(none).toEqual([]);
  });

  it('no answer carried a phone, a document number, a credential or an address in clear', () => {
    expect(answers.length).toBeGreaterThan(10);
    const keys = new Set<string>();
    const strings: string[] = [];
    for (const body of answers) {
      try {
        walk(JSON.parse(body as string), keys, strings);
      } catch {
        // an empty body
      }
    }
    for (const k of FORBIDDEN_KEYS) expect(keys.has(k), k).toBe(false);
    expect(strings).not.toContain(emailA);
    expect(strings.some((s) => s.includes('900') && s.includes('555'))).toBe(false);
    // Nothing that looks like a JWT or a QR payload (GHS…).
    expect(strings.some((s) => /^eyJ/.test(s) || /^GH[SD]/.test(s))).toBe(false);
  });
});
