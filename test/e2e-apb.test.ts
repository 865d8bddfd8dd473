/**
 * Site-wide anti-passback across two controllers, and site lockdown /
 * emergency release (issue 14 "done when", SPEC SYNC-3, DEC-11, CMD-4): two
 * enrolled edges on two gates of one site, each with its own data directory.
 * A pass under a hard rule enters at edge A (no passage sensor, so the
 * admitted scan is counted); once the cloud's merged presence reached edge B,
 * B refuses the same pass `passback`; after a guard forgives it through the
 * API, B admits it. Then the site is locked down (both edges report it within
 * a second), released for evacuation (both relays held) and set back to normal.
 * Runs on PostgreSQL + Mosquitto (DATABASE_URL, MQTT_URL) and on the embedded
 * defaults. Prints the propagation time as a JSON line.
 */
import { addUser, createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

describe(`site-wide anti-passback and site modes across two edges (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, ${process.env.MQTT_URL ? 'external broker' : 'embedded broker'})`, () => {
  let t: TestApp;
  let admin: Login;
  let guard: Login;
  let officer: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let gateB: { id: string };
  let rule: { id: string };
  let edgeA: Daemon;
  let edgeB: Daemon;
  const dirA = tempDir('gh-apb-a-');
  const dirB = tempDir('gh-apb-b-');

  const api = async (who: Login, method: 'GET' | 'POST', url: string, payload?: object) => {
    const r = await t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as { id: string } & Record<string, unknown>;
  };
  const staticQr = async (passId: string) =>
    ((await api(admin, 'GET', `/api/admin/passes/${passId}/credential?kind=static`)) as unknown as { payload: string }).payload;
  /** A decision's event (never debounced here: the edges run with debounceMs 0). */
  const scan = (d: Daemon, text: string) => {
    const e = d.gate.handle({ reader: 'sim', direction: 'in', data: text, receivedAt: performance.now() }).event;
    if (!e) throw new Error('the scan was debounced');
    return e;
  };
  /** The same QR is shown again at once (after the forgiveness): nothing to debounce in a test. */
  const NO_DEBOUNCE = { debounceMs: 0 };
  const health = (d: Daemon) => d.health() as { lockdown: boolean; emergency: boolean; relay: { held: boolean } };

  beforeAll(async () => {
    t = await startApp({ mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) }, { sync: true });
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(t.app, `apb-${Date.now()}`, ['OrgAdmin']);
    guard = await addUser(t.app, admin.orgId, ['Operator']);
    officer = await addUser(t.app, admin.orgId, ['SecurityOfficer']);
    topo = await seedTopology(t.app, admin);
    gateB = await api(admin, 'POST', '/api/admin/gates', {
      siteId: topo.site.id,
      zoneId: topo.zone.id,
      name: 'Turnstile 2',
      direction: 'in',
    });
    rule = await api(admin, 'POST', '/api/admin/access-rules', {
      name: 'Lobby, hard anti-passback',
      zoneIds: [topo.zone.id],
      weekdays: [],
      timeWindows: [],
      antiPassback: 'hard',
    });
    edgeA = (await enrolledEdge(t.app, base, admin, topo.gate.id, dirA.dir, NO_DEBOUNCE)).daemon;
    edgeB = (await enrolledEdge(t.app, base, admin, gateB.id, dirB.dir, NO_DEBOUNCE)).daemon;
    await until(() => edgeA.store.seq > 0 && edgeB.store.seq > 0, 'both edges synced', 30_000);
  }, 180_000);

  afterAll(async () => {
    await edgeA?.stop();
    await edgeB?.stop();
    await t?.close();
    dirA.cleanup();
    dirB.cleanup();
  });

  it('SYNC-3, DEC-11: an entry at edge A makes edge B refuse the pass `passback`; a guard’s forgiveness lets it in at B', async () => {
    const pass = await api(admin, 'POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await until(() => edgeA.store.findByPassId(pass.id).pass && edgeB.store.findByPassId(pass.id).pass, 'the pass at both edges', 10_000);
    const qr = await staticQr(pass.id);

    const entered = scan(edgeA, qr);
    expect(entered).toMatchObject({ allow: true, reason: 'ok', passId: pass.id, counted: true });
    // Edge B has the merged state once its own decision says so: the time from the entry to that is the figure.
    await until(() => edgeB.store.findByPassId(pass.id).state?.lastDirection === 'in', 'the presence at edge B', 10_000);
    const propagatedMs = Date.now() - entered.occurredAt;
    const denied = scan(edgeB, qr);
    expect(denied).toMatchObject({ allow: false, reason: 'passback', passId: pass.id });
    console.log(
      JSON.stringify({
        test: 'e2e-apb',
        figure: 'passback_propagation_ms',
        ms: propagatedMs,
        db: process.env.DATABASE_URL ? 'postgres' : 'pglite',
        broker: process.env.MQTT_URL ? 'mosquitto' : 'embedded',
      }),
    );
    // The cloud knows the pass is inside; the muster lists it.
    const muster = (await api(guard, 'GET', `/api/admin/muster?siteId=${topo.site.id}`)) as unknown as {
      items: { passId: string; gateId: string }[];
    };
    expect(muster.items).toEqual([expect.objectContaining({ passId: pass.id, gateId: topo.gate.id })]);

    await api(guard, 'POST', `/api/admin/passes/${pass.id}/forgive`, { reason: 'left with the guard through the side door' });
    await until(() => edgeB.store.findByPassId(pass.id).state?.lastDirection === null, 'the forgiveness at edge B', 10_000);
    expect(scan(edgeB, qr)).toMatchObject({ allow: true, reason: 'ok', passId: pass.id });
  });

  it('CMD-4: lockdown reaches both edges within a second, emergency holds both relays, normal brings both back', async () => {
    const t0 = Date.now();
    await api(officer, 'POST', `/api/admin/sites/${topo.site.id}/lockdown`, { reason: 'drill: intruder' });
    await until(() => health(edgeA).lockdown && health(edgeB).lockdown, 'lockdown at both edges', 1000);
    const lockdownMs = Date.now() - t0;
    // Every attempt is denied in a lockdown.
    const pass = await api(admin, 'POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await until(() => edgeB.store.findByPassId(pass.id).pass, 'a new pass at edge B', 10_000);
    expect(scan(edgeB, await staticQr(pass.id))).toMatchObject({ allow: false, reason: 'lockdown' });

    const t1 = Date.now();
    await api(guard, 'POST', `/api/admin/sites/${topo.site.id}/emergency`, { reason: 'drill: fire alarm' });
    await until(
      () => [edgeA, edgeB].every((d) => health(d).emergency && !health(d).lockdown && health(d).relay.held),
      'both relays held',
      1000,
    );
    const emergencyMs = Date.now() - t1;

    const t2 = Date.now();
    await api(officer, 'POST', `/api/admin/sites/${topo.site.id}/normal`, { reason: 'drill over' });
    await until(
      () => [edgeA, edgeB].every((d) => !health(d).emergency && !health(d).lockdown && !health(d).relay.held),
      'both edges back to normal',
      1000,
    );
    const normalMs = Date.now() - t2;
    console.log(JSON.stringify({ test: 'e2e-apb', figure: 'site_mode_ms', lockdownMs, emergencyMs, normalMs }));
    expect(scan(edgeB, await staticQr(pass.id))).toMatchObject({ allow: true, reason: 'ok' });
  });
});
