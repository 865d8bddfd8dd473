/**
 * A site's calendar and the site-wide presence reach its edges (SPEC SYNC-3, SYNC-4, DEC-14): a day closed in
 * the console API arrives by delta and the edge then denies `holiday`; an edge enrolled afterwards gets it in
 * its snapshot; removing the day opens the gate again; an entry counted at one edge reaches the other as a
 * `presence` change, which then refuses a second entry (`passback`) without having seen the first.
 */
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import { localDate } from '@gatehouse/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

describe(`holidays and presence reach the edge (${process.env.MQTT_URL ? 'external broker' : 'embedded broker'})`, () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let base: string;
  let daemon: Daemon;
  let late: Daemon | undefined;
  const dirs = [tempDir('gh-hol-a-'), tempDir('gh-hol-b-')];
  const api = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
    const r = await t.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.statusCode === 204 ? {} : (r.json() as Record<string, unknown>);
  };
  const issue = async () =>
    (await api('POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 3_600_000).toISOString(),
    })) as { id: string };
  const staticQr = async (passId: string) =>
    ((await api('GET', `/api/admin/passes/${passId}/credential?kind=static`)) as { payload: string }).payload;
  // A reader of its own per scan: the gate drops the same text read twice on one reader within its debounce.
  let reads = 0;
  const read = (d: Daemon, text: string, direction: 'in' | 'out') =>
    d.gate.handle({ reader: `sim-${reads++}`, direction, data: text, receivedAt: performance.now() }).event;
  const scan = (d: Daemon, text: string) => read(d, text, 'in');
  // The site is in Moscow: "today" is Moscow's date, whatever the machine's zone.
  const today = () => localDate(Date.now(), 'Europe/Moscow');

  beforeAll(async () => {
    t = await startApp({ mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) }, { sync: true });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(t.app, `holidays-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    daemon = (await enrolledEdge(t.app, base, admin, topo.gate.id, dirs[0]!.dir)).daemon;
    await until(() => daemon.store.seq > 0, 'first snapshot at the edge');
  }, 180_000);

  afterAll(async () => {
    await late?.stop();
    await daemon?.stop();
    await t?.close();
    for (const d of dirs) d.cleanup();
  });

  let dayId: string;
  let passId: string;

  it('SYNC-4, DEC-14: a day closed in the console reaches the online edge, which then denies holiday', async () => {
    const pass = await issue();
    passId = pass.id;
    await until(() => daemon.store.findByPassId(pass.id).pass, 'pass at the edge');
    const qr = await staticQr(pass.id);
    expect(scan(daemon, qr)).toMatchObject({ allow: true, reason: 'ok' });
    // Out again, so the next entry is not a passback.
    expect(read(daemon, qr, 'out')).toMatchObject({ allow: true, direction: 'out' });

    const day = (await api('POST', '/api/admin/holidays', {
      siteId: topo.site.id,
      date: today(),
      kind: 'closed',
      name: 'Closed today',
    })) as {
      id: string;
    };
    dayId = day.id;
    await until(() => daemon.store.cache.holidays.get(day.id), 'holiday at the edge');
    expect(daemon.store.cache.holidays.get(day.id)).toMatchObject({ siteId: topo.site.id, date: today(), kind: 'closed' });
    expect(scan(daemon, qr)).toMatchObject({ allow: false, reason: 'holiday', passId: pass.id });
    // The cloud's check agrees with the edge.
    expect(await api('POST', `/api/admin/passes/${pass.id}/check`, { gateId: topo.gate.id })).toEqual({ allow: false, reason: 'holiday' });
  });

  it('SYNC-4: an edge enrolled after the day was set gets it in its snapshot', async () => {
    const gate = (await api('POST', '/api/admin/gates', {
      siteId: topo.site.id,
      zoneId: topo.zone.id,
      name: 'Turnstile 2',
      direction: 'in',
    })) as {
      id: string;
    };
    late = (await enrolledEdge(t.app, base, admin, gate.id, dirs[1]!.dir)).daemon;
    await until(() => late!.store.seq > 0 && late!.store.findByPassId(passId).pass, 'snapshot at the late edge');
    expect(late.store.cache.holidays.get(dayId)).toMatchObject({ date: today(), kind: 'closed' });
    expect(scan(late, await staticQr(passId))).toMatchObject({ allow: false, reason: 'holiday' });
  });

  it('SYNC-4: a removed day is a delete, and the gate opens again', async () => {
    await api('DELETE', `/api/admin/holidays/${dayId}`);
    await until(() => !daemon.store.cache.holidays.has(dayId), 'holiday gone from the edge');
    expect(scan(daemon, await staticQr(passId))).toMatchObject({ allow: true, reason: 'ok' });
  });

  it('SYNC-3: an entry counted at one edge reaches the other as presence, which then refuses a second entry', async () => {
    const pass = await issue();
    await until(() => late!.store.findByPassId(pass.id).pass && daemon.store.findByPassId(pass.id).pass, 'pass at both edges');
    const qr = await staticQr(pass.id);
    // In through the first gate: the event goes up counted, the cloud records the presence and tells the site.
    expect(scan(daemon, qr)).toMatchObject({ allow: true, reason: 'ok', counted: true });
    await until(() => late!.store.findByPassId(pass.id).state?.lastDirection === 'in', 'presence at the other edge', 20_000);
    expect(late!.store.findByPassId(pass.id).state).toMatchObject({ useCount: 1, lastDirection: 'in' });
    expect(scan(late!, qr)).toMatchObject({ allow: false, reason: 'passback', passId: pass.id });
    expect(await api('POST', `/api/admin/passes/${pass.id}/check`, { gateId: topo.gate.id })).toEqual({ allow: false, reason: 'passback' });
  });
});
