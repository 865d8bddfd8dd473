/**
 * npm run bench:apb — site-wide anti-passback (SPEC SYNC-3, issue 14 item 3):
 * the cloud with its broker side and two real edge daemons enrolled on two
 * gates of one site, in one process, as test/e2e-apb.test.ts wires them.
 *
 * (a) presence in ingest: BENCH_APB_EVENTS counted check-ins of 500 real
 *     passes through ingestCheckins in batches of 500 (what the MQTT link
 *     does per batch), against the same number not counted — the same
 *     insert and transaction without the presence upsert and its sync
 *     changes — interleaved batch by batch so load drifts weigh on both.
 * (b) propagation: BENCH_APB_PASSES passes under a hard rule each enter at
 *     edge A; timed from the event's occurredAt to edge B's store holding
 *     the merged state (the state its next decision reads: `passback`),
 *     polled every 1 ms.
 * (c) the raw baseline of the same run: as many passes revoked through the
 *     API, timed from the call to edge B's store showing them revoked — the
 *     propagation the project's sync already measures (bench:sync (b)).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres MQTT_URL=mqtt://127.0.0.1:1883 npm run bench:apb
 *
 * Without DATABASE_URL it runs on in-memory PGlite; without MQTT_URL on the embedded broker.
 * Targets: propagation p99 < 1,000 ms (a revocation's target); presence costs ingest < 2x.
 */
