/**
 * The whole system in one process: cloud API + broker (embedded aedes; the
 * external broker named by MQTT_URL when set, e.g. the machine's Mosquitto) + an enrolled edge daemon with a
 * simulated reader and relay. Enrollment, snapshot, pass issuance reaching the
 * edge, a scan becoming a check-in in the cloud, revocation latency, commands.
 */
import { join } from 'node:path';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import { Daemon, enroll } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

describe(`edge ↔ cloud over MQTT, end to end (${process.env.MQTT_URL ? 'external broker' : 'embedded broker'})`, () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let daemon: Daemon;
  const dir = tempDir('gh-e2e-');
  const api = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    const r = await t.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as Record<string, unknown>;
  };
  const scan = (text: string) => daemon.gate.handle({ reader: 'sim', direction: 'in', data: text, receivedAt: performance.now() }).event;

  beforeAll(async () => {
    t = await startApp({ mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) }, { sync: true });
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(t.app, `e2e-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    const edge = await enrolledEdge(t.app, base, admin, topo.gate.id, dir.dir, { passageSensor: { type: 'simulated' } });
    daemon = edge.daemon;
    // A code works once.
    await expect(enroll({ cloud: base, code: edge.code, configPath: join(dir.dir, 'other.json') })).rejects.toThrow(/refused \(401\)/);
  });

  afterAll(async () => {
    await daemon?.stop();
    await t?.close();
    dir.cleanup();
  });

  it('MSG-3, MSG-6: a new edge receives its site by snapshot and reports online', async () => {
    await until(() => daemon.store.seq > 0 && daemon.store.context('in').zoneId === topo.zone.id, 'snapshot');
    const gate = await until(async () => {
      const g = await api('GET', `/api/admin/gates/${topo.gate.id}`);
      // The status after the snapshot reports the seq the edge now holds.
      return g.online === true && g.cacheSeq === daemon.store.seq ? g : null;
    }, 'gate online at the current seq');
    expect(gate.version).toBeTruthy();
  });

  it('a pass issued in the cloud admits at the edge, and the check-in reaches the cloud', async () => {
    const pass = (await api('POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 3_600_000).toISOString(),
    })) as { id: string };
    await until(() => daemon.store.findByPassId(pass.id).pass, 'pass delta at the edge');
    const { payload } = (await api('GET', `/api/admin/passes/${pass.id}/credential?kind=dynamic`)) as { payload: string };
    const event = scan(payload);
    expect(event).toMatchObject({ allow: true, reason: 'ok', passId: pass.id });
    const listed = await until(async () => {
      const r = (await api('GET', `/api/admin/checkins?passId=${pass.id}`)) as { items: { id: string }[] };
      return r.items.find((i) => i.id === event?.id);
    }, 'check-in in the cloud');
    expect(listed).toMatchObject({ allow: true, reason: 'ok', gateId: topo.gate.id });
    await until(() => daemon.store.outbox.depth === 0, 'outbox drained by the ack');
  });

  it('MSG-5: a revocation reaches the online edge in under a second', async () => {
    const pass = (await api('POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 3_600_000).toISOString(),
    })) as { id: string };
    await until(() => daemon.store.findByPassId(pass.id).pass, 'pass at the edge');
    const { payload } = (await api('GET', `/api/admin/passes/${pass.id}/credential?kind=static`)) as { payload: string };
    const t0 = performance.now();
    await api('POST', `/api/admin/passes/${pass.id}/revoke`, { reason: 'lost badge' });
    await until(() => daemon.store.findByPassId(pass.id).pass?.status === 'revoked', 'revocation at the edge', 1000);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(scan(payload)).toMatchObject({ allow: false, reason: 'revoked' });
  });

  it('a passage the gate did not unlock raises an alarm in the live feed', async () => {
    const seen: string[] = [];
    const off = t.app.ctx.events.subscribe(admin.orgId, (e) => seen.push(e.type));
    try {
      expect(daemon.gate.passage()).toMatchObject({ type: 'forced' });
      // Functional, not a latency figure: the edge's batch, the ingest transaction and the alarm, on a loaded CI box too.
      await until(() => seen.includes('alarm.raised'), 'alarm in the live feed', 10_000);
    } finally {
      off();
    }
  });

  it('MSG-7, CMD-1: lockdown and release commands reach the gate', async () => {
    await api('POST', `/api/admin/gates/${topo.gate.id}/commands`, { type: 'lockdown', reason: 'drill' });
    await until(() => daemon.gate.lockdown, 'lockdown at the edge', 2000);
    await api('POST', `/api/admin/gates/${topo.gate.id}/commands`, { type: 'release' });
    await until(() => !daemon.gate.lockdown, 'release at the edge', 2000);
  });

  it('an edge that was offline catches up by itself when it comes back', async () => {
    const issue = async () =>
      (await api('POST', '/api/admin/passes', {
        visitorId: topo.visitor.id,
        accessRuleId: topo.rule.id,
        type: 'single',
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        validTo: new Date(Date.now() + 3_600_000).toISOString(),
      })) as { id: string };
    const known = await issue();
    await until(() => daemon.store.findByPassId(known.id).pass, 'pass at the edge');
    const config = daemon.config;
    const seqBefore = daemon.store.seq;
    await daemon.stop();
    // While it is away: new passes, and a revocation of one it already holds.
    const fresh = [await issue(), await issue(), await issue()];
    await api('POST', `/api/admin/passes/${known.id}/revoke`, { reason: 'cancelled while the gate was offline' });
    daemon = new Daemon(config, pino({ level: 'silent' }));
    await daemon.start();
    await until(
      () => fresh.every((p) => daemon.store.findByPassId(p.id).pass) && daemon.store.findByPassId(known.id).pass?.status === 'revoked',
      'catch-up',
    );
    expect(daemon.store.seq).toBeGreaterThan(seqBefore);
  });
});
