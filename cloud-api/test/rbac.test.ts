/**
 * Walks every /api/admin route with a user of every role, and with an admin of
 * another organisation, and compares each answer with ROLE_PERMISSIONS.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { generateKeyPair, signingKey, uuidv7 } from '@gatehouse/protocol';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteEntry } from '../src/app.js';
import { PERMISSIONS, type Permission, ROLE_PERMISSIONS, ROLES, type Role } from '../src/auth/rbac.js';
import { alarms, notifications } from '../src/db/schema.js';
import { notify } from '../src/modules/notifications/outbox.js';
import { publishRelease, uploadReleaseFile } from '../src/modules/updates/releases.js';
import { addUser, createOrgWithUser, type Login, seedTopology, startApp, type TestApp, uniqueEmail } from './helpers.js';
import { makeRelease } from './updates-fixture.js';

type Ids = Awaited<ReturnType<typeof seed>>;
interface Req {
  url: string;
  payload?: Record<string, unknown> | Buffer;
  /** Beside the caller's authorization (a release file is uploaded as application/octet-stream). */
  headers?: Record<string, string>;
}

/** The release key this app trusts (the releases routes); each published release gets a serial of its own. */
const releaseKey = signingKey(generateKeyPair().privateKey);
let releases = 0;
const newRelease = () => makeRelease(releaseKey, { version: `9.0.${releases}`, serial: 9000 + releases++ });

let t: TestApp;
let admin: Login;

async function post(url: string, payload: Record<string, unknown>, who: Login = admin) {
  const r = await t.app.inject({ method: 'POST', url, headers: who.auth, payload });
  if (r.statusCode !== 201) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
  return r.json() as { id: string; hostId?: string };
}

async function post200(url: string, payload: Record<string, unknown>, who: Login = admin) {
  const r = await t.app.inject({ method: 'POST', url, headers: who.auth, payload });
  if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
  return r.json() as Record<string, unknown>;
}

async function seed() {
  const topo = await seedTopology(t.app, admin);
  const host = await post('/api/admin/users', { email: uniqueEmail('host'), fullName: 'Host', roles: ['Host'] });
  const appointment = await post('/api/admin/appointments', {
    hostId: host.hostId!,
    visitorIds: [topo.visitor.id],
    startsAt: new Date(Date.now() + 3600_000).toISOString(),
    endsAt: new Date(Date.now() + 7200_000).toISOString(),
  });
  const pass = await newPass(topo.visitor.id, topo.rule.id);
  // Controller software: a ready release (installation-wide, published by the platform), the gate enrolled, a rollout.
  const actor = { orgId: admin.orgId, userId: admin.userId, ip: null, userAgent: null };
  const rel = newRelease();
  const release = (await publishRelease(t.app.ctx, actor, rel.signed)).id;
  for (const f of rel.files) await uploadReleaseFile(t.app.ctx, actor, release, f.path, undefined, Readable.from([f.content]));
  const { code } = (await post(`/api/admin/gates/${topo.gate.id}/enrollment`, {})) as unknown as { code: string };
  const enrolled = await t.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code } });
  if (enrolled.statusCode >= 300) throw new Error(`enroll: ${enrolled.statusCode} ${enrolled.body}`);
  const updateJob = await newUpdateJob(release, topo.site.id);
  return {
    release,
    updateJob,
    site: topo.site.id,
    zone: topo.zone.id,
    gate: topo.gate.id,
    rule: topo.rule.id,
    visitor: topo.visitor.id,
    user: host.id,
    host: host.hostId!,
    appointment: appointment.id,
    pass,
  };
}

/** A rollout of the seeded site waiting for tomorrow (nothing is sent): each pause, resume, cancel or postpone gets its own. */
async function newUpdateJob(releaseId: string, siteId: string): Promise<string> {
  return (await post('/api/admin/updates/jobs', { releaseId, scope: [siteId], startAt: new Date(Date.now() + 86_400_000).toISOString() }))
    .id;
}

async function newPass(visitorId: string, ruleId: string) {
  return (
    await post('/api/admin/passes', {
      visitorId,
      accessRuleId: ruleId,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 86_400_000).toISOString(),
    })
  ).id;
}

/** The seeded appointment, or for a Host one of their own. */
async function appointmentFor(i: Ids, who: Login): Promise<string> {
  if (!who.hostId) return i.appointment;
  return (
    await post('/api/admin/appointments', {
      hostId: who.hostId,
      visitorIds: [i.visitor],
      startsAt: '2030-02-01T10:00:00Z',
      endsAt: '2030-02-01T11:00:00Z',
    })
  ).id;
}

/** The seeded visitor, or for a Host one they registered (a Host reaches only the visitors of their own meetings). */
async function visitorFor(i: Ids, who: Login): Promise<string> {
  if (!who.hostId) return i.visitor;
  return (await post('/api/admin/visitors', { fullName: 'Guest of a host' }, who)).id;
}

/** The seeded pass, or for a Host one issued for their own meeting. */
async function passFor(i: Ids, who: Login): Promise<string> {
  if (!who.hostId) return i.pass;
  return (
    await post('/api/admin/passes', {
      visitorId: i.visitor,
      accessRuleId: i.rule,
      appointmentId: await appointmentFor(i, who),
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 86_400_000).toISOString(),
    })
  ).id;
}

/** A calendar day of its own for each request: one day per site and date. */
let days = 0;
const nextDay = () => new Date(Date.UTC(2040, 0, 1 + days++)).toISOString().slice(0, 10);
const holiday = (i: Ids) => post('/api/admin/holidays', { siteId: i.site, date: nextDay(), kind: 'closed', name: 'H' });

/** A dead job of the seeded organisation, as pg-boss leaves one after the last attempt: each retry gets its own. */
async function deadJob(): Promise<string> {
  const r = (await t.app.ctx.db.execute(
    sql`insert into pgboss.job (name, data, state, completed_on) values ('cleanup.expired', ${JSON.stringify({ orgId: admin.orgId })}::jsonb, 'failed', now()) returning id`,
  )) as unknown as { rows: Array<{ id: string }> };
  return r.rows[0]!.id;
}

/** A dead message of the seeded organisation (SMS is not configured here), for each retry its own. */
async function deadNotification(): Promise<string> {
  const id = await t.app.ctx.db.transaction((tx) =>
    notify(t.app.ctx, tx, { orgId: admin.orgId, channel: 'sms', to: '+15550100', template: 'test', language: 'en', vars: {} }),
  );
  await t.app.ctx.db.update(notifications).set({ status: 'dead' }).where(eq(notifications.id, id));
  return id;
}

