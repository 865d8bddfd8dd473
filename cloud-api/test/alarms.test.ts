/**
 * Alarms (SPEC ALARM-1) end to end in the cloud: raised from the check-ins a
 * gate reports (forced, held open, tamper, power, reader offline, a soft
 * anti-passback entry) exactly once however often the batch comes, the
 * condition marked gone and back, acknowledged and cleared by a guard with a
 * note (409s, the note required, audited, permissions, tenant isolation), in
 * the live feed through the WebSocket, delivered as signed webhooks, counted
 * on /metrics; and `controller_offline` raised when an enrolled edge goes
 * away and marked gone when it is back.
 */
import type { AddressInfo } from 'node:net';
import { Daemon, loadConfig } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import { type CheckinEvent, uuidv7 } from '@gatehouse/protocol';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { alarms, auditLogs } from '../src/db/schema.js';
import { ingestCheckins } from '../src/modules/checkins/ingest.js';
import { addUser, createOrgWithUser, type Login, seedTopology, startApp, type TestApp, until } from './helpers.js';
import { startWebhookReceiver, type WebhookReceiver } from './stand-ins/webhook-receiver.js';

interface AlarmItem {
  id: string;
  kind: string;
  severity: string;
  siteId: string;
  siteName: string | null;
  gateId: string | null;
  gateName: string | null;
  reader: string | null;
  detail: string | null;
  status: string;
  checkinId: string | null;
  raisedAt: string;
  conditionClearedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: { id: string; name: string | null } | null;
  acknowledgeNote: string | null;
  clearedAt: string | null;
  clearedBy: { id: string; name: string | null } | null;
  clearNote: string | null;
}
interface Page {
  items: AlarmItem[];
  nextCursor: string | null;
}

