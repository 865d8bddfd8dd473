/**
 * The rollout engine (issue 16): canary first, then batches, driven by the controllers' status reports
 * (`updateReported`, what the MQTT link calls for each status); a failed canary halts the rollout with the
 * other gates untouched (no command sent to them); pause, resume, cancel, postpone; each site's maintenance
 * window in its own time zone (a fixed `now`); silent controllers timed out; the nightly release check;
 * `update.completed` delivered as a webhook.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, signingKey, type UpdateGateState, uuidv7 } from '@gatehouse/protocol';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiApplications, gateCommands, updateJobGates, updateLogs } from '../src/db/schema.js';
import { advanceJob, checkForReleases, updateReported } from '../src/modules/updates/service.js';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp, until } from './helpers.js';
import { type ReceivedHook, startWebhookReceiver, type WebhookReceiver } from './stand-ins/webhook-receiver.js';
import { enrollGate, makeRelease, readyRelease } from './updates-fixture.js';

const releaseKey = signingKey(generateKeyPair().privateKey);

let t: TestApp;
let dir: string;
let receiver: WebhookReceiver;
let platform: Login;
let admin: Login;
let topo: Awaited<ReturnType<typeof seedTopology>>;
/** Five enrolled gates of the first site, in creation order. */
let site1Gates: string[];
let releaseId: string;
let tokyoSite: string;
let tokyoGates: string[];

interface JobView {
  id: string;
  state: string;
  stage: string;
  haltedReason: string | null;
  counts: Record<string, number>;
  gateStates: Array<{ gateId: string; state: string; canary: boolean; batch: number; detail: string | null }>;
}

const api = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, who = admin) => {
  const r = await t.app.inject({ method, url: `/api/admin${url}`, headers: who.auth, ...(payload ? { payload } : {}) });
  return r;
};
const job = async (id: string) => {
  const r = await api('GET', `/updates/jobs/${id}`);
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as JobView;
};
const stateOf = (j: JobView, gateId: string) => j.gateStates.find((g) => g.gateId === gateId)!.state;
let reportTs = Date.now();
/** A status of `gateId`'s controller carrying its update job's progress, as the link hands it on. */
const report = (gateId: string, jobId: string, state: UpdateGateState, detail?: string, now?: Date) =>
  updateReported(
    t.app.ctx,
    { orgId: admin.orgId, gateId },
    { state: 'online', update: { jobId, state, version: '0.4.0', log: [`${state} step`], ts: ++reportTs, ...(detail ? { detail } : {}) } },
    now,
  );
const walk = async (gateId: string, jobId: string, end: UpdateGateState, detail?: string) => {
  for (const s of ['downloading', 'verifying', 'installing', 'restarting', 'checking_health'] as const) await report(gateId, jobId, s);
  await report(gateId, jobId, end, detail);
};
const updateCommands = async (gateIds: string[]) =>
  t.app.ctx.db
    .select({ gateId: gateCommands.gateId, id: gateCommands.id })
    .from(gateCommands)
    .where(and(eq(gateCommands.type, 'update'), inArray(gateCommands.gateId, gateIds)));