/** A message in the seeded organisation's development mailbox (no SMTP_URL in tests). */
async function mailId(): Promise<string> {
  const sent = await t.app.inject({
    method: 'POST',
    url: '/api/admin/notifications/test',
    headers: admin.auth,
    payload: { channel: 'email', to: 'rbac@example.org' },
  });
  if (sent.statusCode !== 202) throw new Error(`test message: ${sent.statusCode} ${sent.body}`);
  for (let i = 0; i < 200; i++) {
    const box = await t.app.inject({ method: 'GET', url: '/api/admin/mailbox', headers: admin.auth });
    const first = (box.json() as { items: Array<{ id: string }> }).items[0];
    if (first) return first.id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no mail arrived in the development mailbox');
}

/** A gate of its own with an enrolled controller (a seal key, no broker): OSDP reader keys can be made for it. */
async function keyedGate(i: Ids): Promise<string> {
  const g = await post('/api/admin/gates', { siteId: i.site, zoneId: i.zone, name: 'OSDP', direction: 'in' });
  const { code } = (await post(`/api/admin/gates/${g.id}/enrollment`, {})) as unknown as { code: string };
  const sealKey = Buffer.alloc(32, 9).toString('base64');
  const r = await t.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code, sealKey } });
  if (r.statusCode >= 300) throw new Error(`enroll: ${r.statusCode} ${r.body}`);
  return g.id;
}

/** A raised alarm of the seeded organisation: each acknowledgement or clearance gets its own. */
async function newAlarm(i: Ids): Promise<string> {
  const id = uuidv7();
  await t.app.ctx.db
    .insert(alarms)
    .values({ id, orgId: admin.orgId, siteId: i.site, gateId: i.gate, kind: 'forced', raisedAt: new Date() });
  return id;
}