describe('alarms raised from check-ins, answered by a guard', () => {
  let t: TestApp;
  let admin: Login;
  let operator: Login;
  let host: Login;
  let stranger: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let receiver: WebhookReceiver;
  const live: Array<{ type: string; data?: AlarmItem }> = [];
  let socket: WebSocket;

  const get = async (who: Login, url: string) => {
    const r = await t.app.inject({ method: 'GET', url, headers: who.auth });
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  };
  const list = (q = '', who = admin) => get(who, `/api/admin/alarms${q}`) as Promise<Page>;
  const post = (who: Login, url: string, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers: who.auth, ...(payload ? { payload } : {}) });

  let gateRef: { orgId: string; siteId: string; gateId: string; deviceId: null };
  const event = (over: Partial<CheckinEvent>): CheckinEvent => ({
    id: uuidv7(),
    type: 'attempt',
    gateId: topo.gate.id,
    passId: null,
    credentialKind: 'none',
    direction: 'in',
    allow: false,
    reason: 'unknown',
    occurredAt: Date.now(),
    ...over,
  });
  const condition = (kind: NonNullable<CheckinEvent['alarm']>['kind'], state: 'raised' | 'cleared', reader = 'door', detail?: string) =>
    event({ type: 'alarm', reader, alarm: { kind, state, ...(detail ? { detail } : {}) } });
  const ingest = (...events: CheckinEvent[]) => ingestCheckins(t.app.ctx, gateRef, events);
  const alarmsOf = (checkinId: string) => t.app.ctx.db.select().from(alarms).where(eq(alarms.sourceEventId, checkinId));

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Alarm Org', ['OrgAdmin']);
    operator = await addUser(t.app, admin.orgId, ['Operator']);
    host = await addUser(t.app, admin.orgId, ['Host']);
    stranger = await createOrgWithUser(t.app, 'Other Alarm Org', ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    gateRef = { orgId: admin.orgId, siteId: topo.site.id, gateId: topo.gate.id, deviceId: null };

    // An integrator listening to the three alarm events.
    receiver = await startWebhookReceiver();
    const created = await post(admin, '/api/devconsole/apps', { name: 'Security desk' });
    expect(created.statusCode, created.body).toBe(201);
    const hook = await post(admin, `/api/devconsole/apps/${(created.json() as { id: string }).id}/webhooks`, {
      url: receiver.url('/alarms'),
      events: ['alarm.raised', 'alarm.acknowledged', 'alarm.cleared'],
    });
    expect(hook.statusCode, hook.body).toBe(201);
    receiver.secrets.set('/alarms', (hook.json() as { secret: string }).secret);

    // A guard's console: the live feed over the WebSocket, as the operator.
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    socket = new WebSocket(`ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/admin/live`);
    await new Promise<void>((resolve, reject) => {
      socket.on('message', (m) => {
        const msg = JSON.parse(m.toString()) as { type: string; data?: AlarmItem };
        if (msg.type === 'ready') resolve();
        else if (msg.type.startsWith('alarm.')) live.push(msg);
      });
      socket.on('close', (code) => reject(new Error(`closed ${code}`)));
      socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token: operator.accessToken })));
    });
  }, 60_000);
  afterAll(async () => {
    socket?.terminate();
    await receiver?.close();
    await t?.close();
  });

  it('a forced passage raises one high alarm, which the batch delivered again does not raise twice', async () => {
    const forced = event({ type: 'forced', reader: 'sim' });
    const admitted = event({ allow: true, reason: 'ok' });
    await ingest(admitted, forced);
    await ingest(admitted, forced);
    const rows = await alarmsOf(forced.id);
    expect(rows).toHaveLength(1);
    expect(await alarmsOf(admitted.id)).toHaveLength(0);
    const one = (await get(admin, `/api/admin/alarms/${rows[0]!.id}`)) as AlarmItem;
    expect(one).toMatchObject({
      kind: 'forced',
      severity: 'high',
      status: 'raised',
      siteId: topo.site.id,
      siteName: 'HQ',
      gateId: topo.gate.id,
      gateName: 'Turnstile 1',
      reader: 'sim',
      checkinId: forced.id,
      raisedAt: new Date(forced.occurredAt).toISOString(),
      conditionClearedAt: null,
      acknowledgedBy: null,
      clearedBy: null,
    });
    // Two forced passages are two incidents.
    const again = event({ type: 'forced' });
    await ingest(again);
    expect(await alarmsOf(again.id)).toHaveLength(1);
  });

  it('a door held open raises one alarm while it is open; its end marks the condition gone, its return marks it back', async () => {
    const raised = condition('held_open', 'raised', 'door', 'open 30 s after the unlock');
    await ingest(raised);
    const [alarm] = await alarmsOf(raised.id);
    expect(alarm).toMatchObject({ kind: 'held_open', reader: 'door', detail: 'open 30 s after the unlock', status: 'raised' });
    // The same condition again (another event) while the alarm is open: no second alarm.
    const repeat = condition('held_open', 'raised', 'door');
    await ingest(repeat, repeat);
    expect(await alarmsOf(repeat.id)).toHaveLength(0);
    // The same kind at another reader is another alarm.
    const otherDoor = condition('held_open', 'raised', 'back-door');
    await ingest(otherDoor);
    expect(await alarmsOf(otherDoor.id)).toHaveLength(1);

    const closed = condition('held_open', 'cleared', 'door');
    await ingest(closed);
    let view = (await get(admin, `/api/admin/alarms/${alarm!.id}`)) as AlarmItem;
    expect(view.conditionClearedAt).toBe(new Date(closed.occurredAt).toISOString());
    // Only that reader's condition: the back door is still open.
    expect(
      ((await get(admin, `/api/admin/alarms?kind=held_open&status=open`)) as Page).items.map((a) => a.conditionClearedAt === null),
    ).toEqual([true, false]);
    // The door opens again before a guard cleared the alarm: the same alarm, its condition present again.
    const reopened = condition('held_open', 'raised', 'door');
    await ingest(reopened);
    expect(await alarmsOf(reopened.id)).toHaveLength(0);
    view = (await get(admin, `/api/admin/alarms/${alarm!.id}`)) as AlarmItem;
    expect(view.conditionClearedAt).toBeNull();
    await until(
      () => live.some((e) => e.type === 'alarm.updated' && e.data?.id === alarm!.id && e.data.conditionClearedAt === null),
      'update',
    );
  });

  it('one batch carrying a condition raised, gone and back (an edge back from days offline) raises one alarm in its final state', async () => {
    const t0 = Date.now();
    const at = (s: number) => ({ occurredAt: t0 + s * 1000 });
    const up = { ...condition('held_open', 'raised', 'gate-door', 'first'), ...at(1) };
    const down = { ...condition('held_open', 'cleared', 'gate-door'), ...at(2) };
    const upAgain = { ...condition('held_open', 'raised', 'gate-door', 'second'), ...at(3) };
    const onlyDown = { ...condition('power', 'cleared', 'gate-door'), ...at(1) };
    const flapUp = { ...condition('power', 'raised', 'gate-door'), ...at(2) };
    const flapDown = { ...condition('power', 'cleared', 'gate-door'), ...at(3) };
    // Delivered out of order: the walk goes by occurrence.
    await ingest(upAgain, flapDown, down, onlyDown, up, flapUp);
    const [held] = await alarmsOf(up.id);
    expect(held).toMatchObject({ kind: 'held_open', detail: 'first', conditionClearedAt: null });
    expect([...(await alarmsOf(down.id)), ...(await alarmsOf(upAgain.id)), ...(await alarmsOf(onlyDown.id))]).toEqual([]);
    const [power] = await alarmsOf(flapUp.id);
    expect(power?.conditionClearedAt?.getTime()).toBe(flapDown.occurredAt);
  });

  it('tamper, power and reader offline raise alarms of their kind and severity', async () => {
    const tamper = condition('tamper', 'raised', 'reader-1', 'cover opened');
    const power = condition('power', 'raised', 'reader-1');
    const offline = condition('reader_offline', 'raised', 'reader-2');
    await ingest(tamper, power, offline);
    const kinds = await Promise.all([tamper, power, offline].map(async (e) => (await alarmsOf(e.id))[0]));
    expect(kinds.map((a) => [a?.kind, a?.reader])).toEqual([
      ['tamper', 'reader-1'],
      ['power', 'reader-1'],
      ['reader_offline', 'reader-2'],
    ]);
    const page = await list('?status=raised&limit=100');
    const severity = (id: string) => page.items.find((a) => a.id === id)?.severity;
    expect([severity(kinds[0]!.id), severity(kinds[1]!.id), severity(kinds[2]!.id)]).toEqual(['high', 'medium', 'medium']);
    // The reader answers again: its condition is gone.
    await ingest(condition('reader_offline', 'cleared', 'reader-2'));
    expect((await get(admin, `/api/admin/alarms/${kinds[2]!.id}`)).conditionClearedAt).not.toBeNull();
  });

  it('an entry a soft anti-passback rule admitted raises a low passback alert', async () => {
    const soft = event({ allow: true, reason: 'ok', alert: 'passback', counted: true });
    const plain = event({ allow: true, reason: 'ok', counted: true });
    await ingest(soft, plain);
    const [a] = await alarmsOf(soft.id);
    expect(a?.kind).toBe('passback');
    expect(((await get(admin, `/api/admin/alarms/${a!.id}`)) as AlarmItem).severity).toBe('low');
    expect(await alarmsOf(plain.id)).toHaveLength(0);
  });

  it('lists newest first, filtered by status, kind, gate and site, page by page', async () => {
    const all = await list('?limit=500');
    expect(all.items.length).toBeGreaterThanOrEqual(8);
    const ids = all.items.map((a) => a.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    expect((await list('?kind=forced')).items.every((a) => a.kind === 'forced')).toBe(true);
    expect((await list(`?gateId=${topo.gate.id}&limit=500`)).items).toHaveLength(all.items.length);
    expect((await list(`?gateId=${topo.serverGate.id}`)).items).toHaveLength(0);
    expect((await list(`?siteId=${topo.site.id}&limit=500`)).items).toHaveLength(all.items.length);
    let cursor: string | null = null;
    const walked: string[] = [];
    do {
      const p: Page = await list(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      walked.push(...p.items.map((a) => a.id));
      cursor = p.nextCursor;
    } while (cursor);
    expect(walked).toEqual(ids);
    const bad = await t.app.inject({ method: 'GET', url: '/api/admin/alarms?status=gone', headers: admin.auth });
    expect(bad.statusCode).toBe(400);
  });

  it('a guard acknowledges with a note and clears with a required one; each once; audited; in the live feed and the webhooks', async () => {
    const forced = event({ type: 'forced' });
    await ingest(forced);
    const [row] = await alarmsOf(forced.id);
    const id = row!.id;
    const url = `/api/admin/alarms/${id}`;

    const noNote = await post(operator, `${url}/clear`, {});
    expect(noNote.statusCode).toBe(400);
    expect(noNote.json()).toMatchObject({ error: { code: expect.any(String) } });
    expect((await post(operator, `${url}/clear`, { note: '   ' })).statusCode).toBe(400);
    expect((await post(operator, `${url}/clear`, { note: 'x'.repeat(1001) })).statusCode).toBe(400);

    const ack = await post(operator, `${url}/acknowledge`, { note: 'Going to look' });
    expect(ack.statusCode, ack.body).toBe(200);
    expect(ack.json()).toMatchObject({
      id,
      status: 'acknowledged',
      acknowledgeNote: 'Going to look',
      acknowledgedBy: { id: operator.userId, name: 'Test Operator' },
    });
    const twice = await post(operator, `${url}/acknowledge`, {});
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ error: { code: 'conflict' } });

    const cleared = await post(operator, `${url}/clear`, { note: 'Courier held the door; spoke to reception' });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json()).toMatchObject({
      status: 'cleared',
      clearNote: 'Courier held the door; spoke to reception',
      clearedBy: { id: operator.userId, name: 'Test Operator' },
      acknowledgeNote: 'Going to look',
    });
    expect((await post(operator, `${url}/clear`, { note: 'again' })).statusCode).toBe(409);
    expect((await post(operator, `${url}/acknowledge`, {})).statusCode).toBe(409);
    expect((await list('?status=open&limit=500')).items.some((a) => a.id === id)).toBe(false);
    expect((await list('?status=cleared')).items.some((a) => a.id === id)).toBe(true);

    // A POST without a body acknowledges without a note.
    const bare = event({ type: 'forced' });
    await ingest(bare);
    const [bareRow] = await alarmsOf(bare.id);
    const noBody = await t.app.inject({ method: 'POST', url: `/api/admin/alarms/${bareRow!.id}/acknowledge`, headers: operator.auth });
    expect(noBody.statusCode, noBody.body).toBe(200);
    expect(noBody.json()).toMatchObject({ status: 'acknowledged', acknowledgeNote: null });

    // A raised alarm may be cleared without an acknowledgement first.
    const other = event({ type: 'forced' });
    await ingest(other);
    const [otherRow] = await alarmsOf(other.id);
    const direct = await post(admin, `/api/admin/alarms/${otherRow!.id}/clear`, { note: 'Drill' });
    expect(direct.statusCode, direct.body).toBe(200);
    expect(direct.json()).toMatchObject({ status: 'cleared', acknowledgedAt: null, clearedBy: { id: admin.userId } });

    const audit = await t.app.ctx.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.entityType, 'alarm'), eq(auditLogs.entityId, id)));
    expect(audit.map((a) => [a.action, a.actorId, (a.data as { note: string | null }).note])).toEqual([
      ['alarm.acknowledged', operator.userId, 'Going to look'],
      ['alarm.cleared', operator.userId, 'Courier held the door; spoke to reception'],
    ]);

    // The guard's console heard each step.
    await until(() => live.some((e) => e.type === 'alarm.cleared' && e.data?.id === id), 'alarm.cleared in the live feed');
    const mine = live.filter((e) => e.data?.id === id);
    expect(mine.map((e) => [e.type, e.data?.status])).toEqual([
      ['alarm.raised', 'raised'],
      ['alarm.acknowledged', 'acknowledged'],
      ['alarm.cleared', 'cleared'],
    ]);
    expect(mine[0]!.data).toMatchObject({ kind: 'forced', severity: 'high', gateName: 'Turnstile 1', checkinId: forced.id });

    // And the integrator received each, signed.
    const hooks = await until(() => {
      const got = receiver.received.flatMap((r) => (r.verified.ok && r.verified.payload.data.id === id ? [r.verified.payload] : []));
      return got.length >= 3 ? got : null;
    }, 'three webhooks of the alarm');
    expect(receiver.received.every((r) => r.verified.ok)).toBe(true);
    const byType = Object.fromEntries(hooks.map((h) => [h.type, h.data]));
    expect(byType['alarm.raised']).toMatchObject({
      id,
      kind: 'forced',
      severity: 'high',
      status: 'raised',
      gateId: topo.gate.id,
      siteId: topo.site.id,
      checkinId: forced.id,
    });
    expect(byType['alarm.acknowledged']).toMatchObject({ id, status: 'acknowledged', acknowledgedBy: operator.userId });
    expect(byType['alarm.cleared']).toMatchObject({ id, status: 'cleared', clearedBy: operator.userId });
    // Notes are free text a person typed: never in a webhook.
    expect(hooks.map((h) => JSON.stringify(h)).join()).not.toMatch(/Going to look|Courier/);
  });

  it('a Host may not see or answer alarms; another organisation sees none of them', async () => {
    const forced = event({ type: 'forced' });
    await ingest(forced);
    const [row] = await alarmsOf(forced.id);
    const url = `/api/admin/alarms/${row!.id}`;
    for (const r of [
      await t.app.inject({ method: 'GET', url: '/api/admin/alarms', headers: host.auth }),
      await t.app.inject({ method: 'GET', url, headers: host.auth }),
      await post(host, `${url}/acknowledge`, {}),
      await post(host, `${url}/clear`, { note: 'no' }),
    ])
      expect(r.statusCode).toBe(403);
    for (const r of [
      await t.app.inject({ method: 'GET', url, headers: stranger.auth }),
      await post(stranger, `${url}/acknowledge`, {}),
      await post(stranger, `${url}/clear`, { note: 'not mine' }),
    ])
      expect(r.statusCode).toBe(404);
    expect((await list('', stranger)).items).toHaveLength(0);
    // Untouched by any of that.
    expect(((await get(admin, url)) as AlarmItem).status).toBe('raised');
  });

  it('counts raised alarms and open ones by kind on /metrics', async () => {
    const body = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const open = await list('?status=open&kind=held_open');
    expect(body).toContain(`gatehouse_alarms_open{kind="held_open"} ${open.items.length}`);
    expect(body).toMatch(/gatehouse_alarms_raised_total\{kind="forced"\} [1-9]/);
    expect(body).toContain('gatehouse_alarms_raised_total{kind="controller_offline"} 0');
  });
});

