/**
 * Issue 15, the broker failing for real: a Mosquitto run here on a free port
 * with the configuration gatehouse-cloud writes. A cloud started while it is
 * down starts, serves liveness, reports the broker not ready, and becomes
 * ready when the broker starts. Then, with an edge enrolled, the broker is
 * stopped and started again under a stream of scans and a revocation: every
 * scan reaches the cloud exactly once, the gate is online again, and the
 * revocation issued during the outage reaches the edge.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { type App, buildApp, writeMosquittoConfig } from '@gatehouse/cloud-api';
import { createOrgWithUser, freshDatabase, type Login, seedTopology, type TestDb, testConfig } from '@gatehouse/cloud-api/testing';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from './harness.js';

const hasMosquitto = (() => {
  try {
    return spawn('mosquitto', ['-h']).pid !== undefined;
  } catch {
    return false;
  }
})();

const listening = (port: number) =>
  new Promise<boolean>((r) => {
    const c = connect(port, '127.0.0.1', () => {
      c.destroy();
      r(true);
    });
    c.on('error', () => r(false));
  });

describe.skipIf(!hasMosquitto)('chaos: the external Mosquitto down at start and restarted under an edge', () => {
  const dir = tempDir('gh-chaos-mosq-');
  const mosqDir = join(dir.dir, 'mosquitto');
  const conf = join(mosqDir, 'mosquitto.conf');
  const cloudPassword = 'cloud-secret-for-the-chaos-test';
  let port = 0;
  let db: TestDb;
  let app: App;
  let mosquitto: ChildProcess | null = null;
  let daemon: Daemon;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const env = { MOSQUITTO_DIR: process.env.MOSQUITTO_DIR };

  const startBroker = async () => {
    mosquitto = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    await until(() => listening(port), 'mosquitto up', 10_000);
  };
  const stopBroker = async () => {
    const m = mosquitto;
    mosquitto = null;
    if (!m || m.exitCode !== null) return;
    await new Promise<void>((r) => {
      m.once('exit', () => r());
      m.kill('SIGTERM');
    });
  };
  const ready = async () => {
    const r = await app.inject('/api/internal/ready');
    return { code: r.statusCode, body: r.json() as { status: string; broker: string; database: string; jobs: string } };
  };

  beforeAll(async () => {
    port = await freePort();
    const mqttUrl = `mqtt://gatehouse-cloud:${cloudPassword}@127.0.0.1:${port}`;
    process.env.MOSQUITTO_DIR = mosqDir;
    db = await freshDatabase();
    const config = testConfig({ mqttUrl });
    const files = await buildApp(config, { database: db.database, migrate: false, logger: false });
    await writeMosquittoConfig(files.ctx, { dir: mosqDir, cloudUsername: 'gatehouse-cloud', cloudPassword, port, host: '127.0.0.1' });
    await files.close();
    // Running as root, mosquitto must stay root to read its 0600 files.
    writeFileSync(conf, `user root\n${readFileSync(conf, 'utf8')}`);
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    await app?.close();
    await stopBroker();
    await db?.drop();
    if (env.MOSQUITTO_DIR === undefined) delete process.env.MOSQUITTO_DIR;
    else process.env.MOSQUITTO_DIR = env.MOSQUITTO_DIR;
    dir.cleanup();
  });

  it('a cloud started while its broker is down serves liveness, reports the broker not ready, and is ready once the broker starts', async () => {
    const t0 = performance.now();
    app = await buildApp(testConfig({ mqttUrl: `mqtt://gatehouse-cloud:${cloudPassword}@127.0.0.1:${port}` }), {
      database: db.database,
      migrate: false,
      logger: false,
      sync: true,
    });
    await app.ready();
    const startMs = Math.round(performance.now() - t0);
    expect((await app.inject('/api/internal/health')).statusCode).toBe(200);
    const before = await ready();
    expect(before.code).toBe(503);
    expect(before.body).toMatchObject({ status: 'not_ready', broker: 'connecting', jobs: 'started' });
    expect(before.body.database).not.toBe('unavailable');
    const t1 = performance.now();
    await startBroker();
    await until(async () => (await ready()).code === 200, 'ready once the broker is up', 15_000);
    expect((await ready()).body).toMatchObject({ status: 'ready', broker: 'ok' });
    console.log(
      JSON.stringify({
        test: 'chaos-mosquitto-start',
        startWithoutBrokerMs: startMs,
        brokerUpToReadyMs: Math.round(performance.now() - t1),
      }),
    );
  }, 40_000);

  it('broker restarted under scans: every scan stored once, the gate online again, a revocation of the outage reaches the edge', async () => {
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(app, `chaos-mosq-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(app, admin);
    const api = async (method: 'GET' | 'POST', url: string, payload?: object) => {
      const r = await app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
      if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.json() as { id: string } & Record<string, unknown>;
    };
    const pass = await api('POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 3_600_000).toISOString(),
    });
    daemon = (await enrolledEdge(app, base, admin, topo.gate.id, dir.dir)).daemon;
    await until(() => daemon.store.findByPassId(pass.id).pass, 'pass at the edge', 15_000);
    const gateOnline = async () => (await api('GET', `/api/admin/gates/${topo.gate.id}`)).online === true;
    await until(gateOnline, 'gate online', 15_000);
    const stored = async () => {
      const r = (await app.ctx.db.execute(
        sql`select count(*)::int as n, count(distinct id)::int as d from checkins where gate_id = ${topo.gate.id}`,
      )) as unknown as { rows: { n: number; d: number }[] };
      return r.rows[0] ?? { n: 0, d: 0 };
    };
    const scan = (i: number) =>
      daemon.gate.handle({ reader: 'sim', direction: 'in', data: `CARD:${5000 + i}`, receivedAt: performance.now() });
    let scans = 0;
    for (; scans < 20; scans++) scan(scans);

    await stopBroker();
    await until(async () => !(await ready()).body.broker.startsWith('ok'), 'the cloud sees the broker gone', 10_000);
    expect((await ready()).code).toBe(503);
    for (let i = 0; i < 30; i++, scans++) scan(scans);
    // Revoked while neither side can reach the broker.
    await api('POST', `/api/admin/passes/${pass.id}/revoke`, { reason: 'lost badge' });
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 20; i++, scans++) scan(scans);

    const back = performance.now();
    await startBroker();
    await until(() => daemon.store.findByPassId(pass.id).pass?.status === 'revoked', 'revocation at the edge after the outage', 30_000);
    const revokedMs = Math.round(performance.now() - back);
    await until(async () => (await stored()).n >= scans && daemon.store.outbox.depth === 0, 'every scan stored', 30_000);
    const storedMs = Math.round(performance.now() - back);
    await until(gateOnline, 'gate online again', 15_000);
    await until(async () => (await ready()).code === 200, 'ready again', 15_000);
    const syncedMs = Math.round(performance.now() - back);
    // Nothing doubled: the edge resends unacked batches, the cloud stores each event once.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await stored()).toEqual({ n: scans, d: scans });
    console.log(
      JSON.stringify({
        test: 'chaos-mosquitto-restart',
        scans,
        revokedAfterBrokerBackMs: revokedMs,
        allScansStoredMs: storedMs,
        reconnectToSyncedMs: syncedMs,
      }),
    );
  }, 90_000);
});
