/**
 * An edge gets only what its site needs (issue 11, item 3; SPEC SYNC-1,
 * CRED-10, DEC-13): two sites in one organisation, an edge enrolled at site
 * A. Passes whose rule opens only site B's zones never reach it, by snapshot
 * or by delta; a rule edit moves passes in and out; revocations of what it
 * holds do reach it; a static QR names its sites, so an uncached badge of
 * site B is refused at A while one of site A, issued while A's edge was
 * offline, still opens.
 */
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

describe(`site-scoped sync and static QRs (${process.env.MQTT_URL ? 'external broker' : 'embedded broker'})`, () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let siteB: { id: string };
  let zoneB: { id: string };
  let ruleB: { id: string };
  let daemon: Daemon;
  const dir = tempDir('gh-scope-');
  const api = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) => {
    const r = await t.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as { id: string } & Record<string, unknown>;
  };
  const issue = (accessRuleId: string) =>
    api('POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 3_600_000).toISOString(),
    });
  const staticQr = async (passId: string) =>
    ((await api('GET', `/api/admin/passes/${passId}/credential?kind=static`)) as unknown as { payload: string }).payload;
  const scan = (text: string) => daemon.gate.handle({ reader: 'sim', direction: 'in', data: text, receivedAt: performance.now() }).event;
  const held = (passId: string) => daemon.store.findByPassId(passId).pass;

  let passA: { id: string };
  let passB: { id: string };

  beforeAll(async () => {
    t = await startApp({ mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) }, { sync: true });
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(t.app, `scope-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    siteB = await api('POST', '/api/admin/sites', { name: 'Branch', timezone: 'Europe/Moscow' });
    zoneB = await api('POST', '/api/admin/zones', { siteId: siteB.id, name: 'Branch lobby' });
    ruleB = await api('POST', '/api/admin/access-rules', { name: 'Branch only', zoneIds: [zoneB.id], weekdays: [], timeWindows: [] });
    // Issued before the edge exists: they reach it (or not) by snapshot.
    passA = await issue(topo.rule.id);
    passB = await issue(ruleB.id);
    daemon = (await enrolledEdge(t.app, base, admin, topo.gate.id, dir.dir)).daemon;
  }, 180_000);

  afterAll(async () => {
    await daemon?.stop();
    await t?.close();
    dir.cleanup();
  });

  it('SYNC-1: the snapshot carries the passes of rules that open site A, and none of site B only', async () => {
    await until(() => daemon.store.seq > 0 && held(passA.id), 'snapshot at the edge');
    expect(held(passB.id)).toBeUndefined();
    // Rules still all arrive: a rule's zones are not a secret of the other site.
    expect(daemon.store.findByPassId(passA.id).rule?.id).toBe(topo.rule.id);
  });

  it('SYNC-1: a delta carries a new pass of site A and not one of site B only', async () => {
    const b = await issue(ruleB.id);
    const a = await issue(topo.rule.id);
    // Issued after b, in the same site log: once a is there, b would have been too.
    await until(() => held(a.id), 'pass of site A at the edge');
    expect(held(b.id)).toBeUndefined();
  });

  it('SYNC-1: a revocation of a pass the edge holds reaches it', async () => {
    const a = await issue(topo.rule.id);
    await until(() => held(a.id), 'pass at the edge');
    await api('POST', `/api/admin/passes/${a.id}/revoke`, { reason: 'lost badge' });
    await until(() => held(a.id)?.status === 'revoked', 'revocation at the edge');
  });

  it("SYNC-2: editing a rule's zones moves its passes into a site's cache and out of it", async () => {
    const b = await issue(ruleB.id);
    await api('PATCH', `/api/admin/access-rules/${ruleB.id}`, { zoneIds: [zoneB.id, topo.zone.id] });
    await until(() => held(passB.id) && held(b.id), 'passes of the widened rule at site A');
    expect(scan(await staticQr(b.id))).toMatchObject({ allow: true, reason: 'ok', passId: b.id });
    await api('PATCH', `/api/admin/access-rules/${ruleB.id}`, { zoneIds: [zoneB.id] });
    await until(() => !held(passB.id) && !held(b.id), 'passes of the narrowed rule gone from site A');
  });

  it("DEC-13: an uncached static QR of site B is refused at site A's edge", async () => {
    const b = await issue(ruleB.id);
    const qr = await staticQr(b.id);
    expect(qr.startsWith('GHS2:')).toBe(true);
    expect(held(b.id)).toBeUndefined();
    expect(scan(qr)).toMatchObject({ allow: false, reason: 'wrong_site', passId: b.id });
  });

  it("CRED-5, DEC-13: a static QR of site A issued while A's edge was offline opens there", async () => {
    const config = daemon.config;
    await daemon.stop();
    const a = await issue(topo.rule.id);
    const qr = await staticQr(a.id);
    // The edge comes back without its cloud: the pass is not in its cache, the QR's scope names its site.
    daemon = new Daemon({ ...config, mqtt: { ...config.mqtt!, url: 'mqtt://127.0.0.1:1' } }, pino({ level: 'silent' }));
    await daemon.start();
    expect(held(a.id)).toBeUndefined();
    expect(scan(qr)).toMatchObject({ allow: true, reason: 'ok', passId: a.id });
  });
});