const later = (ms: number) => new Date(Date.now() + ms);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-rollout-'));
  receiver = await startWebhookReceiver();
  receiver.answer = () => 200;
  // Ticks a day apart: the tests move each job on themselves, with the time they choose.
  t = await startApp({ updates: { releaseKeys: [releaseKey.publicKey], releasesDir: dir, tickS: 86_400 } });
  platform = await createOrgWithUser(t.app, 'Platform operator', ['PlatformAdmin']);
  admin = await createOrgWithUser(t.app, 'Rollout Org', ['OrgAdmin']);
  topo = await seedTopology(t.app, admin);
  const gate = async (siteId: string, zoneId: string, name: string) => {
    const r = await api('POST', '/gates', { siteId, zoneId, name, direction: 'in' });
    expect(r.statusCode, r.body).toBe(201);
    return (r.json() as { id: string }).id;
  };
  site1Gates = [topo.gate.id, topo.serverGate.id];
  for (const n of ['Gate 3', 'Gate 4', 'Gate 5']) site1Gates.push(await gate(topo.site.id, topo.zone.id, n));
  const tokyo = await api('POST', '/sites', { name: 'Tokyo', timezone: 'Asia/Tokyo' });
  tokyoSite = (tokyo.json() as { id: string }).id;
  const tz = await api('POST', '/zones', { siteId: tokyoSite, name: 'Tokyo lobby' });
  tokyoGates = [await gate(tokyoSite, (tz.json() as { id: string }).id, 'Tokyo 1')];
  for (const g of [...site1Gates, ...tokyoGates]) await enrollGate(t.app, admin, g);
  releaseId = await readyRelease(t.app, platform, makeRelease(releaseKey, { version: '0.4.0', serial: 4 }));

  // A webhook endpoint of the organisation for the rollout's events.
  const appId = uuidv7();
  await t.app.ctx.db
    .insert(apiApplications)
    .values({ id: appId, orgId: admin.orgId, name: 'Ops bot', createdBy: admin.userId, updatedBy: admin.userId });
  const hook = await t.app.inject({
    method: 'POST',
    url: `/api/devconsole/apps/${appId}/webhooks`,
    headers: admin.auth,
    payload: { url: receiver.url('/updates'), events: ['update.completed', 'update.gate_changed'], description: 'rollouts' },
  });
  expect(hook.statusCode, hook.body).toBe(201);
  receiver.secrets.set('/updates', (hook.json() as { secret: string }).secret);
}, 180_000);

