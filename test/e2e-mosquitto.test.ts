/**
 * Production shape: two cloud instances on one database behind one external
 * Mosquitto (started here on a free port with the dynamic-security setup that
 * gatehouse-cloud writes), and an edge enrolled through one of them. The
 * instances split ingestion through the shared subscription and nothing is
 * stored twice; the broker learns enrolled devices live over its control
 * topic (MOSQUITTO_DIR), and a deleted gate's controller is served by neither
 * instance any more.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, buildApp, type Database, openDatabase, writeMosquittoConfig } from '@gatehouse/cloud-api';
import { createOrgWithUser, freshDatabase, type Login, seedTopology, type TestDb, testConfig } from '@gatehouse/cloud-api/testing';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import { topics } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from './harness.js';

const hasMosquitto = (() => {
  try {
    return spawn('mosquitto', ['-h']).pid !== undefined;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasMosquitto)('two cloud instances, one Mosquitto, one edge', () => {
  const dir = tempDir('gh-mosq-e2e-');
  const mosqDir = join(dir.dir, 'mosquitto');
  const pidFile = join(dir.dir, 'mosquitto.pid');
  let db: TestDb;
  /** Instance B's own connection pool on PostgreSQL (on PGlite, one in-process database is all there is). */
  let dbB: Database | null = null;
  let a: App;
  let b: App;
  let mosquitto: ChildProcess;
  let daemon: Daemon;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const ingested = { a: 0, b: 0 };
  const cloudPassword = 'cloud-secret-for-this-test';
  let mqttBase = '';
  const env = { MOSQUITTO_DIR: process.env.MOSQUITTO_DIR, MOSQUITTO_PID_FILE: process.env.MOSQUITTO_PID_FILE };

  beforeAll(async () => {
    const port = await freePort();
    mqttBase = `mqtt://127.0.0.1:${port}`;
    const mqttUrl = `mqtt://gatehouse-cloud:${cloudPassword}@127.0.0.1:${port}`;
    process.env.MOSQUITTO_DIR = mosqDir;
    process.env.MOSQUITTO_PID_FILE = pidFile;
    db = await freshDatabase();
    const config = testConfig({ mqttUrl });
    a = await buildApp(config, { database: db.database, migrate: false, logger: false });
    // Files for the cloud alone, before any device exists; running as root, mosquitto must stay root to read 0600 files.
    await writeMosquittoConfig(a.ctx, { dir: mosqDir, cloudUsername: 'gatehouse-cloud', cloudPassword, port, host: '127.0.0.1' });
    const conf = join(mosqDir, 'mosquitto.conf');
    writeFileSync(conf, `user root\npid_file ${pidFile}\n${readFileSync(conf, 'utf8')}`);
    mosquitto = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    await until(async () => {
      const s = await import('node:net');
      return new Promise<boolean>((r) => {
        const c = s.connect(port, '127.0.0.1', () => {
          c.destroy();
          r(true);
        });
        c.on('error', () => r(false));
      });
    }, 'mosquitto up');
    await a.close();
    a = await buildApp(config, { database: db.database, migrate: false, logger: false, sync: true });
    if (db.url) dbB = await openDatabase({ databaseUrl: db.url, dataDir: null, poolSize: 5 });
    b = await buildApp(config, { database: dbB ?? db.database, migrate: false, logger: false, sync: true });
    a.ctx.sync?.link.on('checkin', () => ingested.a++);
    b.ctx.sync?.link.on('checkin', () => ingested.b++);
    const base = await a.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(a, `mosq-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(a, admin);
    daemon = (await enrolledEdge(a, base, admin, topo.gate.id, dir.dir)).daemon;
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    await a?.close();
    await b?.close();
    await dbB?.close();
    mosquitto?.kill('SIGTERM');
    await db?.drop();
    process.env.MOSQUITTO_DIR = env.MOSQUITTO_DIR;
    process.env.MOSQUITTO_PID_FILE = env.MOSQUITTO_PID_FILE;
    if (env.MOSQUITTO_DIR === undefined) delete process.env.MOSQUITTO_DIR;
    if (env.MOSQUITTO_PID_FILE === undefined) delete process.env.MOSQUITTO_PID_FILE;
    dir.cleanup();
  });

  it('TOPIC-4, MSG-6: the enrolled edge logs in to Mosquitto with its own credentials and gets its snapshot', async () => {
    // Created live over $CONTROL/dynamic-security/v1 (Mosquitto saves its state to the file at once), bound to its own client id.
    expect(readDynsec().clients).toContainEqual(
      expect.objectContaining({ username: daemon.config.deviceId, clientid: daemon.config.deviceId }),
    );
    await until(() => daemon.store.seq > 0 && daemon.store.context('in').zoneId === topo.zone.id, 'snapshot over mosquitto');
  });

  it('TOPIC-5, MSG-2, MSG-8: a pass issued on instance B admits at the edge; 3001 attempts (7 batches) are stored once, split between the instances', async () => {
    const r = await b.inject({
      method: 'POST',
      url: '/api/admin/passes',
      headers: admin.auth,
      payload: {
        visitorId: topo.visitor.id,
        accessRuleId: topo.rule.id,
        type: 'multi',
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        validTo: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    const pass = r.json() as { id: string };
    await until(() => daemon.store.findByPassId(pass.id).pass, 'pass at the edge');
    const cred = (
      await b.inject({ method: 'GET', url: `/api/admin/passes/${pass.id}/credential?kind=static`, headers: admin.auth })
    ).json() as {
      payload: string;
    };
    expect(daemon.gate.handle({ reader: 'sim', direction: 'in', data: cred.payload, receivedAt: performance.now() }).event).toMatchObject({
      allow: true,
    });
    // 3000 attempts from the reader, each a distinct event (different texts, no debounce).
    for (let i = 0; i < 3000; i++)
      daemon.gate.handle({ reader: 'sim', direction: 'in', data: `CARD:${1000 + i}`, receivedAt: performance.now() });
    await until(
      async () => {
        const n = (await a.ctx.db.execute(sql`select count(*)::int as n from checkins where gate_id = ${topo.gate.id}`)) as unknown as {
          rows: { n: number }[];
        };
        return n.rows[0]?.n === 3001;
      },
      '3001 check-ins stored',
      20_000,
    );
    await until(() => daemon.store.outbox.depth === 0, 'outbox drained');
    // Each new row is announced once, by whichever instance stored it.
    await until(() => ingested.a + ingested.b >= 3001, 'every check-in announced once');
    expect(ingested.a + ingested.b).toBe(3001);
    expect(ingested.a).toBeGreaterThan(0);
    expect(ingested.b).toBeGreaterThan(0);
  }, 40_000);

  it('a gate deleted through instance A: neither instance serves its controller any more, and Mosquitto closes its session', async () => {
    const deviceId = daemon.config.deviceId as string;
    const linkState = () => (daemon.health() as { link: string }).link;
    // The test speaks as the cloud would (its login may use every topic) and asks for the device's snapshot.
    const probe = await mqtt.connectAsync(mqttBase, {
      username: 'gatehouse-cloud',
      password: cloudPassword,
      clientId: `probe-${Date.now()}`,
      protocolVersion: 5,
    });
    try {
      const answered: string[] = [];
      probe.on('message', (t) => answered.push(t));
      await probe.subscribeAsync(topics.sync(deviceId), { qos: 1 });
      const ask = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const req = { v: 1, deviceId, fromSeq: 0, full: true, ts: Date.now() };
          await probe.publishAsync(topics.syncRequest(deviceId), JSON.stringify(req), { qos: 1 });
        }
      };
      // Both instances know the device: every request, whichever instance takes it, is answered.
      await until(() => linkState() === 'online', 'edge online');
      await ask(6);
      await until(() => answered.length >= 6, 'snapshots for the probe');
      const r = await a.inject({ method: 'DELETE', url: `/api/admin/gates/${topo.gate.id}`, headers: admin.auth });
      expect(r.statusCode).toBe(204);
      const deletedAt = performance.now();
      // Watched from now on: when the broker closes the controller's session.
      const down = until(() => (linkState() !== 'online' ? performance.now() : null), 'the edge cut off by the broker', 5000);
      // Instance B never handled the call; it heard of it from the database (LISTEN/NOTIFY). Neither answers now.
      await new Promise((res) => setTimeout(res, 300));
      answered.length = 0;
      await ask(8);
      await new Promise((res) => setTimeout(res, 1500));
      expect(answered).toEqual([]);
      // And the broker closed the controller's session.
      const downAt = await down;
      process.stdout.write(
        `[cut-off] two instances + mosquitto: edge link down ${Math.round(downAt - deletedAt)} ms after the API answered\n`,
      );
    } finally {
      await probe.endAsync();
    }
  }, 30_000);

  const readDynsec = () =>
    JSON.parse(readFileSync(join(mosqDir, 'dynamic-security.json'), 'utf8')) as { clients: { username: string; clientid?: string }[] };
});
