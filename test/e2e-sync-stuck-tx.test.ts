/**
 * One long or idle transaction anywhere in the database must not freeze sync
 * to the edges: a revocation made while it is open reaches an enrolled edge
 * within the sync sweep, and a change that the stuck transaction itself wrote
 * (committed after later changes were stamped and sent) still reaches the edge
 * once it commits. Needs a second connection to hold the transaction open, so
 * PostgreSQL only (PGlite has one connection: a transaction there blocks
 * everything, the app included).
 */
import { createOrgWithUser, type Login, onPostgres, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

describe.skipIf(!onPostgres)('sync behind a stuck transaction (PostgreSQL)', () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let daemon: Daemon;
  const dir = tempDir('gh-e2e-stuck-');
  const api = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    const r = await t.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as Record<string, unknown>;
  };
  const issue = async () =>
    (await api('POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 3_600_000).toISOString(),
    })) as { id: string };
  const statusAtEdge = (id: string) => daemon.store.findByPassId(id).pass?.status;

  beforeAll(async () => {
    t = await startApp({ mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) }, { sync: true });
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(t.app, `stuck-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    daemon = (await enrolledEdge(t.app, base, admin, topo.gate.id, dir.dir)).daemon;
    await until(() => daemon.store.seq > 0, 'snapshot at the edge', 20_000);
  });

  afterAll(async () => {
    await daemon?.stop();
    await t?.close();
    dir.cleanup();
  });

  it('a revocation reaches the edge while another transaction is held open, and the late committer still arrives', async () => {
    const [a, b] = [await issue(), await issue()];
    await until(() => statusAtEdge(a.id) && statusAtEdge(b.id), 'both passes at the edge', 20_000);
    const stuck = new pg.Client({ connectionString: t.db.url ?? '' });
    await stuck.connect();
    try {
      // Holds an xid (so pg_snapshot_xmin stays at it) and writes a change of its own that commits last.
      await stuck.query('begin');
      await stuck.query('select txid_current()');
      await stuck.query(`update visit_passes set status = 'revoked', revoked_at = now() where id = $1`, [b.id]);
      await stuck.query(`insert into sync_changes (org_id, site_id, entity, entity_id) values ($1, $2, 'pass', $3)`, [
        admin.orgId,
        topo.site.id,
        b.id,
      ]);
      const t0 = performance.now();
      await api('POST', `/api/admin/passes/${a.id}/revoke`, { reason: 'lost badge' });
      // Generous for a loaded CI box; the figure is printed, not asserted tightly.
      await until(() => statusAtEdge(a.id) === 'revoked', 'revocation at the edge while a transaction is stuck', 15_000);
      const revokeMs = Math.round(performance.now() - t0);
      expect(statusAtEdge(b.id)).toBe('active'); // not committed yet: nothing of it may leak
      const t1 = performance.now();
      await stuck.query('commit');
      await until(() => statusAtEdge(b.id) === 'revoked', 'the late committer at the edge', 15_000);
      const lateMs = Math.round(performance.now() - t1);
      console.log(JSON.stringify({ test: 'sync-stuck-tx', revokeWhileStuckMs: revokeMs, lateCommitterMs: lateMs }));
    } finally {
      await stuck.end();
    }
  });
});
