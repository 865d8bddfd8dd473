import { sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSyncLagMetrics, syncLagAlertS } from '../src/sync/lag.js';
import { stampSite } from '../src/sync/sequencer.js';
import { createOrgWithUser, seedTopology, startApp, type TestApp } from './helpers.js';

describe('sync lag per site: metric and alert threshold', () => {
  let t: TestApp;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  beforeAll(async () => {
    t = await startApp();
    const admin = await createOrgWithUser(t.app, `lag-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
  });
  afterAll(async () => {
    await t.close();
  });

  it('an old change an online edge has not acknowledged raises gatehouse_sync_lag_alert and a warning; acknowledging clears it', async () => {
    const db = t.app.ctx.db;
    const site = topo.site.id;
    const head = await stampSite(db, site);
    await db.execute(sql`update gates set online = true, cache_seq = ${head} where id = ${topo.gate.id}`);
    const warnings: unknown[] = [];
    const infos: unknown[] = [];
    const log = { warn: (o: unknown) => warnings.push(o), info: (o: unknown) => infos.push(o), error: () => undefined };
    const registry = new Registry();
    const monitor = registerSyncLagMetrics(registry, db, log as never, { alertS: 30, everyMs: 60_000 });
    const alertOf = async () =>
      (await registry.getSingleMetric('gatehouse_sync_lag_alert')?.get())?.values.find((v) => v.labels.site === site)?.value;
    try {
      expect((await monitor.check()).get(site) ?? 0).toBe(0); // the edge holds the head: current

      // A change written 45 s ago and not stamped yet (e.g. the sequencer was held up).
      await db.execute(
        sql`insert into sync_changes (org_id, site_id, entity, entity_id, created_at) values (${topo.gate.orgId as string}, ${site}, 'gate', ${topo.gate.id}, now() - interval '45 seconds')`,
      );
      expect((await monitor.check()).get(site)).toBeGreaterThanOrEqual(45);
      expect(await alertOf()).toBe(1);
      expect(warnings).toHaveLength(1);

      // Stamped and sent, but the edge has not acknowledged it: still behind, no second warning.
      expect(await stampSite(db, site)).toBe(head + 1);
      expect((await monitor.check()).get(site)).toBeGreaterThanOrEqual(45);
      expect(warnings).toHaveLength(1);

      // The edge's status reports the new cacheSeq: caught up.
      await db.execute(sql`update gates set cache_seq = ${head + 1} where id = ${topo.gate.id}`);
      expect((await monitor.check()).get(site) ?? 0).toBe(0);
      expect(await alertOf()).toBe(0);
      expect(infos).toHaveLength(1);
      const text = await registry.metrics();
      expect(text).toContain(`gatehouse_sync_lag_seconds{site="${site}"} 0`);
    } finally {
      monitor.stop();
    }
  });

  it('the app exports both gauges on /metrics; SYNC_LAG_ALERT_S is validated', async () => {
    const body = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toContain('# TYPE gatehouse_sync_lag_seconds gauge');
    expect(body).toContain('# TYPE gatehouse_sync_lag_alert gauge');
    expect(syncLagAlertS({})).toBe(30);
    expect(syncLagAlertS({ SYNC_LAG_ALERT_S: '5' })).toBe(5);
    expect(() => syncLagAlertS({ SYNC_LAG_ALERT_S: 'soon' })).toThrow(/SYNC_LAG_ALERT_S/);
  });
});