/** A request for each route; destructive ones get a fresh target so every role meets the same state. */
const FIXTURES: Record<string, (ids: Ids, who: Login) => Promise<Req> | Req> = {
  'POST /api/admin/sites': () => ({ url: '/api/admin/sites', payload: { name: 'S', timezone: 'Europe/Paris' } }),
  'GET /api/admin/sites': () => ({ url: '/api/admin/sites' }),
  'GET /api/admin/sites/:id': (i) => ({ url: `/api/admin/sites/${i.site}` }),
  'GET /api/admin/sites/:id/occupancy': (i) => ({ url: `/api/admin/sites/${i.site}/occupancy` }),
  // A site of its own per request (its gates change mode); ending a mode: one the caller may end (the emergency).
  'POST /api/admin/sites/:id/lockdown': async () => ({
    url: `/api/admin/sites/${(await post('/api/admin/sites', { name: 'Locked', timezone: 'UTC' })).id}/lockdown`,
    payload: { reason: 'drill' },
  }),
  'POST /api/admin/sites/:id/emergency': async () => ({
    url: `/api/admin/sites/${(await post('/api/admin/sites', { name: 'Evacuated', timezone: 'UTC' })).id}/emergency`,
    payload: { reason: 'drill' },
  }),
  'POST /api/admin/sites/:id/normal': async () => {
    const site = await post('/api/admin/sites', { name: 'Back to normal', timezone: 'UTC' });
    await post200(`/api/admin/sites/${site.id}/emergency`, { reason: 'drill' });
    return { url: `/api/admin/sites/${site.id}/normal`, payload: { reason: 'drill over' } };
  },
  'POST /api/admin/passes/:id/forgive': (i) => ({ url: `/api/admin/passes/${i.pass}/forgive`, payload: { reason: 'test' } }),
  'GET /api/admin/muster': () => ({ url: '/api/admin/muster' }),
  'GET /api/admin/muster.csv': () => ({ url: '/api/admin/muster.csv' }),
  'PATCH /api/admin/sites/:id': (i) => ({ url: `/api/admin/sites/${i.site}`, payload: { name: 'Renamed' } }),
  'DELETE /api/admin/sites/:id': async () => ({
    url: `/api/admin/sites/${(await post('/api/admin/sites', { name: 'Doomed', timezone: 'UTC' })).id}`,
  }),
  'POST /api/admin/zones': (i) => ({ url: '/api/admin/zones', payload: { siteId: i.site, name: 'Z' } }),
  'GET /api/admin/zones': () => ({ url: '/api/admin/zones' }),
  'GET /api/admin/zones/:id': (i) => ({ url: `/api/admin/zones/${i.zone}` }),
  'PATCH /api/admin/zones/:id': (i) => ({ url: `/api/admin/zones/${i.zone}`, payload: { name: 'Renamed' } }),
  'DELETE /api/admin/zones/:id': async (i) => ({
    url: `/api/admin/zones/${(await post('/api/admin/zones', { siteId: i.site, name: 'Doomed' })).id}`,
  }),
  'POST /api/admin/gates': (i) => ({ url: '/api/admin/gates', payload: { siteId: i.site, zoneId: i.zone, name: 'G', direction: 'both' } }),
  'GET /api/admin/gates': () => ({ url: '/api/admin/gates' }),
  'GET /api/admin/fleet': () => ({ url: '/api/admin/fleet' }),
  'GET /api/admin/gates/:id': (i) => ({ url: `/api/admin/gates/${i.gate}` }),
  'PATCH /api/admin/gates/:id': (i) => ({ url: `/api/admin/gates/${i.gate}`, payload: { name: 'Renamed' } }),
  'DELETE /api/admin/gates/:id': async (i) => {
    const g = await post('/api/admin/gates', { siteId: i.site, zoneId: i.zone, name: 'Doomed', direction: 'in' });
    return { url: `/api/admin/gates/${g.id}` };
  },
  'POST /api/admin/gates/:id/enrollment': (i) => ({ url: `/api/admin/gates/${i.gate}/enrollment` }),
  'POST /api/admin/gates/:id/commands': (i) => ({ url: `/api/admin/gates/${i.gate}/commands`, payload: { type: 'open' } }),
  'POST /api/admin/gates/:id/osdp-keys': async (i) => ({
    url: `/api/admin/gates/${await keyedGate(i)}/osdp-keys`,
    payload: { reader: 'door' },
  }),
  'POST /api/admin/gates/:id/osdp-keys/:reader/resend': async (i) => {
    const gate = await keyedGate(i);
    await post(`/api/admin/gates/${gate}/osdp-keys`, { reader: 'door' });
    return { url: `/api/admin/gates/${gate}/osdp-keys/door/resend` };
  },
  'GET /api/admin/gates/:id/osdp-keys': (i) => ({ url: `/api/admin/gates/${i.gate}/osdp-keys` }),
  'POST /api/admin/access-rules': (i) => ({
    url: '/api/admin/access-rules',
    payload: { name: 'R', zoneIds: [i.zone], weekdays: [1], timeWindows: [] },
  }),
  'GET /api/admin/access-rules': () => ({ url: '/api/admin/access-rules' }),
  'GET /api/admin/access-rules/:id': (i) => ({ url: `/api/admin/access-rules/${i.rule}` }),
  'PATCH /api/admin/access-rules/:id': (i) => ({ url: `/api/admin/access-rules/${i.rule}`, payload: { escortRequired: false } }),
  'DELETE /api/admin/access-rules/:id': async (i) => {
    const r = await post('/api/admin/access-rules', { name: 'Doomed', zoneIds: [i.zone], weekdays: [], timeWindows: [] });
    return { url: `/api/admin/access-rules/${r.id}` };
  },
  'POST /api/admin/holidays': (i) => ({
    url: '/api/admin/holidays',
    payload: { siteId: i.site, date: nextDay(), kind: 'closed', name: 'H' },
  }),
  'GET /api/admin/holidays': (i) => ({ url: `/api/admin/holidays?siteId=${i.site}` }),
  'GET /api/admin/holidays/:id': async (i) => ({ url: `/api/admin/holidays/${(await holiday(i)).id}` }),
  'PATCH /api/admin/holidays/:id': async (i) => ({ url: `/api/admin/holidays/${(await holiday(i)).id}`, payload: { name: 'Renamed' } }),
  'DELETE /api/admin/holidays/:id': async (i) => ({ url: `/api/admin/holidays/${(await holiday(i)).id}` }),
  'POST /api/admin/holidays/import': (i) => ({
    url: '/api/admin/holidays/import',
    payload: { siteId: i.site, days: [{ date: nextDay(), kind: 'closed', name: 'H' }] },
  }),
  'POST /api/admin/users': () => ({ url: '/api/admin/users', payload: { email: uniqueEmail('new'), fullName: 'N', roles: ['Operator'] } }),
  'GET /api/admin/users': () => ({ url: '/api/admin/users' }),
  'GET /api/admin/users/:id': (i) => ({ url: `/api/admin/users/${i.user}` }),
  'PATCH /api/admin/users/:id': async () => ({
    url: `/api/admin/users/${(await post('/api/admin/users', { email: uniqueEmail('p'), fullName: 'P', roles: ['Operator'] })).id}`,
    payload: { fullName: 'Renamed' },
  }),
  'DELETE /api/admin/users/:id': async () => ({
    url: `/api/admin/users/${(await post('/api/admin/users', { email: uniqueEmail('d'), fullName: 'D', roles: ['Operator'] })).id}`,
  }),
  'GET /api/admin/hosts': () => ({ url: '/api/admin/hosts' }),
  'POST /api/admin/visitors': () => ({ url: '/api/admin/visitors', payload: { fullName: 'V' } }),
  'GET /api/admin/visitors': () => ({ url: '/api/admin/visitors' }),
  'GET /api/admin/visitors/:id': async (i, who) => ({ url: `/api/admin/visitors/${await visitorFor(i, who)}` }),
  'PATCH /api/admin/visitors/:id': async (i, who) => ({
    url: `/api/admin/visitors/${await visitorFor(i, who)}`,
    payload: { company: 'ACME 2' },
  }),
  'DELETE /api/admin/visitors/:id': async (_i, who) => ({
    url: `/api/admin/visitors/${(await post('/api/admin/visitors', { fullName: 'Doomed' }, who.hostId ? who : admin)).id}`,
  }),
  // A Host acts on their own meetings (appointments:any is what lets the others act on everyone's).
  'POST /api/admin/appointments': async (i, who) => ({
    url: '/api/admin/appointments',
    payload: {
      hostId: who.hostId ?? i.host,
      visitorIds: [await visitorFor(i, who)],
      startsAt: '2030-01-01T10:00:00Z',
      endsAt: '2030-01-01T11:00:00Z',
    },
  }),
  'GET /api/admin/appointments': () => ({ url: '/api/admin/appointments' }),
  'GET /api/admin/appointments/:id': async (i, who) => ({ url: `/api/admin/appointments/${await appointmentFor(i, who)}` }),
  'PATCH /api/admin/appointments/:id': async (i, who) => ({
    url: `/api/admin/appointments/${await appointmentFor(i, who)}`,
    payload: { room: '101' },
  }),
  'POST /api/admin/passes': (i) => ({
    url: '/api/admin/passes',
    payload: {
      visitorId: i.visitor,
      accessRuleId: i.rule,
      type: 'single',
      validFrom: '2030-01-01T10:00:00Z',
      validTo: '2030-01-01T18:00:00Z',
    },
  }),
  'GET /api/admin/passes': () => ({ url: '/api/admin/passes' }),
  'GET /api/admin/passes/:id': async (i, who) => ({ url: `/api/admin/passes/${await passFor(i, who)}` }),
  'POST /api/admin/passes/:id/revoke': async (i) => ({
    url: `/api/admin/passes/${await newPass(i.visitor, i.rule)}/revoke`,
    payload: { reason: 'test' },
  }),
  // A visitor with an e-mail (the default channel) and a live pass of their own.
  'POST /api/admin/passes/:id/invite': async (i) => ({
    url: `/api/admin/passes/${await newPass((await post('/api/admin/visitors', { fullName: 'Invitee', email: uniqueEmail('inv') })).id, i.rule)}/invite`,
    payload: {},
  }),
  'GET /api/admin/passes/:id/credential': (i) => ({ url: `/api/admin/passes/${i.pass}/credential?kind=static` }),
  'GET /api/admin/passes/:id/qr.svg': (i) => ({ url: `/api/admin/passes/${i.pass}/qr.svg` }),
  'POST /api/admin/passes/:id/check': (i) => ({ url: `/api/admin/passes/${i.pass}/check`, payload: { gateId: i.gate } }),
  // Org A is a real organisation: a caller past the guard meets 403 not_sandbox (ANSWERED_ELSEWHERE below); sandbox.test.ts scans for real.
  'POST /api/admin/sandbox/scan': (i) => ({ url: '/api/admin/sandbox/scan', payload: { passId: i.pass } }),
  'GET /api/admin/checkins': () => ({ url: '/api/admin/checkins' }),
  'GET /api/admin/checkins.csv': () => ({ url: '/api/admin/checkins.csv' }),
  'GET /api/admin/alarms': () => ({ url: '/api/admin/alarms' }),
  'GET /api/admin/alarms/:id': async (i) => ({ url: `/api/admin/alarms/${await newAlarm(i)}` }),
  'POST /api/admin/alarms/:id/acknowledge': async (i) => ({ url: `/api/admin/alarms/${await newAlarm(i)}/acknowledge`, payload: {} }),
  'POST /api/admin/alarms/:id/clear': async (i) => ({ url: `/api/admin/alarms/${await newAlarm(i)}/clear`, payload: { note: 'test' } }),
  'GET /api/admin/audit-logs': () => ({ url: '/api/admin/audit-logs' }),
  'GET /api/admin/dashboard': () => ({ url: '/api/admin/dashboard' }),
  'GET /api/admin/jobs/dead': () => ({ url: '/api/admin/jobs/dead' }),
  'POST /api/admin/jobs/dead/:id/retry': async () => ({ url: `/api/admin/jobs/dead/${await deadJob()}/retry` }),
  'GET /api/admin/jobs/stats': () => ({ url: '/api/admin/jobs/stats' }),
  'GET /api/admin/notifications': () => ({ url: '/api/admin/notifications' }),
  'POST /api/admin/notifications/:id/retry': async () => ({ url: `/api/admin/notifications/${await deadNotification()}/retry` }),
  'POST /api/admin/notifications/test': () => ({
    url: '/api/admin/notifications/test',
    payload: { channel: 'email', to: 'rbac@example.org' },
  }),
  'GET /api/admin/mailbox': () => ({ url: '/api/admin/mailbox' }),
  'GET /api/admin/mailbox/:id': async () => ({ url: `/api/admin/mailbox/${await mailId()}` }),
  'GET /api/admin/notification-templates': () => ({ url: '/api/admin/notification-templates' }),
  'PUT /api/admin/notification-templates/:key/:language': () => ({
    url: '/api/admin/notification-templates/test/en',
    payload: { subject: 'Test from {{orgName}}', body: 'Hello.' },
  }),
  'DELETE /api/admin/notification-templates/:key/:language': () => ({ url: '/api/admin/notification-templates/test/en' }),
  'POST /api/admin/notification-templates/preview': () => ({
    url: '/api/admin/notification-templates/preview',
    payload: { key: 'invitation', language: 'ru' },
  }),
  'GET /api/admin/org-settings': () => ({ url: '/api/admin/org-settings' }),
  'PATCH /api/admin/org-settings': () => ({ url: '/api/admin/org-settings', payload: { guestStaticQr: true } }),
  'POST /api/admin/releases': () => ({ url: '/api/admin/releases', payload: { release: newRelease().signed } }),
  'PUT /api/admin/releases/:id/files/*': (i) => ({
    url: `/api/admin/releases/${i.release}/files/agent/gatehouse-edge.mjs`,
    headers: { 'content-type': 'application/octet-stream' },
    payload: Buffer.from("// gatehouse-edge 9.0.0\nconsole.log('ok');\n"),
  }),
  'GET /api/admin/releases': () => ({ url: '/api/admin/releases' }),
  'GET /api/admin/releases/:id': (i) => ({ url: `/api/admin/releases/${i.release}` }),
  'GET /api/admin/updates/available': () => ({ url: '/api/admin/updates/available' }),
  'POST /api/admin/updates/check': () => ({ url: '/api/admin/updates/check' }),
  'POST /api/admin/updates/jobs': (i) => ({
    url: '/api/admin/updates/jobs',
    payload: { releaseId: i.release, scope: [i.site], startAt: new Date(Date.now() + 86_400_000).toISOString() },
  }),
  'GET /api/admin/updates/jobs': () => ({ url: '/api/admin/updates/jobs' }),
  'GET /api/admin/updates/jobs/:id': (i) => ({ url: `/api/admin/updates/jobs/${i.updateJob}` }),
  'GET /api/admin/updates/jobs/:id/logs': (i) => ({ url: `/api/admin/updates/jobs/${i.updateJob}/logs` }),
  'POST /api/admin/updates/jobs/:id/pause': async (i) => ({
    url: `/api/admin/updates/jobs/${await newUpdateJob(i.release, i.site)}/pause`,
  }),
  'POST /api/admin/updates/jobs/:id/resume': async (i) => {
    const id = await newUpdateJob(i.release, i.site);
    await post200(`/api/admin/updates/jobs/${id}/pause`, {});
    return { url: `/api/admin/updates/jobs/${id}/resume` };
  },
  'POST /api/admin/updates/jobs/:id/cancel': async (i) => ({
    url: `/api/admin/updates/jobs/${await newUpdateJob(i.release, i.site)}/cancel`,
  }),
  'POST /api/admin/updates/jobs/:id/postpone': async (i) => ({
    url: `/api/admin/updates/jobs/${await newUpdateJob(i.release, i.site)}/postpone`,
    payload: { until: new Date(Date.now() + 2 * 86_400_000).toISOString() },
  }),
  'GET /api/admin/updates/maintenance-windows': () => ({ url: '/api/admin/updates/maintenance-windows' }),
  'PUT /api/admin/updates/maintenance-windows/:siteId': (i) => ({
    url: `/api/admin/updates/maintenance-windows/${i.site}`,
    payload: { window: { days: [6, 7], from: '02:00', to: '05:00' } },
  }),
};

