/**
 * Fleet health (issue 16): GET /api/admin/fleet built from the statuses an
 * enrolled device publishes on the broker with its own credentials, as a
 * controller does (version, last contact, cache seq beside the site's seq,
 * outbox, hardware, clock skew, open alarms), filtered, sorted and paged by
 * keyset, org-scoped and under gates:read; the `outbox_growing` alarm raised
 * by either rule and marked gone when the outbox drains, never by a status
 * while offline; and the fleet gauges on /metrics.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type Status, signingKey, topics } from '@gatehouse/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeOutbox, type OutboxWatch } from '../src/modules/fleet/outbox.js';
import { advanceJob } from '../src/modules/updates/service.js';
import { stampSite } from '../src/sync/sequencer.js';
import { addUser, createOrgWithUser, type Login, seedTopology, startApp, type TestApp, until } from './helpers.js';
import { makeRelease, readyRelease } from './updates-fixture.js';

interface Enrolled {
  deviceId: string;
  mqtt: { url: string; username: string; password: string };
}
interface FleetItem {
  id: string;
  name: string;
  siteId: string;
  siteName: string;
  deviceId: string | null;
  online: boolean;
  lastSeenAt: string | null;
  version: string | null;
  releaseSerial: number | null;
  cacheSeq: number;
  siteSeq: number;
  seqLag: number;
  lagSeconds: number | null;
  outboxDepth: number;
  outboxGrowing: boolean;
  hardware: Array<{ name: string; type: string; healthy: boolean; detail?: string }>;
  hardwareHealthy: boolean | null;
  clockSkewMs: number | null;
  update: unknown;
  openAlarms: number;
}
interface FleetPage {
  items: FleetItem[];
  nextCursor: string | null;
}
interface AlarmItem {
  id: string;
  kind: string;
  severity: string;
  status: string;
  detail: string | null;
  gateId: string | null;
  checkinId: string | null;
  conditionClearedAt: string | null;
}

const RULES = { outboxAlarmRises: 3, outboxAlarmDepth: 100, outboxAlarmSeconds: 1 };
const releaseKey = signingKey(generateKeyPair().privateKey);

describe('outbox watch rules (judgeOutbox)', () => {
  const t0 = new Date('2026-11-30T00:00:00Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);
  const idle: OutboxWatch = { depth: 0, rises: 0, highSince: null, alarmAt: null, online: true };

  it('raises after OUTBOX_ALARM_RISES statuses in a row that grew; a level one keeps the count, a smaller one resets it', () => {
    let w: OutboxWatch = { ...idle };
    const step = (depth: number, s: number) => {
      const v = judgeOutbox(w, { online: true, depth }, at(s), RULES);
      w = { depth, rises: v.rises, highSince: v.highSince, alarmAt: v.alarmAt, online: true };
      return v;
    };
    expect(step(5, 1)).toMatchObject({ rises: 1, raise: false });
    expect(step(5, 2)).toMatchObject({ rises: 1, raise: false });
    expect(step(3, 3)).toMatchObject({ rises: 0, raise: false });
    expect(step(4, 4).rises).toBe(1);
    expect(step(6, 5).rises).toBe(2);
    const raised = step(9, 6);
    expect(raised).toMatchObject({ rises: 3, raise: true, clear: false });
    expect(raised.detail).toMatch(/outbox 9 records, grown over 3 statuses/);
    // Raised once: still growing raises nothing more.
    expect(step(12, 7)).toMatchObject({ raise: false, clear: false });
    expect(w.alarmAt).toEqual(at(6));
    // Draining under the depth threshold ends the condition.
    expect(step(2, 8)).toMatchObject({ raise: false, clear: true, alarmAt: null });
  });

  it('raises when at or above OUTBOX_ALARM_DEPTH for OUTBOX_ALARM_S, not before', () => {
    const first = judgeOutbox(idle, { online: true, depth: 150 }, at(0), RULES);
    expect(first).toMatchObject({ raise: false, highSince: at(0) });
    const w = { depth: 150, rises: first.rises, highSince: first.highSince, alarmAt: null, online: true };
    expect(judgeOutbox(w, { online: true, depth: 150 }, at(0.5), RULES).raise).toBe(false);
    const later = judgeOutbox(w, { online: true, depth: 140 }, at(1), RULES);
    expect(later).toMatchObject({ raise: true, rises: 0 });
    expect(later.detail).toMatch(/at or above 100 for 1 s/);
  });

  it('a status while offline changes nothing; the first one back compares with nothing', () => {
    const alarmed = { depth: 50, rises: 3, highSince: null, alarmAt: at(0), online: true };
    expect(judgeOutbox(alarmed, { online: false, depth: 80 }, at(5), RULES)).toMatchObject({
      rises: 3,
      alarmAt: at(0),
      raise: false,
      clear: false,
    });
    const back = judgeOutbox({ ...alarmed, depth: 80, online: false }, { online: true, depth: 60 }, at(6), RULES);
    // Smaller than before it went away, but that is no drain yet: nothing to compare with after a reconnect.
    expect(back).toMatchObject({ rises: 0, raise: false, clear: false, alarmAt: at(0) });
    // Rises off (0): only the depth rule raises.
    expect(judgeOutbox({ ...idle, rises: 50 }, { online: true, depth: 60 }, at(1), { ...RULES, outboxAlarmRises: 0 }).raise).toBe(false);
  });
});

describe(`fleet health from device statuses (${process.env.MQTT_URL ? 'external broker' : 'embedded broker'})`, () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let a: Enrolled;
  let device: MqttClient;
  let otherSite: { id: string };
  let releasesDir: string;
  let farGate: { id: string };

  const get = async <T>(url: string, who: Login = admin): Promise<T> => {
    const r = await t.app.inject({ method: 'GET', url, headers: who.auth });
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return r.json() as T;
  };
  const fleet = (query = '') => get<FleetPage>(`/api/admin/fleet${query}`);
  const itemOf = async (gateId: string) => (await fleet('?limit=500')).items.find((i) => i.id === gateId)!;
  const outboxAlarms = async () =>
    (await get<{ items: AlarmItem[] }>(`/api/admin/alarms?kind=outbox_growing&gateId=${topo.gate.id}`)).items;

  const status = (over: Partial<Status> = {}): Status => ({
    v: 1,
    deviceId: a.deviceId,
    state: 'online',
    version: '0.2.0',
    cacheSeq: 0,
    outboxDepth: 0,
    lockdown: false,
    hardware: [],
    ts: Date.now(),
    ...over,
  });
  let sent = 0;
  /** Publishes a status and waits until the gate row shows it (each is judged against the one before). */
  const report = async (over: Partial<Status>) => {
    const n = ++sent;
    const s = status({ ...over, clockSkewMs: n, ts: Date.now() });
    await device.publishAsync(topics.status(a.deviceId), JSON.stringify(s), { qos: 1 });
    // A marker the row must show: the depth and state this status carries, with its own clock skew as a sequence number.
    await until(async () => {
      const i = await itemOf(topo.gate.id);
      return i.clockSkewMs === n && i.outboxDepth === s.outboxDepth && i.online === (s.state === 'online') ? i : null;
    }, `status ${n} stored`);
  };

  beforeAll(async () => {
    releasesDir = await mkdtemp(join(tmpdir(), 'gh-fleet-releases-'));
    t = await startApp(
      {
        updates: { releaseKeys: [releaseKey.publicKey], releasesDir, tickS: 86_400 },
        mqttPort: 0,
        ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}),
        alarms: { controllerOfflineSeconds: 0, syncLagAlertSeconds: 30, ...RULES },
      },
      { sync: true },
    );
    admin = await createOrgWithUser(t.app, `fleet-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    const e = await t.app.inject({ method: 'POST', url: `/api/admin/gates/${topo.gate.id}/enrollment`, headers: admin.auth });
    const r = await t.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: (e.json() as { code: string }).code } });
    a = r.json() as Enrolled;
    const url = process.env.MQTT_URL ? `mqtt://${new URL(process.env.MQTT_URL).host}` : a.mqtt.url;
    device = await mqtt.connectAsync(url, {
      username: a.mqtt.username,
      password: a.mqtt.password,
      clientId: a.deviceId,
      reconnectPeriod: 0,
    });
    const post = async (path: string, payload: object) =>
      (await t.app.inject({ method: 'POST', url: path, headers: admin.auth, payload })).json() as { id: string };
    otherSite = await post('/api/admin/sites', { name: 'Warehouse', timezone: 'UTC' });
    const zone = await post('/api/admin/zones', { siteId: otherSite.id, name: 'Dock' });
    farGate = await post('/api/admin/gates', { siteId: otherSite.id, zoneId: zone.id, name: 'Dock door', direction: 'both' });
  }, 120_000);

  afterAll(async () => {
    await device?.endAsync();
    await t?.close();
    if (releasesDir) await rm(releasesDir, { recursive: true, force: true });
  });

  it("lists a controller's version, last contact, seq beside its site's, lag, hardware, clock skew and open alarms", async () => {
    const head = await stampSite(t.app.ctx.db, topo.site.id);
    expect(head).toBeGreaterThan(0);
    const before = Date.now();
    await report({
      cacheSeq: head,
      outboxDepth: 0,
      release: { version: '0.2.0', serial: 2 },
      hardware: [
        { name: 'qr-1', type: 'serial-qr', healthy: true },
        { name: 'wiegand-1', type: 'wiegand', healthy: false, detail: 'no frames for 60 s' },
      ],
    });
    let g = await itemOf(topo.gate.id);
    expect(g).toMatchObject({
      name: 'Turnstile 1',
      siteId: topo.site.id,
      siteName: 'HQ',
      deviceId: a.deviceId,
      online: true,
      version: '0.2.0',
      releaseSerial: 2,
      cacheSeq: head,
      siteSeq: head,
      seqLag: 0,
      lagSeconds: 0,
      outboxDepth: 0,
      outboxGrowing: false,
      hardwareHealthy: false,
      clockSkewMs: 1,
      update: null,
      openAlarms: 0,
    });
    expect(g.hardware).toEqual([
      { name: 'qr-1', type: 'serial-qr', healthy: true },
      { name: 'wiegand-1', type: 'wiegand', healthy: false, detail: 'no frames for 60 s' },
    ]);
    expect(Date.parse(g.lastSeenAt!)).toBeGreaterThanOrEqual(before - 1000);

    // A change of the site (a rule edit) the controller has not applied: one behind, by its age.
    await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/zones/${topo.zone.id}`,
      headers: admin.auth,
      payload: { name: 'Lobby (north)' },
    });
    const next = await until(async () => {
      const s = await stampSite(t.app.ctx.db, topo.site.id);
      return s > head ? s : null;
    }, 'the change stamped');
    g = await itemOf(topo.gate.id);
    expect(g.siteSeq).toBe(next);
    expect(g.seqLag).toBe(next - head);
    expect(g.lagSeconds).toBeGreaterThanOrEqual(0);
    expect(typeof g.lagSeconds).toBe('number');

    // Never enrolled, never heard from: in the list, no lag before a first snapshot, no hardware verdict.
    const server = await itemOf(topo.serverGate.id);
    expect(server).toMatchObject({ deviceId: null, online: false, lastSeenAt: null, lagSeconds: null, hardwareHealthy: null });
  });

  it('outbox_growing: raised after statuses in a row that grew, once; marked gone when it drains; not by a status offline', async () => {
    await report({ outboxDepth: 0 });
    expect(await outboxAlarms()).toHaveLength(0);
    await report({ outboxDepth: 4 });
    await report({ outboxDepth: 9 });
    expect(await outboxAlarms()).toHaveLength(0);
    expect((await itemOf(topo.gate.id)).outboxGrowing).toBe(false);
    await report({ outboxDepth: 15 });
    const [raised] = await outboxAlarms();
    expect(raised).toMatchObject({
      kind: 'outbox_growing',
      severity: 'medium',
      status: 'raised',
      checkinId: null,
      conditionClearedAt: null,
    });
    expect(raised!.detail).toMatch(/outbox 15 records, grown over 3 statuses/);
    let g = await itemOf(topo.gate.id);
    expect(g.outboxGrowing).toBe(true);
    expect(g.openAlarms).toBe(1);

    // Still growing, then its link drops with a deeper outbox: nothing new, nothing cleared.
    await report({ outboxDepth: 20 });
    await report({ state: 'offline', outboxDepth: 30 });
    expect(await outboxAlarms()).toHaveLength(1);
    expect((await outboxAlarms())[0]!.conditionClearedAt).toBeNull();

    // Back, then draining: its condition is marked gone (a guard still clears the alarm).
    await report({ outboxDepth: 30 });
    await report({ outboxDepth: 2 });
    const [gone] = await outboxAlarms();
    expect(gone!.id).toBe(raised!.id);
    expect(gone!.conditionClearedAt).not.toBeNull();
    expect(gone!.status).toBe('raised');
    g = await itemOf(topo.gate.id);
    expect(g.outboxGrowing).toBe(false);
  });

  it('outbox_growing: raised when the outbox stays at or above OUTBOX_ALARM_DEPTH for OUTBOX_ALARM_S', async () => {
    const guard = await addUser(t.app, admin.orgId, ['Operator']);
    // The guard closes the first one: a new condition raises a new alarm (an open one would only be marked present again).
    for (const x of await outboxAlarms()) {
      const r = await t.app.inject({
        method: 'POST',
        url: `/api/admin/alarms/${x.id}/clear`,
        headers: guard.auth,
        payload: { note: 'broker fixed' },
      });
      expect(r.statusCode, r.body).toBe(200);
    }
    await report({ outboxDepth: 150 });
    expect((await outboxAlarms()).filter((x) => x.status !== 'cleared')).toHaveLength(0);
    await new Promise((r) => setTimeout(r, RULES.outboxAlarmSeconds * 1000 + 100));
    // Smaller than before (no rise), but still above the threshold after the time: raised.
    await report({ outboxDepth: 140 });
    const open = (await outboxAlarms()).filter((x) => x.status !== 'cleared');
    expect(open).toHaveLength(1);
    expect(open[0]!.conditionClearedAt).toBeNull();
    expect(open[0]!.detail).toMatch(/at or above 100 for [0-9]+ s/);
    // The guard sees it in the alarm list and the gate's flag in the fleet list.
    const seen = await get<{ items: AlarmItem[] }>(`/api/admin/alarms?kind=outbox_growing&status=open`, guard);
    expect(seen.items.some((x) => x.id === open[0]!.id)).toBe(true);
    expect((await get<FleetPage>('/api/admin/fleet?limit=500', guard)).items.find((i) => i.id === topo.gate.id)?.outboxGrowing).toBe(true);
    await report({ outboxDepth: 0 });
    expect((await outboxAlarms()).filter((x) => x.status !== 'cleared' && !x.conditionClearedAt)).toHaveLength(0);
  });

  it('filters by site and link state, sorts, pages by keyset; org-scoped; gates:read', async () => {
    const bySite = await fleet(`?siteId=${otherSite.id}`);
    expect(bySite.items.map((i) => i.id)).toEqual([farGate.id]);
    expect((await fleet('?online=true')).items.map((i) => i.id)).toEqual([topo.gate.id]);
    expect((await fleet('?online=false')).items.map((i) => i.id).sort()).toEqual([topo.serverGate.id, farGate.id].sort());

    const names = (await fleet('?sort=name')).items.map((i) => i.name);
    expect(names).toEqual([...names].sort());
    // The one reporting a deeper outbox first.
    await report({ outboxDepth: 7 });
    expect((await fleet('?sort=outbox')).items[0]!.id).toBe(topo.gate.id);
    // Never heard from first, then the longest silent.
    expect((await fleet('?sort=lastSeen')).items.at(-1)!.id).toBe(topo.gate.id);
    expect((await fleet('?sort=version')).items.at(-1)!.id).toBe(topo.gate.id);

    for (const sort of ['name', 'lastSeen', 'outbox', 'version']) {
      const all = (await fleet(`?sort=${sort}&limit=500`)).items.map((i) => i.id);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const p: FleetPage = await fleet(`?sort=${sort}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        paged.push(...p.items.map((i) => i.id));
        cursor = p.nextCursor;
      } while (cursor);
      expect(paged, sort).toEqual(all);
      expect(paged).toHaveLength(3);
    }
    const nameCursor = (await fleet('?sort=name&limit=1')).nextCursor!;
    const wrong = await t.app.inject({ method: 'GET', url: `/api/admin/fleet?sort=outbox&cursor=${nameCursor}`, headers: admin.auth });
    expect(wrong.statusCode).toBe(400);
    const junk = await t.app.inject({ method: 'GET', url: '/api/admin/fleet?cursor=bm9wZQ', headers: admin.auth });
    expect(junk.statusCode).toBe(400);

    const stranger = await createOrgWithUser(t.app, `fleet-other-${Date.now()}`, ['OrgAdmin']);
    expect((await get<FleetPage>('/api/admin/fleet', stranger)).items).toEqual([]);
    expect((await get<FleetPage>(`/api/admin/fleet?siteId=${topo.site.id}`, stranger)).items).toEqual([]);
    const orgId = admin.orgId;
    const host = await addUser(t.app, orgId, ['Host']);
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/fleet', headers: host.auth })).statusCode).toBe(403);
    const operator = await addUser(t.app, orgId, ['Operator']);
    expect((await get<FleetPage>('/api/admin/fleet', operator)).items).toHaveLength(3);
  });

  it("shows the gate's state in its latest update job, as its status reports it", async () => {
    const platform = await createOrgWithUser(t.app, `fleet-platform-${Date.now()}`, ['PlatformAdmin']);
    const releaseId = await readyRelease(t.app, platform, makeRelease(releaseKey, { version: '0.3.0', serial: 3 }));
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/admin/updates/jobs',
      headers: admin.auth,
      payload: { releaseId, scope: [topo.site.id], strategy: { canaryGateIds: [topo.gate.id], healthWindowS: 30 } },
    });
    expect(r.statusCode, r.body).toBe(201);
    const jobId = (r.json() as { id: string }).id;
    await advanceJob(t.app.ctx, admin.orgId, jobId);
    await until(
      async () => ((await itemOf(topo.gate.id)).update as { state?: string } | null)?.state === 'pending',
      'pending in the fleet',
    );
    // The controller's own report, through the broker like every status.
    await report({
      outboxDepth: 7,
      update: { jobId, state: 'downloading', version: '0.3.0', log: ['fetching release.json'], ts: Date.now() },
    });
    const g = await until(async () => {
      const i = await itemOf(topo.gate.id);
      return (i.update as { state?: string } | null)?.state === 'downloading' ? i : null;
    }, 'downloading in the fleet');
    expect(g.update).toMatchObject({ jobId, state: 'downloading', version: '0.3.0' });
  });

  it('exports the fleet gauges on /metrics, aggregated (no series per gate)', async () => {
    const body = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toContain('gatehouse_fleet_controllers{version="0.2.0",state="online"} 1');
    expect(body).toMatch(/gatehouse_fleet_offline_controllers 0/);
    expect(body).toContain('gatehouse_fleet_outbox_depth{quantile="1"} 7');
    expect(body).toContain('gatehouse_fleet_outbox_records 7');
    expect(body).toContain('gatehouse_fleet_hardware_unhealthy_controllers 0');
    expect(body).toContain('gatehouse_fleet_outbox_growing_controllers 0');
    expect(body).toContain('gatehouse_fleet_update_gates{state="downloading"} 1');
    expect(body).not.toContain(topo.gate.id);
  });
});
