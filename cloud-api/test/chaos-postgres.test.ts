/**
 * Chaos: a PostgreSQL cluster this test creates (initdb on a free port) is killed
 * (`pg_ctl stop -m immediate`) under a stream of scans at an enrolled edge, and
 * restarted a few seconds later. The API answers 503 + Retry-After within 3 s while
 * it is gone (no hang), answers 200 again soon after it is back, and every scan the
 * edge recorded is in `checkins` exactly once. Runs in the PostgreSQL phase of CI
 * only, and only where the PostgreSQL server binaries are installed.
 */
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp, until } from './helpers.js';
import { freePort, type OwnPostgres, ownPostgres, ownPostgresAvailable } from './own-postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!ownPostgresAvailable)('chaos: PostgreSQL killed and restarted under a stream of scans', () => {
  const edgeDir = tempDir('gh-chaos-pg-edge-');
  let pg: OwnPostgres;
  let cloud: TestApp;
  let base = '';
  let admin: Login;
  let gateId = '';
  let daemon: Daemon;

  beforeAll(async () => {
    pg = await ownPostgres('chaos');
    pg.start();
    // startApp's fresh database is created in this cluster, not the CI one.
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = pg.url;
    try {
      cloud = await startApp({ mqttPort: await freePort() }, { sync: true });
    } finally {
      process.env.DATABASE_URL = previous;
    }
    base = await cloud.app.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(cloud.app, `chaos-pg-${Date.now()}`, ['OrgAdmin']);
    gateId = (await seedTopology(cloud.app, admin)).gate.id;
    daemon = (await enrolledEdge(cloud.app, base, admin, gateId, edgeDir.dir)).daemon;
    await until(() => daemon.store.seq > 0, 'first snapshot', 30_000);
  }, 90_000);

  afterAll(async () => {
    await daemon?.stop();
    await cloud?.app.close();
    pg?.remove();
    edgeDir.cleanup();
  });

  it('answers 503 + Retry-After while it is gone, 200 once it is back, and keeps every scan exactly once', async () => {
    const ids: string[] = [];
    let n = 0;
    // 20 scans a second at the edge's reader, all through the gate's real decision path.
    const scanning = setInterval(() => {
      const r = daemon.gate.handle({ reader: 'sim', direction: 'in', data: `CARD:${++n}`, receivedAt: performance.now() });
      if (r.event) ids.push(r.event.id);
    }, 50);
    const api = () => fetch(`${base}/api/admin/sites`, { headers: admin.auth, signal: AbortSignal.timeout(20_000) });
    const stored = async () => {
      const r = (await cloud.app.ctx.db.execute(
        sql`select count(*)::int as n, count(distinct id)::int as d from checkins where id in ${ids}`,
      )) as unknown as { rows: { n: number; d: number }[] };
      return r.rows[0] ?? { n: 0, d: 0 };
    };
    try {
      await sleep(2_000);
      expect((await api()).status).toBe(200);
      pg.kill();
      const t0 = performance.now();
      const down = await api();
      const downAnswerMs = performance.now() - t0;
      expect(down.status).toBe(503);
      expect(((await down.json()) as { error: { code: string } }).error.code).toBe('database_unavailable');
      expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(downAnswerMs).toBeLessThan(5_000);
      await sleep(3_000);
      pg.start();
      const restarted = performance.now();
      await until(async () => (await api()).status === 200, 'the API answers 200 again', 30_000);
      const recoveryMs = performance.now() - restarted;
      await sleep(1_000);
      clearInterval(scanning);
      let last: unknown = null;
      await until(
        async () => {
          const s = await stored().catch(() => ({ n: -1, d: -1 }));
          last = { ...s, scans: ids.length, outbox: daemon.store.outbox.depth };
          return s.n === ids.length && daemon.store.outbox.depth === 0;
        },
        'every scan stored and acked',
        40_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(last)}`);
      });
      const s = await stored();
      expect(ids.length).toBeGreaterThan(100);
      expect(s).toEqual({ n: ids.length, d: ids.length });
      console.log(
        JSON.stringify({
          test: 'chaos-postgres',
          downAnswerMs: Math.round(downAnswerMs),
          recoveryMs: Math.round(recoveryMs),
          scans: ids.length,
          stored: s.n,
          distinct: s.d,
          breakerOpened: cloud.app.ctx.database.health().breakerOpened,
        }),
      );
    } finally {
      clearInterval(scanning);
    }
  }, 120_000);
});