/**
 * Releases belong to the installation, not to an organisation (modules/updates/releases.ts): another
 * organisation reads the same release, and only a PlatformAdmin uploads its files.
 */
const INSTALLATION_WIDE = new Set(['GET /api/admin/releases', 'GET /api/admin/releases/:id', 'PUT /api/admin/releases/:id/files/*']);

/**
 * Routes that work only in an organisation of another kind than Org A: a role that may use them gets past the
 * permission guard to this error code instead of a 2xx (a role that may not still gets 403 `forbidden`).
 */
const ANSWERED_ELSEWHERE: Record<string, string> = { 'POST /api/admin/sandbox/scan': 'not_sandbox' };

/** What each route is meant to require, written out independently of the route code so a mislabelled route fails. */
const EXPECTED: Record<string, string> = {
  'POST /api/admin/sites': 'sites:write',
  'GET /api/admin/sites': 'sites:read',
  'GET /api/admin/sites/:id': 'sites:read',
  'PATCH /api/admin/sites/:id': 'sites:write',
  'DELETE /api/admin/sites/:id': 'sites:write',
  'GET /api/admin/sites/:id/occupancy': 'checkins:read',
  'POST /api/admin/sites/:id/lockdown': 'sites:lockdown',
  'POST /api/admin/sites/:id/emergency': 'sites:emergency',
  // Ending a lockdown also needs sites:lockdown, checked against the site's mode (site-modes.test.ts).
  'POST /api/admin/sites/:id/normal': 'sites:emergency',
  'POST /api/admin/passes/:id/forgive': 'passback:forgive',
  'GET /api/admin/muster': 'muster:read',
  'GET /api/admin/muster.csv': 'muster:read',
  'POST /api/admin/zones': 'zones:write',
  'GET /api/admin/zones': 'zones:read',
  'GET /api/admin/zones/:id': 'zones:read',
  'PATCH /api/admin/zones/:id': 'zones:write',
  'DELETE /api/admin/zones/:id': 'zones:write',
  'POST /api/admin/gates': 'gates:write',
  'GET /api/admin/gates': 'gates:read',
  'GET /api/admin/fleet': 'gates:read',
  'GET /api/admin/gates/:id': 'gates:read',
  'PATCH /api/admin/gates/:id': 'gates:write',
  'DELETE /api/admin/gates/:id': 'gates:write',
  'POST /api/admin/gates/:id/enrollment': 'gates:enroll',
  'POST /api/admin/gates/:id/commands': 'gates:command',
  'POST /api/admin/gates/:id/osdp-keys': 'gates:write',
  'POST /api/admin/gates/:id/osdp-keys/:reader/resend': 'gates:write',
  'GET /api/admin/gates/:id/osdp-keys': 'gates:read',
  'POST /api/admin/access-rules': 'rules:write',
  'GET /api/admin/access-rules': 'rules:read',
  'GET /api/admin/access-rules/:id': 'rules:read',
  'PATCH /api/admin/access-rules/:id': 'rules:write',
  'DELETE /api/admin/access-rules/:id': 'rules:write',
  'POST /api/admin/holidays': 'rules:write',
  'GET /api/admin/holidays': 'rules:read',
  'GET /api/admin/holidays/:id': 'rules:read',
  'PATCH /api/admin/holidays/:id': 'rules:write',
  'DELETE /api/admin/holidays/:id': 'rules:write',
  'POST /api/admin/holidays/import': 'rules:write',
  'POST /api/admin/users': 'users:write',
  'GET /api/admin/users': 'users:read',
  'GET /api/admin/users/:id': 'users:read',
  'PATCH /api/admin/users/:id': 'users:write',
  'DELETE /api/admin/users/:id': 'users:write',
  'GET /api/admin/hosts': 'hosts:read',
  'POST /api/admin/visitors': 'visitors:write',
  'GET /api/admin/visitors': 'visitors:read',
  'GET /api/admin/visitors/:id': 'visitors:read',
  'PATCH /api/admin/visitors/:id': 'visitors:write',
  'DELETE /api/admin/visitors/:id': 'visitors:write',
  'POST /api/admin/appointments': 'appointments:write',
  'GET /api/admin/appointments': 'appointments:read',
  'GET /api/admin/appointments/:id': 'appointments:read',
  'PATCH /api/admin/appointments/:id': 'appointments:write',
  'POST /api/admin/passes': 'passes:issue',
  'GET /api/admin/passes': 'passes:read',
  'GET /api/admin/passes/:id': 'passes:read',
  'POST /api/admin/passes/:id/revoke': 'passes:revoke',
  'POST /api/admin/passes/:id/invite': 'passes:issue',
  'GET /api/admin/passes/:id/credential': 'passes:credential',
  'GET /api/admin/passes/:id/qr.svg': 'passes:credential',
  'POST /api/admin/passes/:id/check': 'passes:check',
  'POST /api/admin/sandbox/scan': 'passes:check',
  'GET /api/admin/checkins': 'checkins:read',
  'GET /api/admin/checkins.csv': 'checkins:read',
  'GET /api/admin/alarms': 'alarms:read',
  'GET /api/admin/alarms/:id': 'alarms:read',
  'POST /api/admin/alarms/:id/acknowledge': 'alarms:manage',
  'POST /api/admin/alarms/:id/clear': 'alarms:manage',
  'GET /api/admin/audit-logs': 'audit:read',
  'GET /api/admin/dashboard': 'checkins:read',
  'GET /api/admin/jobs/dead': 'jobs:read',
  'POST /api/admin/jobs/dead/:id/retry': 'jobs:retry',
  'GET /api/admin/jobs/stats': 'jobs:read',
  'GET /api/admin/notifications': 'notifications:read',
  'POST /api/admin/notifications/:id/retry': 'notifications:write',
  'POST /api/admin/notifications/test': 'notifications:write',
  'GET /api/admin/mailbox': 'notifications:read',
  'GET /api/admin/mailbox/:id': 'notifications:read',
  'GET /api/admin/notification-templates': 'notifications:read',
  'PUT /api/admin/notification-templates/:key/:language': 'notifications:write',
  'DELETE /api/admin/notification-templates/:key/:language': 'notifications:write',
  'POST /api/admin/notification-templates/preview': 'notifications:read',
  'GET /api/admin/org-settings': 'org:settings',
  'PATCH /api/admin/org-settings': 'org:settings',
  'POST /api/admin/releases': 'releases:publish',
  'PUT /api/admin/releases/:id/files/*': 'releases:publish',
  'GET /api/admin/releases': 'updates:read',
  'GET /api/admin/releases/:id': 'updates:read',
  'GET /api/admin/updates/available': 'updates:read',
  'POST /api/admin/updates/check': 'updates:manage',
  'POST /api/admin/updates/jobs': 'updates:manage',
  'GET /api/admin/updates/jobs': 'updates:read',
  'GET /api/admin/updates/jobs/:id': 'updates:read',
  'GET /api/admin/updates/jobs/:id/logs': 'updates:read',
  'POST /api/admin/updates/jobs/:id/pause': 'updates:manage',
  'POST /api/admin/updates/jobs/:id/resume': 'updates:manage',
  'POST /api/admin/updates/jobs/:id/cancel': 'updates:manage',
  'POST /api/admin/updates/jobs/:id/postpone': 'updates:manage',
  'GET /api/admin/updates/maintenance-windows': 'updates:read',
  'PUT /api/admin/updates/maintenance-windows/:siteId': 'updates:manage',
};