afterAll(async () => {
  await t?.close();
  await receiver?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a rollout', () => {
  it('goes to the canary first, then batch by batch as gates report done, and finishes with update.completed', async () => {
    const [canary, ...rest] = site1Gates as [string, ...string[]];
    const r = await api('POST', '/updates/jobs', {
      releaseId,
      scope: [topo.site.id],
      strategy: { canaryGateIds: [canary], batchSize: 2, healthWindowS: 30 },
    });
    expect(r.statusCode, r.body).toBe(201);
    const id = (r.json() as { id: string }).id;
    await advanceJob(t.app.ctx, admin.orgId, id);
    let j = await job(id);
    expect(j).toMatchObject({ state: 'running', stage: 'canary' });
    expect(j.gateStates.filter((g) => g.canary).map((g) => g.gateId)).toEqual([canary]);
    // Only the canary was sent the signed update command.
    expect((await updateCommands(site1Gates)).map((c) => c.gateId)).toEqual([canary]);

    await walk(canary, id, 'done');
    j = await job(id);
    expect(stateOf(j, canary)).toBe('done');
    expect(j.stage).toBe('batches');
    const batch1 = j.gateStates.filter((g) => g.batch === 1).map((g) => g.gateId);
    expect(batch1).toHaveLength(2);
    expect(batch1.every((g) => stateOf(j, g) === 'pending')).toBe(true);
    expect((await updateCommands(site1Gates)).map((c) => c.gateId).sort()).toEqual([canary, ...batch1].sort());

    // Batch 2 waits for every gate of batch 1.
    await walk(batch1[0]!, id, 'done');
    expect((await updateCommands(site1Gates)).length).toBe(3);
    await walk(batch1[1]!, id, 'done');
    j = await job(id);
    const batch2 = j.gateStates.filter((g) => g.batch === 2).map((g) => g.gateId);
    expect(batch2).toHaveLength(2);
    expect((await updateCommands(site1Gates)).length).toBe(5);
    expect(rest.sort()).toEqual([...batch1, ...batch2].sort());

    for (const g of batch2) await walk(g, id, 'done');
    j = await job(id);
    expect(j.state).toBe('done');
    expect(j.counts.done).toBe(5);

    // The controllers' lines are in the log, once each, beside the rollout's own.
    const logs = await api('GET', `/updates/jobs/${id}/logs?gateId=${canary}&limit=1000`);
    const lines = (logs.json() as { items: { message: string }[] }).items.map((l) => l.message);
    expect(lines.filter((l) => l === 'edge: downloading step')).toHaveLength(1);
    expect(lines).toContain('done');

    const completed = await until(
      () => delivered().find((p) => p.type === 'update.completed' && p.data.jobId === id),
      'update.completed at the receiver',
      30_000,
    );
    expect(completed.data).toMatchObject({ outcome: 'done', version: '0.4.0', gates: 5, done: 5, failed: 0, rolledBack: 0 });
    expect(delivered().some((p) => p.type === 'update.gate_changed' && p.data.jobId === id && p.data.state === 'checking_health')).toBe(
      true,
    );
  });

  it('halts when the canary rolls back: the other gates stay pending and are sent nothing', async () => {
    const [canary, ...rest] = site1Gates as [string, ...string[]];
    const before = await updateCommands(site1Gates);
    const r = await api('POST', '/updates/jobs', {
      releaseId,
      scope: [topo.site.id],
      strategy: { canaryGateIds: [canary], batchPercent: 50, failureThreshold: 3 },
    });
    const id = (r.json() as { id: string }).id;
    await advanceJob(t.app.ctx, admin.orgId, id);
    await walk(canary, id, 'rolled_back', 'health check failed: no heartbeat');
    const j = await job(id);
    expect(j.state).toBe('halted');
    expect(j.haltedReason).toMatch(/canary gate .* rolled back: health check failed/);
    expect(stateOf(j, canary)).toBe('rolled_back');
    for (const g of rest) expect(stateOf(j, g)).toBe('pending');
    // One more command (the canary's) and none to the others.
    const after = await updateCommands(site1Gates);
    expect(after.length - before.length).toBe(1);
    expect(after.filter((c) => !before.some((b) => b.id === c.id)).map((c) => c.gateId)).toEqual([canary]);
    const rows = await t.app.ctx.db
      .select()
      .from(updateJobGates)
      .where(and(eq(updateJobGates.jobId, id), inArray(updateJobGates.gateId, rest)));
    expect(rows.every((row) => row.commandId === null)).toBe(true);
    // A later tick changes nothing.
    await advanceJob(t.app.ctx, admin.orgId, id, later(3600_000));
    expect((await updateCommands(site1Gates)).length).toBe(after.length);
    const halted = await until(
      () => delivered().find((p) => p.type === 'update.completed' && p.data.jobId === id),
      'update.completed (halted) at the receiver',
      30_000,
    );
    expect(halted.data).toMatchObject({ outcome: 'halted', rolledBack: 1, pending: 4 });
  });

  it('skips a controller never reached and fails one that goes silent; an unreached canary halts too', async () => {
    const [canary, second] = site1Gates as [string, string];
    const r = await api('POST', '/updates/jobs', {
      releaseId,
      scope: [topo.site.id],
      strategy: { canaryGateIds: [canary, second], batchSize: 3, deliveryTtlS: 600, installTimeoutS: 600, healthWindowS: 60 },
    });
    const id = (r.json() as { id: string }).id;
    const t0 = new Date();
    await advanceJob(t.app.ctx, admin.orgId, id, t0);
    await report(second, id, 'downloading', undefined, t0);
    // Within the delivery window nothing has timed out.
    await advanceJob(t.app.ctx, admin.orgId, id, new Date(t0.getTime() + 590_000));
    expect((await job(id)).state).toBe('running');
    // The first never took its command (offline past its expiry): skipped; the second went silent: failed.
    await advanceJob(t.app.ctx, admin.orgId, id, new Date(t0.getTime() + 601_000 + 600_000 + 60_000 + 60_000));
    const j = await job(id);
    expect(stateOf(j, canary)).toBe('skipped');
    expect(stateOf(j, second)).toBe('failed');
    expect(j.state).toBe('halted');
  });

  it('resends a dispatched command to a controller that comes back without it', async () => {
    const gate = tokyoGates[0]!;
    const r = await api('POST', '/updates/jobs', { releaseId, scope: [tokyoSite], strategy: { canaryPercent: 100 } });
    const id = (r.json() as { id: string }).id;
    await advanceJob(t.app.ctx, admin.orgId, id);
    // Back online a minute later, reporting no update: the command goes again (once per 30 s at most).
    const back = later(60_000);
    await updateReported(t.app.ctx, { orgId: admin.orgId, gateId: gate }, { state: 'online' }, back);
    await updateReported(t.app.ctx, { orgId: admin.orgId, gateId: gate }, { state: 'online' }, back);
    const lines = await t.app.ctx.db
      .select()
      .from(updateLogs)
      .where(and(eq(updateLogs.jobId, id), eq(updateLogs.gateId, gate)));
    expect(lines.filter((l) => l.message === 'controller back: update command sent again')).toHaveLength(1);
    expect(await api('POST', `/updates/jobs/${id}/cancel`, {})).toMatchObject({ statusCode: 200 });
  });
});