import { loadavg } from 'node:os';
import { createOrgWithUser, ingestCheckins, type Login, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import { type CheckinEvent, uuidv7 } from '@gatehouse/protocol';
import { sleep, summary, until } from './util.js';

const EVENTS = Number(process.env.BENCH_APB_EVENTS ?? 20_000);
const PASSES = Number(process.env.BENCH_APB_PASSES ?? 50);
const BATCH = 500;
const INGEST_PASSES = 500;

async function main() {
  const dbKind = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  const mqttUrl = process.env.MQTT_URL ?? null;
  const brokerKind = mqttUrl ? 'mosquitto' : 'embedded';
  console.log(
    `apb bench: ${dbKind}, broker ${mqttUrl ?? 'embedded aedes'}, Node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const t: TestApp = await startApp({ mqttPort: 0, ...(mqttUrl ? { mqttUrl } : {}) }, { sync: true });
  const dirs = [tempDir('gh-bench-apb-a-'), tempDir('gh-bench-apb-b-')];
  const daemons: Daemon[] = [];
  try {
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const admin: Login = await createOrgWithUser(t.app, `bench-apb-${Date.now()}`, ['OrgAdmin']);
    const topo = await seedTopology(t.app, admin);
    const api = async (method: 'GET' | 'POST', url: string, payload?: object) => {
      const r = await t.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
      if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.json() as { id: string } & Record<string, unknown>;
    };
    const gateB = await api('POST', '/api/admin/gates', {
      siteId: topo.site.id,
      zoneId: topo.zone.id,
      name: 'Turnstile 2',
      direction: 'in',
    });
    const rule = await api('POST', '/api/admin/access-rules', {
      name: 'hard',
      zoneIds: [topo.zone.id],
      weekdays: [],
      timeWindows: [],
      antiPassback: 'hard',
    });
    const issue = () =>
      api('POST', '/api/admin/passes', {
        visitorId: topo.visitor.id,
        accessRuleId: rule.id,
        type: 'multi',
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        validTo: new Date(Date.now() + 3_600_000).toISOString(),
      });

    // ---- (a) presence in ingest ----
    const ingestPasses: string[] = [];
    for (let i = 0; i < INGEST_PASSES; i++) ingestPasses.push((await issue()).id);
    const gate = { orgId: admin.orgId, siteId: topo.site.id, gateId: topo.gate.id, deviceId: null };
    const start = Date.now() - 3_600_000;
    let n = 0;
    const batch = (counted: boolean): CheckinEvent[] =>
      Array.from({ length: BATCH }, (_, i) => {
        const k = n++;
        return {
          id: uuidv7(),
          type: 'attempt',
          gateId: topo.gate.id,
          passId: ingestPasses[i % INGEST_PASSES]!,
          credentialKind: 'static',
          direction: Math.floor(k / BATCH) % 2 === 0 ? 'in' : 'out',
          allow: true,
          reason: 'ok',
          occurredAt: start + k,
          ...(counted ? { counted: true } : {}),
        };
      });
    let withMs = 0;
    let withoutMs = 0;
    for (let i = 0; i < EVENTS; i += BATCH * 2) {
      for (const counted of i % (BATCH * 4) === 0 ? [true, false] : [false, true]) {
        const b = batch(counted);
        const t0 = performance.now();
        await ingestCheckins(t.app.ctx, gate, b);
        const ms = performance.now() - t0;
        if (counted) withMs += ms;
        else withoutMs += ms;
      }
    }
    const half = EVENTS / 2;
    const withEps = half / (withMs / 1000);
    const withoutEps = half / (withoutMs / 1000);
    console.log(
      `  (a) ingest with presence ${Math.round(withEps)} events/s, without ${Math.round(withoutEps)} events/s ` +
        `(${half} each, batches of ${BATCH} over ${INGEST_PASSES} passes, ingestCheckins in-process); cost ${(withoutEps / withEps).toFixed(2)}x`,
    );

    // ---- (b) propagation across two edges, (c) revocation baseline ----
    const edgeA = (await enrolledEdge(t.app, base, admin, topo.gate.id, dirs[0]!.dir, { debounceMs: 0 })).daemon;
    daemons.push(edgeA);
    const edgeB = (await enrolledEdge(t.app, base, admin, gateB.id, dirs[1]!.dir, { debounceMs: 0 })).daemon;
    daemons.push(edgeB);
    const passes: string[] = [];
    for (let i = 0; i < PASSES * 2; i++) passes.push((await issue()).id);
    await until(
      () => passes.every((id) => edgeA.store.findByPassId(id).pass && edgeB.store.findByPassId(id).pass),
      'passes at both edges',
      60_000,
      20,
    );
    const qrs = new Map<string, string>();
    for (const id of passes.slice(0, PASSES))
      qrs.set(id, ((await api('GET', `/api/admin/passes/${id}/credential?kind=static`)) as unknown as { payload: string }).payload);

    const propagation: number[] = [];
    let refused = 0;
    for (const [id, qr] of qrs) {
      // Random gaps, so the entries do not lock step with the cloud's 200 ms sweep.
      await sleep(-Math.log(1 - Math.random()) * 50);
      const e = edgeA.gate.handle({ reader: 'sim', direction: 'in', data: qr, receivedAt: performance.now() }).event;
      if (!e?.allow || !e.counted) throw new Error(`entry at edge A: ${e?.reason ?? 'debounced'}`);
      await until(() => edgeB.store.findByPassId(id).state?.lastDirection === 'in', 'presence at edge B', 10_000, 1);
      propagation.push(Date.now() - e.occurredAt);
      if (edgeB.gate.handle({ reader: 'sim', direction: 'in', data: qr, receivedAt: performance.now() }).event?.reason === 'passback')
        refused++;
    }
    const revocation: number[] = [];
    for (const id of passes.slice(PASSES)) {
      await sleep(-Math.log(1 - Math.random()) * 50);
      const t0 = Date.now();
      await api('POST', `/api/admin/passes/${id}/revoke`, { reason: 'bench' });
      await until(() => edgeB.store.findByPassId(id).pass?.status === 'revoked', 'revocation at edge B', 10_000, 1);
      revocation.push(Date.now() - t0);
    }
    const p = summary(propagation);
    const r = summary(revocation);
    console.log(
      `  (b) passback propagation edge A entry → edge B state: p50 ${p.p50} ms p99 ${p.p99} ms max ${p.max} ms over ${propagation.length}; ` +
        `edge B refused ${refused}/${propagation.length} with passback`,
    );
    console.log(`  (c) revocation API call → edge B (baseline): p50 ${r.p50} ms p99 ${r.p99} ms max ${r.max} ms over ${revocation.length}`);
    console.log(`  propagation / revocation p50 ratio ${(p.p50 / r.p50).toFixed(2)}x`);
    console.log(
      JSON.stringify({
        bench: 'apb',
        db: dbKind,
        broker: brokerKind,
        ingest_with_presence_eps: Math.round(withEps),
        ingest_without_presence_eps: Math.round(withoutEps),
        presence_cost_x: Number((withoutEps / withEps).toFixed(2)),
        passback_propagation_p50_ms: p.p50,
        passback_propagation_p99_ms: p.p99,
        revoke_p50_ms: r.p50,
        revoke_p99_ms: r.p99,
        refused_passback: refused,
      }),
    );
  } finally {
    for (const d of daemons) await d.stop().catch(() => undefined);
    await t.close();
    for (const d of dirs) d.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