describe('RBAC and tenancy over every admin route', () => {
  let ids: Ids;
  const users = new Map<Role, Login>();
  let stranger: Login;

  beforeAll(async () => {
    t = await startApp({
      updates: { releaseKeys: [releaseKey.publicKey], releasesDir: await mkdtemp(join(tmpdir(), 'gh-rbac-releases-')), tickS: 86_400 },
    });
    admin = await createOrgWithUser(t.app, 'Org A', ['OrgAdmin']);
    ids = await seed();
    for (const role of ROLES) users.set(role, await addUser(t.app, admin.orgId, [role]));
    stranger = await createOrgWithUser(t.app, 'Org B', ['OrgAdmin']);
    // Org B has data of its own, so "another org's list is empty" is not why its lists hide org A's rows.
    await seedTopology(t.app, stranger);
  });
  afterAll(async () => t?.close());

  const adminRoutes = () => t.app.routeTable.filter((r) => r.url.startsWith('/api/admin'));
  const hostRoutes = () => t.app.routeTable.filter((r) => r.url.startsWith('/api/host'));
  const devconsoleRoutes = () => t.app.routeTable.filter((r) => r.url.startsWith('/api/devconsole'));

  it('every permission is walked: each one a route declares, or one of the field and scope permissions tested below', () => {
    const declared = new Set([...adminRoutes(), ...hostRoutes(), ...devconsoleRoutes()].map((r) => r.permission));
    // visitors:pii and appointments:any guard fields and rows, not routes: the tests below walk them.
    expect(PERMISSIONS.filter((p) => !declared.has(p)).sort()).toEqual(['appointments:any', 'visitors:pii']);
  });

  it('every admin route declares the permission this test expects of it, and has a fixture', () => {
    const routes = adminRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(40);
    const declared = Object.fromEntries(routes.map((r) => [`${r.method} ${r.url}`, r.permission]));
    expect(declared).toEqual(EXPECTED);
    for (const r of routes) expect(FIXTURES[`${r.method} ${r.url}`], `fixture for ${r.method} ${r.url}`).toBeDefined();
  });

  it('each role gets exactly what ROLE_PERMISSIONS grants', async () => {
    const mismatches: string[] = [];
    for (const route of adminRoutes()) {
      for (const role of ROLES) {
        const req = await FIXTURES[`${route.method} ${route.url}`]!(ids, users.get(role)!);
        const res = await t.app.inject({
          method: route.method as 'GET',
          url: req.url,
          headers: { ...users.get(role)!.auth, ...req.headers },
          ...(req.payload ? { payload: req.payload } : {}),
        });
        const allowed = ROLE_PERMISSIONS[role].includes(route.permission!);
        const elsewhere = ANSWERED_ELSEWHERE[`${route.method} ${route.url}`];
        const passed = elsewhere
          ? res.statusCode < 500 && res.json().error?.code === elsewhere
          : res.statusCode >= 200 && res.statusCode < 300;
        const ok = allowed ? passed : res.statusCode === 403;
        if (!ok)
          mismatches.push(
            `${role} ${route.method} ${route.url}: expected ${allowed ? (elsewhere ?? '2xx') : '403'}, got ${res.statusCode} ${res.body.slice(0, 120)}`,
          );
        if (!allowed) expect(res.json().error.code).toBe('forbidden');
      }
    }
    expect(mismatches).toEqual([]);
  });

  /**
   * Walks routes that all need `permission`: 401 without a token, 403 for each role without it, never
   * 401/403 for a role with it. Ids nobody has: a caller who may use the route gets past the guard (to a
   * 404 or a 4xx of the body), one who may not gets 403 first. Answers the mismatches.
   */
  async function walkGuard(routes: RouteEntry[], permission: Permission): Promise<string[]> {
    const mismatches: string[] = [];
    for (const route of routes) {
      expect(route.permission, `${route.method} ${route.url}`).toBe(permission);
      const url = route.url.replace(/:[A-Za-z]+/g, '00000000-0000-7000-8000-000000000000');
      const payload = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH' ? {} : undefined;
      const anon = await t.app.inject({ method: route.method as 'GET', url, ...(payload ? { payload } : {}) });
      if (anon.statusCode !== 401) mismatches.push(`anonymous ${route.method} ${route.url}: ${anon.statusCode}`);
      for (const role of ROLES) {
        const res = await t.app.inject({
          method: route.method as 'GET',
          url,
          headers: users.get(role)!.auth,
          ...(payload ? { payload } : {}),
        });
        const allowed = ROLE_PERMISSIONS[role].includes(permission);
        const ok = allowed ? res.statusCode !== 401 && res.statusCode !== 403 : res.statusCode === 403;
        if (!ok)
          mismatches.push(`${role} ${route.method} ${route.url}: expected ${allowed ? 'past the guard' : '403'}, got ${res.statusCode}`);
      }
    }
    return mismatches;
  }

  it('every host-portal route needs host:portal: 401 without a token, 403 for each role without it, never for a role with it', async () => {
    const routes = hostRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(10);
    expect(await walkGuard(routes, 'host:portal')).toEqual([]);
  });

  it('every developer-console route needs devconsole:manage: 401 without a token, 403 for each role without it, never for a role with it', async () => {
    const routes = devconsoleRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(9);
    expect(await walkGuard(routes, 'devconsole:manage')).toEqual([]);
    // The roles that hold it, as the issue says: the organisation's admins and its developers.
    expect(ROLES.filter((r) => ROLE_PERMISSIONS[r].includes('devconsole:manage')).sort()).toEqual([
      'Developer',
      'OrgAdmin',
      'PlatformAdmin',
    ]);
  });

  it('a Developer uses the developer console for real (an application, a key); Host and Operator are refused', async () => {
    const dev = users.get('Developer')!;
    const made = await t.app.inject({ method: 'POST', url: '/api/devconsole/apps', headers: dev.auth, payload: { name: 'RBAC app' } });
    expect(made.statusCode, made.body).toBe(201);
    const id = made.json().id as string;
    const key = await t.app.inject({
      method: 'POST',
      url: `/api/devconsole/apps/${id}/keys`,
      headers: dev.auth,
      payload: { scopes: ['sites:read'] },
    });
    expect(key.statusCode, key.body).toBe(201);
    for (const role of ['Host', 'Operator'] as const) {
      const r = await t.app.inject({ method: 'GET', url: `/api/devconsole/apps/${id}/keys`, headers: users.get(role)!.auth });
      expect(r.statusCode, role).toBe(403);
    }
  });

  it('without a token every admin route is 401', async () => {
    for (const route of adminRoutes()) {
      const req = await FIXTURES[`${route.method} ${route.url}`]!(ids, admin);
      const res = await t.app.inject({
        method: route.method as 'GET',
        url: req.url,
        headers: { ...req.headers },
        ...(req.payload ? { payload: req.payload } : {}),
      });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
    }
  });

  it('an admin of another organisation gets 404 for ids of this one, and never sees its rows', async () => {
    const ours = new Set(Object.values(ids));
    const mismatches: string[] = [];
    for (const route of adminRoutes()) {
      const req = await FIXTURES[`${route.method} ${route.url}`]!(ids, admin);
      const res = await t.app.inject({
        method: route.method as 'GET',
        url: req.url,
        headers: { ...stranger.auth, ...req.headers },
        ...(req.payload ? { payload: req.payload } : {}),
      });
      if (INSTALLATION_WIDE.has(`${route.method} ${route.url}`)) continue;
      if (route.url.includes(':id')) {
        if (res.statusCode !== 404) mismatches.push(`${route.method} ${route.url}: expected 404, got ${res.statusCode}`);
      } else if (route.method === 'GET') {
        if (res.statusCode !== 200) mismatches.push(`${route.method} ${route.url}: expected 200, got ${res.statusCode}`);
        // A CSV (the muster's) is read as the text it is.
        const text = String(res.headers['content-type']).startsWith('application/json') ? JSON.stringify(res.json()) : res.body;
        const leaked = text
          .match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)
          ?.filter((id) => ours.has(id) || id === admin.orgId);
        if (leaked?.length) mismatches.push(`${route.method} ${route.url}: leaked ${leaked.join(',')}`);
      } else if (req.payload && JSON.stringify(req.payload).match(/[0-9a-f]{8}-/)) {
        // A create that names this org's rows (site, zone, visitor…) must not succeed from the other org.
        if (res.statusCode < 400) mismatches.push(`${route.method} ${route.url}: referenced another org's ids and got ${res.statusCode}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('a Host sees and books only their own meetings; another host’s is a 404', async () => {
    const a = await addUser(t.app, admin.orgId, ['Host']);
    const b = await addUser(t.app, admin.orgId, ['Host']);
    // A registers their guest first: a Host books only visitors of their own (see the visitor test below).
    const guest = (await post('/api/admin/visitors', { fullName: 'Guest of A' }, a)).id;
    const body = (hostId: string | null) => ({
      hostId,
      visitorIds: [guest],
      startsAt: '2030-03-01T10:00:00Z',
      endsAt: '2030-03-01T11:00:00Z',
    });
    const mine = await t.app.inject({ method: 'POST', url: '/api/admin/appointments', headers: a.auth, payload: body(a.hostId) });
    expect(mine.statusCode).toBe(201);
    const forOther = await t.app.inject({ method: 'POST', url: '/api/admin/appointments', headers: a.auth, payload: body(b.hostId) });
    expect(forOther.statusCode).toBe(403);
    const id = mine.json().id;
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/appointments/${id}`, headers: b.auth })).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'PATCH', url: `/api/admin/appointments/${id}`, headers: b.auth, payload: { room: 'x' } })).statusCode,
    ).toBe(404);
    const listA = (await t.app.inject({ method: 'GET', url: '/api/admin/appointments', headers: a.auth })).json();
    expect(listA.items.map((x: { id: string }) => x.id)).toEqual([id]);
    const listB = (await t.app.inject({ method: 'GET', url: '/api/admin/appointments', headers: b.auth })).json();
    expect(listB.items).toEqual([]);
    // The front desk (appointments:any) sees everyone's.
    const desk = (
      await t.app.inject({ method: 'GET', url: '/api/admin/appointments?limit=500', headers: users.get('Operator')!.auth })
    ).json();
    expect(desk.items.map((x: { id: string }) => x.id)).toContain(id);
  });

  const as = (who: Login, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Record<string, unknown>) =>
    t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
  const idsOf = (body: { items: { id: string }[] }) => body.items.map((x) => x.id);

  it('every role sees and writes phone and document number exactly when it holds visitors:pii', async () => {
    const mismatches: string[] = [];
    for (const role of ROLES) {
      const perms = ROLE_PERMISSIONS[role];
      if (!perms.includes('visitors:read')) continue;
      const who = users.get(role)!;
      const pii = perms.includes('visitors:pii');
      // A visitor with both fields set, on a meeting of this user when they are a Host.
      const v = await post('/api/admin/visitors', { fullName: `PII ${role}`, phone: '+1 555 0100', documentNumber: 'X 123' });
      if (who.hostId)
        await post('/api/admin/appointments', {
          hostId: who.hostId,
          visitorIds: [v.id],
          startsAt: '2030-04-01T10:00:00Z',
          endsAt: '2030-04-01T11:00:00Z',
        });
      const one = await as(who, 'GET', `/api/admin/visitors/${v.id}`);
      const listed = (await as(who, 'GET', '/api/admin/visitors?limit=500')).json().items.find((x: { id: string }) => x.id === v.id);
      for (const [where, body] of [
        ['get', one.json()],
        ['list', listed],
      ] as const) {
        if (!body) mismatches.push(`${role} ${where}: visitor not found`);
        else if (pii ? body.phone !== '+1 555 0100' || body.documentNumber !== 'X 123' : 'phone' in body || 'documentNumber' in body)
          mismatches.push(`${role} ${where}: ${JSON.stringify(body)}`);
      }
      if (!perms.includes('visitors:write')) continue;
      const patch = await as(who, 'PATCH', `/api/admin/visitors/${v.id}`, { phone: '+1 555 0199' });
      if (patch.statusCode !== (pii ? 200 : 403)) mismatches.push(`${role} PATCH phone: ${patch.statusCode}`);
      const created = await as(who, 'POST', '/api/admin/visitors', { fullName: 'With document', documentNumber: 'Y 1' });
      if (created.statusCode !== (pii ? 201 : 403)) mismatches.push(`${role} POST documentNumber: ${created.statusCode}`);
      if (!pii) {
        // Their other fields stay theirs to write; the answer still leaves the personal data out.
        const ok = await as(who, 'PATCH', `/api/admin/visitors/${v.id}`, { company: 'Renamed' });
        if (ok.statusCode !== 200 || 'phone' in ok.json()) mismatches.push(`${role} PATCH company: ${ok.statusCode} ${ok.body}`);
      }
    }
    expect(mismatches).toEqual([]);
    // Nothing was written by the refused requests.
    const v = (await as(admin, 'GET', '/api/admin/visitors?limit=500'))
      .json()
      .items.find((x: { fullName: string }) => x.fullName === 'PII Host');
    expect(v.phone).toBe('+1 555 0100');
  });

  it('a Host sees and changes only the visitors of their own meetings (or registered by them); another host’s is a 404', async () => {
    const a = await addUser(t.app, admin.orgId, ['Host']);
    const b = await addUser(t.app, admin.orgId, ['Host']);
    const desk = users.get('Operator')!;
    const mine = await as(a, 'POST', '/api/admin/visitors', { fullName: 'Guest of A' });
    expect(mine.statusCode).toBe(201);
    const va = mine.json().id as string;
    expect((await as(a, 'GET', `/api/admin/visitors/${va}`)).statusCode).toBe(200);
    // Another host: as if it did not exist.
    expect((await as(b, 'GET', `/api/admin/visitors/${va}`)).statusCode).toBe(404);
    expect((await as(b, 'PATCH', `/api/admin/visitors/${va}`, { company: 'x' })).statusCode).toBe(404);
    expect((await as(b, 'DELETE', `/api/admin/visitors/${va}`)).statusCode).toBe(404);
    expect(idsOf((await as(b, 'GET', '/api/admin/visitors?limit=500')).json())).not.toContain(va);
    // The org's other visitors (the seeded one is on another host's meeting) are out of A's reach…
    expect((await as(a, 'GET', `/api/admin/visitors/${ids.visitor}`)).statusCode).toBe(404);
    expect((await as(a, 'PATCH', `/api/admin/visitors/${ids.visitor}`, { company: 'x' })).statusCode).toBe(404);
    expect((await as(a, 'DELETE', `/api/admin/visitors/${ids.visitor}`)).statusCode).toBe(404);
    expect(idsOf((await as(a, 'GET', '/api/admin/visitors?limit=500')).json())).toEqual([va]);
    // …and cannot be pulled into A's meeting to reach them.
    const meeting = (visitorIds: string[]) => ({
      hostId: a.hostId,
      visitorIds,
      startsAt: '2030-05-01T10:00:00Z',
      endsAt: '2030-05-01T11:00:00Z',
    });
    expect((await as(a, 'POST', '/api/admin/appointments', meeting([ids.visitor]))).statusCode).toBe(422);
    const booked = await as(a, 'POST', '/api/admin/appointments', meeting([va]));
    expect(booked.statusCode).toBe(201);
    expect((await as(a, 'PATCH', `/api/admin/appointments/${booked.json().id}`, { visitorIds: [va, ids.visitor] })).statusCode).toBe(422);
    // A visitor the front desk puts on A's meeting is A's to see, not B's.
    const vd = (await post('/api/admin/visitors', { fullName: 'Booked by the desk' }, desk)).id;
    await post('/api/admin/appointments', { ...meeting([vd]), startsAt: '2030-05-02T10:00:00Z', endsAt: '2030-05-02T11:00:00Z' }, desk);
    expect((await as(a, 'GET', `/api/admin/visitors/${vd}`)).statusCode).toBe(200);
    expect((await as(a, 'PATCH', `/api/admin/visitors/${vd}`, { company: 'Visiting' })).statusCode).toBe(200);
    expect((await as(b, 'GET', `/api/admin/visitors/${vd}`)).statusCode).toBe(404);
    expect(idsOf((await as(a, 'GET', '/api/admin/visitors?limit=500')).json()).sort()).toEqual([va, vd].sort());
    // The front desk sees everyone's.
    const all = idsOf((await as(desk, 'GET', '/api/admin/visitors?limit=500')).json());
    expect(all).toEqual(expect.arrayContaining([va, vd, ids.visitor]));
  });

  it('a Host sees only the passes of their own meetings and never reads an entry credential; an Operator does', async () => {
    const a = await addUser(t.app, admin.orgId, ['Host']);
    const b = await addUser(t.app, admin.orgId, ['Host']);
    const pa = await passFor(ids, a);
    expect((await as(a, 'GET', `/api/admin/passes/${pa}`)).statusCode).toBe(200);
    expect((await as(b, 'GET', `/api/admin/passes/${pa}`)).statusCode).toBe(404);
    expect((await as(a, 'GET', `/api/admin/passes/${ids.pass}`)).statusCode).toBe(404);
    expect(idsOf((await as(a, 'GET', '/api/admin/passes?limit=500')).json())).toEqual([pa]);
    expect(idsOf((await as(a, 'GET', `/api/admin/passes?limit=500&visitorId=${ids.visitor}`)).json())).toEqual([pa]);
    expect(idsOf((await as(b, 'GET', '/api/admin/passes?limit=500')).json())).toEqual([]);
    for (const path of ['credential', 'credential?kind=static', 'qr.svg', 'qr.svg?kind=static']) {
      const own = await as(a, 'GET', `/api/admin/passes/${pa}/${path}`);
      expect(own.statusCode, path).toBe(403);
      expect(own.json().error.code).toBe('forbidden');
      expect(own.body).not.toContain('<svg');
    }
    for (const role of ['Operator', 'SecurityOfficer', 'OrgAdmin'] as const) {
      const cred = await as(users.get(role)!, 'GET', `/api/admin/passes/${pa}/credential`);
      expect(cred.statusCode, role).toBe(200);
      expect(cred.json().payload).toEqual(expect.any(String));
      const svg = await as(users.get(role)!, 'GET', `/api/admin/passes/${pa}/qr.svg?kind=static`);
      expect(svg.statusCode, role).toBe(200);
      expect(svg.headers['content-type']).toContain('image/svg+xml');
    }
  });
});
