/**
 * The broker link under a reconnect storm (issue 17 item 6, bench:fleet): when
 * every database connection is busy, a controller's sync request is not lost —
 * the link takes it again after a back-off, and the controller gets its
 * snapshot once a connection is free. The daemon asks only on connect and on a
 * gap, so a dropped request used to leave it stale until its next reconnect.
 *
 * And a controller that says in its status it is behind the site's head
 * (its request was lost for good) is caught up then, though nothing new is
 * stamped: sweeps push only sites with new changes.
 *
 * The first is PostgreSQL only: a pool of two connections, both held by the
 * test, with a 300 ms wait for one (PGlite has one connection and no queue).
 */
import { type DownMessage, KeyRing, openMessage, type Status, topics } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/app.js';
import { type Database, openDatabase } from '../src/db/client.js';
import {
  createOrgWithUser,
  freshDatabase,
  issuePass,
  type Login,
  onPostgres,
  seedTopology,
  startApp,
  type TestApp,
  type TestDb,
  testConfig,
  until,
} from './helpers.js';
import { freePort } from './own-postgres.js';

describe.skipIf(!onPostgres)('sync requests while every database connection is busy', () => {
  let db: TestDb;
  let small: Database;
  let app: App;
  let admin: Login;

  beforeAll(async () => {
    db = await freshDatabase();
    small = await openDatabase({ databaseUrl: db.url, dataDir: null, poolSize: 2, timeouts: { connectTimeoutMs: 300 } });
    app = await buildApp(testConfig({ mqttPort: await freePort() }), { database: small, migrate: false, logger: false, sync: true });
    await app.ready();
    admin = await createOrgWithUser(app, 'Storm Org', ['OrgAdmin']);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await small?.close();
    await db?.drop();
  });

  it('a sync request that found no free connection is taken again (the newest of them only), and the controller gets its snapshot', async () => {
    const topo = await seedTopology(app, admin);
    const enrollment = await app.inject({ method: 'POST', url: `/api/admin/gates/${topo.gate.id}/enrollment`, headers: admin.auth });
    const enrolled = await app.inject({
      method: 'POST',
      url: '/api/edge/enroll',
      payload: { code: (enrollment.json() as { code: string }).code },
    });
    const d = enrolled.json() as { deviceId: string; orgPublicKey: string; mqtt: { username: string; password: string } };
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${app.ctx.sync!.broker!.port}`, {
      ...d.mqtt,
      clientId: d.mqtt.username,
      reconnectPeriod: 0,
    });
    const ring = new KeyRing([d.orgPublicKey]);
    const got: DownMessage[] = [];
    device.on('message', (_topic, payload) => {
      const opened = openMessage(payload, ring, { orgId: admin.orgId, deviceId: d.deviceId });
      if (opened.ok) got.push(opened.message);
    });
    await device.subscribeAsync(topics.downFilter(d.deviceId), { qos: 1 });

    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    // Both of the pool's connections, busy until the test lets go.
    const busy = Promise.all(
      [0, 1].map(() =>
        small.db.transaction(async (tx) => {
          await tx.execute(sql`select 1`);
          await held;
        }),
      ),
    );
    try {
      await new Promise((r) => setTimeout(r, 100));
      const ask = () =>
        device.publishAsync(
          topics.syncRequest(d.deviceId),
          JSON.stringify({ v: 1, deviceId: d.deviceId, fromSeq: 0, full: true, ts: Date.now() }),
          { qos: 1 },
        );
      await ask();
      // Longer than the 300 ms wait for a connection: the first attempt has failed by now. The edge asks again
      // (as after a reconnect): only its newer request is taken, or it would get two whole snapshots.
      await new Promise((r) => setTimeout(r, 500));
      await ask();
      await new Promise((r) => setTimeout(r, 500));
      expect(got.filter((m) => m.kind === 'snapshot')).toHaveLength(0);
      release();
      await busy;
      const freedAt = performance.now();
      const snapshot = await until(() => got.find((m) => m.kind === 'snapshot'), 'the snapshot after the connections were freed', 10_000);
      expect(snapshot).toMatchObject({ kind: 'snapshot', siteId: topo.site.id, chunk: 0 });
      console.log(`sync request taken again: snapshot ${Math.round(performance.now() - freedAt)} ms after the pool was free`);
      // Past every back-off of the older request (at most 0.75 + 1.5 + 3 s from when it first failed).
      await new Promise((r) => setTimeout(r, 5000));
      const snapshots = new Set(got.flatMap((m) => (m.kind === 'snapshot' ? [m.snapshotId] : [])));
      expect(snapshots.size).toBe(1);
    } finally {
      release();
      await busy.catch(() => undefined);
      device.end(true);
    }
  });
});

describe('a controller behind the head says so in its status', () => {
  let t: TestApp;
  let admin: Login;
  beforeAll(async () => {
    t = await startApp({ mqttPort: 0 }, { sync: true });
    admin = await createOrgWithUser(t.app, 'Behind Org', ['OrgAdmin']);
  }, 120_000);
  afterAll(() => t?.close());

  it('its status alone (no sync request) brings the changes it missed', async () => {
    const topo = await seedTopology(t.app, admin);
    const enrollment = await t.app.inject({ method: 'POST', url: `/api/admin/gates/${topo.gate.id}/enrollment`, headers: admin.auth });
    const enrolled = await t.app.inject({
      method: 'POST',
      url: '/api/edge/enroll',
      payload: { code: (enrollment.json() as { code: string }).code },
    });
    const d = enrolled.json() as { deviceId: string; orgPublicKey: string; mqtt: { username: string; password: string } };
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${t.app.ctx.sync!.broker!.port}`, {
      ...d.mqtt,
      clientId: d.mqtt.username,
      reconnectPeriod: 0,
    });
    try {
      const ring = new KeyRing([d.orgPublicKey]);
      const got: DownMessage[] = [];
      device.on('message', (_topic, payload) => {
        const opened = openMessage(payload, ring, { orgId: admin.orgId, deviceId: d.deviceId });
        if (opened.ok) got.push(opened.message);
      });
      await device.subscribeAsync(topics.downFilter(d.deviceId), { qos: 1 });
      const status = (state: 'online' | 'offline', cacheSeq: number): Status => ({
        v: 1,
        deviceId: d.deviceId,
        state,
        version: '0.2.0',
        cacheSeq,
        outboxDepth: 0,
        lockdown: false,
        hardware: [],
        ts: Date.now(),
      });
      const say = (s: Status) => device.publishAsync(topics.status(d.deviceId), JSON.stringify(s), { qos: 1 });
      await device.publishAsync(
        topics.syncRequest(d.deviceId),
        JSON.stringify({ v: 1, deviceId: d.deviceId, fromSeq: 0, full: true, ts: Date.now() }),
        { qos: 1 },
      );
      const snapshot = await until(() => got.find((m) => m.kind === 'snapshot'), 'the snapshot');
      // Away: the cloud stops pushing to it; a pass is issued and stamped meanwhile.
      await say(status('offline', snapshot.seq));
      await new Promise((r) => setTimeout(r, 300));
      const pass = await issuePass(t.app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
      await until(async () => (await t.app.ctx.sync!.link.head(topo.site.id)) > snapshot.seq, 'the pass stamped');
      await new Promise((r) => setTimeout(r, 500));
      expect(got.filter((m) => m.kind === 'delta')).toHaveLength(0);
      // Back, with only a status: the delta that carries the pass follows.
      await say(status('online', snapshot.seq));
      const delta = await until(() => got.find((m) => m.kind === 'delta'), 'the missed delta', 3000);
      expect(delta).toMatchObject({ fromSeq: snapshot.seq });
      expect(delta.kind === 'delta' && delta.changes.some((c) => c.entity === 'pass' && c.id === pass.id)).toBe(true);
    } finally {
      device.end(true);
    }
  });
});