describe('controlling a rollout', () => {
  it('pause holds new gates back, resume goes on; postponing moves the start or single gates; cancel leaves the rest', async () => {
    const [canary, ...rest] = site1Gates as [string, ...string[]];
    const start = later(3600_000);
    const r = await api('POST', '/updates/jobs', {
      releaseId,
      scope: [topo.site.id],
      strategy: { canaryGateIds: [canary], batchSize: 4 },
      startAt: start.toISOString(),
    });
    expect(r.json()).toMatchObject({ state: 'scheduled' });
    const id = (r.json() as { id: string }).id;
    const before = (await updateCommands(site1Gates)).length;

    const moved = later(7200_000);
    const p = await api('POST', `/updates/jobs/${id}/postpone`, { until: moved.toISOString() });
    expect(p.statusCode, p.body).toBe(200);
    expect(p.json()).toMatchObject({ state: 'scheduled', startAt: moved.toISOString() });
    await advanceJob(t.app.ctx, admin.orgId, id, new Date(start.getTime() + 1000));
    expect((await job(id)).state).toBe('scheduled');

    expect((await api('POST', `/updates/jobs/${id}/pause`, {})).json()).toMatchObject({ state: 'paused' });
    await advanceJob(t.app.ctx, admin.orgId, id, new Date(moved.getTime() + 1000));
    expect((await updateCommands(site1Gates)).length).toBe(before);
    expect((await api('POST', `/updates/jobs/${id}/pause`, {})).statusCode).toBe(409);

    expect((await api('POST', `/updates/jobs/${id}/resume`, {})).json()).toMatchObject({ state: 'scheduled' });
    await advanceJob(t.app.ctx, admin.orgId, id, new Date(moved.getTime() + 1000));
    let j = await job(id);
    expect(j.state).toBe('running');
    expect((await updateCommands(site1Gates)).length).toBe(before + 1);

    // One gate of the batch waits a day.
    const later1 = rest[0]!;
    const later1Before = (await updateCommands([later1])).length;
    const pg = await api('POST', `/updates/jobs/${id}/postpone`, { until: later(86_400_000 * 2).toISOString(), gateIds: [later1] });
    expect(pg.statusCode, pg.body).toBe(200);
    await walk(canary, id, 'done');
    j = await job(id);
    expect(stateOf(j, later1)).toBe('postponed');
    for (const g of rest.slice(1)) expect(stateOf(j, g)).toBe('pending');
    // The postponed gate was sent nothing; the rest of its batch was.
    expect((await updateCommands([later1])).length).toBe(later1Before);
    // A started gate cannot be postponed.
    expect(
      (await api('POST', `/updates/jobs/${id}/postpone`, { until: later(86_400_000).toISOString(), gateIds: [rest[1]!] })).statusCode,
    ).toBe(409);

    const c = await api('POST', `/updates/jobs/${id}/cancel`, {});
    expect(c.statusCode, c.body).toBe(200);
    j = await job(id);
    expect(j.state).toBe('cancelled');
    expect(stateOf(j, later1)).toBe('cancelled');
    // Gates already sent the command keep going (the controller cannot be stopped mid-install) and still report.
    for (const g of rest.slice(1)) expect(stateOf(j, g)).toBe('pending');
    await walk(rest[1]!, id, 'done');
    expect(stateOf(await job(id), rest[1]!)).toBe('done');
    expect((await api('POST', `/updates/jobs/${id}/resume`, {})).statusCode).toBe(409);
    const audit = await api('GET', '/audit-logs?limit=100');
    expect((audit.json() as { items: { action: string }[] }).items.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        'update.job_create',
        'update.job_postpone',
        'update.job_pause',
        'update.job_resume',
        'update.job_cancel',
        'update.dispatch',
      ]),
    );
  });

  it('starts a site’s gates only inside its maintenance window, in the site’s own time zone', async () => {
    const w = await api('PUT', `/updates/maintenance-windows/${tokyoSite}`, { window: { days: [], from: '02:00', to: '04:00' } });
    expect(w.statusCode, w.body).toBe(200);
    expect(w.json()).toMatchObject({ timezone: 'Asia/Tokyo', window: { days: [], from: '02:00', to: '04:00' } });
    const gate = tokyoGates[0]!;
    const before = (await updateCommands([gate])).length;
    const tomorrow = new Date(Date.now() + 86_400_000);
    const at = (h: number) => new Date(Date.UTC(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth(), tomorrow.getUTCDate(), h, 0));
    const r = await api('POST', '/updates/jobs', {
      releaseId,
      scope: [tokyoSite],
      strategy: { canaryPercent: 100 },
      startAt: at(0).toISOString(),
    });
    const id = (r.json() as { id: string }).id;
    // 03:00 UTC is 12:00 in Tokyo: outside; 18:00 UTC is 03:00 in Tokyo: inside (and outside 02–04 UTC).
    await advanceJob(t.app.ctx, admin.orgId, id, at(3));
    expect((await updateCommands([gate])).length).toBe(before);
    const logs = await api('GET', `/updates/jobs/${id}/logs`);
    expect((logs.json() as { items: { message: string }[] }).items.map((l) => l.message)).toContain(
      "1 gate(s) wait for their site's maintenance window",
    );
    await advanceJob(t.app.ctx, admin.orgId, id, at(18));
    expect((await updateCommands([gate])).length).toBe(before + 1);
    expect(stateOf(await job(id), gate)).toBe('pending');
    const list = await api('GET', '/updates/maintenance-windows');
    expect((list.json() as { items: { siteId: string; window: unknown }[] }).items.find((s) => s.siteId === tokyoSite)?.window).toEqual({
      days: [],
      from: '02:00',
      to: '04:00',
    });
    await api('POST', `/updates/jobs/${id}/cancel`, {});
  });
});

describe('new releases', () => {
  it('the nightly check notes a newer stable release once, and rolls nothing out', async () => {
    const jobsBefore = (await api('GET', '/updates/jobs?limit=500')).json().items.length;
    const fresh = await checkForReleases(t.app.ctx, null);
    expect(fresh).toBeGreaterThanOrEqual(1);
    expect(await checkForReleases(t.app.ctx, null)).toBe(0);
    const a = await api('GET', '/updates/available');
    expect(a.statusCode, a.body).toBe(200);
    expect((a.json() as { items: { releaseId: string; version: string }[] }).items).toEqual([
      expect.objectContaining({ releaseId, version: '0.4.0' }),
    ]);
    expect((await api('GET', '/updates/jobs?limit=500')).json().items.length).toBe(jobsBefore);
    const check = await api('POST', '/updates/check', {});
    expect(check.statusCode).toBe(200);
  });
});

function delivered() {
  return receiver.received
    .filter((h: ReceivedHook) => h.path === '/updates' && h.verified.ok)
    .map((h) => (h.verified as { ok: true; payload: { type: string; data: Record<string, unknown> } }).payload);
}
