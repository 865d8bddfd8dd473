/**
 * Nothing lost, nothing doubled across failures: the edge keeps deciding
 * while the cloud and its broker are down, buffers 100,000 events, and
 * delivers them exactly once across a cloud restart in the middle of the
 * catch-up (unacked batches are sent again; the cloud stores by event id).
 */
import { type App, buildApp, type Config } from '@gatehouse/cloud-api';
import { createOrgWithUser, freshDatabase, type Login, seedTopology, type TestDb, testConfig } from '@gatehouse/cloud-api/testing';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import { type CheckinEvent, uuidv7 } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from './harness.js';

const N = Number(process.env.OUTAGE_EVENTS ?? 100_000);

describe('outages: broker down, cloud restarted mid-batch', () => {
  const dir = tempDir('gh-outage-');
  let db: TestDb;
  let config: Config;
  let app: App | null = null;
  let daemon: Daemon;
  let admin: Login;
  let gateId: string;

  const startCloud = async () => {
    app = await buildApp(config, { database: db.database, migrate: false, logger: false, sync: true });
    return app;
  };
  const stored = async () => {
    const r = (await db.database.db.execute(
      sql`select count(*)::int as n, count(distinct id)::int as d from checkins where gate_id = ${gateId}`,
    )) as unknown as {
      rows: { n: number; d: number }[];
    };
    return r.rows[0] ?? { n: 0, d: 0 };
  };

  beforeAll(async () => {
    db = await freshDatabase();
    config = testConfig({ mqttPort: await freePort() });
    const cloud = await startCloud();
    const base = await cloud.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(cloud, `outage-${Date.now()}`, ['OrgAdmin']);
    const topo = await seedTopology(cloud, admin);
    gateId = topo.gate.id;
    daemon = (await enrolledEdge(cloud, base, admin, gateId, dir.dir)).daemon;
    await until(() => daemon.store.seq > 0, 'first snapshot');
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    await app?.close();
    await db?.drop();
    dir.cleanup();
  });

  it(`buffers ${N} events while the broker is down and delivers each exactly once across a cloud restart`, async () => {
    await app?.close(); // cloud and embedded broker down
    app = null;
    // The gate keeps deciding offline: a real scan, then a burst recorded straight into the outbox.
    expect(daemon.gate.handle({ reader: 'sim', direction: 'in', data: 'CARD:1', receivedAt: performance.now() }).event).toMatchObject({
      reason: 'unknown',
    });
    const t0 = Date.now();
    for (let i = 1; i < N; i++) {
      const e: CheckinEvent = {
        id: uuidv7(),
        type: 'attempt',
        gateId,
        passId: null,
        credentialKind: 'card',
        direction: 'in',
        allow: false,
        reason: 'unknown',
        occurredAt: t0 + i,
      };
      daemon.store.record(e);
    }
    expect(daemon.store.outbox.depth).toBe(N);

    const first = await startCloud();
    // Restart the cloud in the middle of the catch-up.
    await until(async () => (await stored()).n > N / 10, 'catch-up under way');
    await first.close();
    const midway = await stored();
    expect(midway.n).toBeLessThan(N);
    await startCloud();
    await until(async () => (await stored()).n === N && daemon.store.outbox.depth === 0, 'all delivered and acked', 120_000);
    const done = await stored();
    expect(done).toEqual({ n: N, d: N });
  }, 240_000);
});