describe('controller offline, from an enrolled edge over MQTT', () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let daemon: Daemon;
  let configPath: string;
  const dir = tempDir('gh-alarms-edge-');

  const controllerAlarms = async () => {
    const r = await t.app.inject({
      method: 'GET',
      url: `/api/admin/alarms?kind=controller_offline&gateId=${topo.gate.id}`,
      headers: admin.auth,
    });
    return (r.json() as Page).items;
  };
  const gateOnline = async () =>
    ((await t.app.inject({ method: 'GET', url: `/api/admin/gates/${topo.gate.id}`, headers: admin.auth })).json() as { online: boolean })
      .online;

  beforeAll(async () => {
    t = await startApp({ mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) }, { sync: true });
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(t.app, `alarms-edge-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    ({ daemon, configPath } = await enrolledEdge(t.app, base, admin, topo.gate.id, dir.dir));
    await until(gateOnline, 'the gate online');
  }, 120_000);
  afterAll(async () => {
    await daemon?.stop();
    await t?.close();
    dir.cleanup();
  });

  it('an edge that stops raises controller_offline once; back online, its condition is gone', async () => {
    expect(await controllerAlarms()).toHaveLength(0);
    await daemon.stop();
    const [raised] = await until(async () => {
      const a = await controllerAlarms();
      return a.length ? a : null;
    }, 'controller_offline raised');
    expect(raised).toMatchObject({
      kind: 'controller_offline',
      severity: 'medium',
      status: 'raised',
      reader: null,
      checkinId: null,
      conditionClearedAt: null,
    });

    daemon = new Daemon(loadConfig(configPath), pino({ level: 'silent' }));
    await daemon.start();
    const back = await until(async () => {
      const [a] = await controllerAlarms();
      return a?.conditionClearedAt ? a : null;
    }, 'condition cleared when the edge is back');
    expect(back.id).toBe(raised!.id);
    expect(back.status).toBe('raised');
  }, 60_000);

  it.skipIf(!!process.env.MQTT_URL)(
    'a lost link (the last will) while the alarm is open marks it again instead of raising another',
    async () => {
      const seen: Array<{ type: string; conditionClearedAt: unknown }> = [];
      const off = t.app.ctx.events.subscribe(admin.orgId, (e) => {
        if (e.type.startsWith('alarm.')) seen.push({ type: e.type, conditionClearedAt: e.data.conditionClearedAt });
      });
      try {
        // The embedded broker drops the edge's session without a DISCONNECT: the broker publishes its will.
        const deviceId = loadConfig(configPath).deviceId ?? '';
        expect(t.app.ctx.sync?.broker?.disconnect(deviceId)).toBe(1);
        // Offline again (the open alarm's condition is back), then online again when the edge reconnects by itself.
        await until(() => seen.length >= 2, 'offline and back');
        expect(seen).toEqual([
          { type: 'alarm.updated', conditionClearedAt: null },
          { type: 'alarm.updated', conditionClearedAt: expect.any(String) },
        ]);
        expect(await controllerAlarms()).toHaveLength(1);
      } finally {
        off();
      }
    },
    60_000,
  );
  it('CONTROLLER_OFFLINE_ALARM_S: a restart within the grace period raises nothing; an edge that stays offline is raised after it, dated when it went offline', async () => {
    t.app.ctx.config.alarms.controllerOfflineSeconds = 2;
    try {
      for (const a of await controllerAlarms())
        await t.app.inject({ method: 'POST', url: `/api/admin/alarms/${a.id}/clear`, headers: admin.auth, payload: { note: 'test' } });
      const open = async () => (await controllerAlarms()).filter((a) => a.status !== 'cleared');
      await daemon.stop();
      await until(async () => !(await gateOnline()), 'the gate offline');
      daemon = new Daemon(loadConfig(configPath), pino({ level: 'silent' }));
      await daemon.start();
      await until(gateOnline, 'the gate back online');
      // Past the grace period of that short stop: its check ran and found the gate online.
      await new Promise((r) => setTimeout(r, 3_500));
      expect(await open()).toHaveLength(0);

      const stoppedAt = Date.now();
      await daemon.stop();
      await until(async () => !(await gateOnline()), 'the gate offline');
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await open()).toHaveLength(0);
      const [raised] = await until(async () => {
        const a = await open();
        return a.length ? a : null;
      }, 'controller_offline raised after the grace period');
      expect(raised).toMatchObject({ kind: 'controller_offline', status: 'raised' });
      expect(Date.parse(String(raised!.raisedAt))).toBeLessThan(stoppedAt + 1_500);
      daemon = new Daemon(loadConfig(configPath), pino({ level: 'silent' }));
      await daemon.start();
      await until(gateOnline, 'the gate back online');
    } finally {
      t.app.ctx.config.alarms.controllerOfflineSeconds = 0;
    }
  }, 60_000);
});
