/**
 * npm run bench:sync — edge ↔ cloud over MQTT, the whole system in one
 * process: the cloud API with its broker side (embedded aedes, or the
 * external broker of MQTT_URL) and real edge daemons enrolled with one-time
 * codes, as test/e2e-sync.test.ts wires them.
 *
 * (a) ingest: an enrolled edge's outbox is filled with BENCH_EVENTS check-ins
 *     while it is offline; then the daemon starts and we time until its
 *     outbox is empty (every event acked, i.e. stored) and checkins holds all
 *     of them. Beside it, in the same run, the same rows (fresh ids) through
 *     one raw multi-row INSERT … ON CONFLICT DO NOTHING per 500 rows, on the
 *     same pool and table, one statement at a time, half before the pipeline
 *     and half after: the database's own rate, without MQTT, JSON, validation,
 *     acks and the edge's SQLite.
 * (b) revocation latency: BENCH_REVOKES passes already at the edge are revoked
 *     through the API at random (exponential) intervals, so the requests do
 *     not lock step with the cloud's change sweep; each is timed from the API
 *     call to the edge's store showing it revoked (polled every 1 ms).
 * (c) snapshot: BENCH_PASSES passes (sealed TOTP secrets) seeded in bulk into
 *     a second organisation; a new edge (empty store) enrolled there; seconds
 *     from daemon start to its store holding every one of them.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres MQTT_URL=mqtt://127.0.0.1:1883 npm run bench:sync
 *
 * Without DATABASE_URL it runs on in-memory PGlite; without MQTT_URL on the
 * embedded broker; it says which. The database is made for the run and dropped.
 * BENCH_DEBUG=1 prints the hrtime at which (a) and (c) start, to cut a --cpu-prof profile to a phase.
 * Targets: ingest >= 5,000 events/s and >= 0.5x raw; revoke p99 < 1,000 ms; snapshot < 10 s.
 */
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import { Daemon, dbPath, type EdgeEvent, EdgeStore, enroll, loadConfig } from '@gatehouse/edge-agent';
import { tempDir } from '@gatehouse/edge-agent/testing';
import { newTotpSecret, uuidv7 } from '@gatehouse/protocol';
import pino from 'pino';
import { checkinInsertText, percentile, sleep, until } from './util.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const REVOKES = Number(process.env.BENCH_REVOKES ?? 200);
const PASSES = Number(process.env.BENCH_PASSES ?? 100_000);
const RAW_BATCH = 500;
const SEED_BATCH = 1000;
/** Mean gap between revocations; the cloud sweeps changes every 200 ms. */
const REVOKE_GAP_MS = 50;

/** What both pg.Pool and PGlite answer: the driver under drizzle, for statements drizzle does not build. */
interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Log lines of one edge with the time they were written, for the phase breakdown. */
function recordingLogger(): { log: pino.Logger; at: (msg: string) => number | undefined; rejected: string[] } {
  const seen = new Map<string, number>();
  const rejected: string[] = [];
  const log = pino(
    { level: 'info' },
    {
      write(line: string) {
        const l = JSON.parse(line) as { msg?: string; reason?: string; seq?: number; passes?: number; changes?: number };
        const m = l.msg;
        if (m && !seen.has(m)) seen.set(m, performance.now());
        if (m === 'link: rejected a cloud message') rejected.push(String(l.reason));
        if (m === 'link: delta applied' || m === 'link: snapshot applied')
          console.log(
            `      new edge at +${((performance.now() - t0Log) / 1000).toFixed(2)} s: ${m} (seq ${l.seq}, ${l.passes ?? l.changes})`,
          );
      },
    },
  );
  return { log, at: (msg) => seen.get(msg), rejected };
}
let t0Log = 0;

/**
 * fetch over a new connection each time. With the global fetch, the second enrollment,
 * a minute or more after the first, reuses the pooled keep-alive socket just as the
 * server (same process, busy event loop) times it out: ECONNRESET. The real
 * `gatehouse-edge enroll` is a fresh process and never meets this.
 */
const freshConnectionFetch: typeof fetch = (input, init) =>
  new Promise<Response>((resolve, reject) => {
    const body = typeof init?.body === 'string' ? init.body : '';
    const req = httpRequest(
      String(input),
      {
        method: init?.method ?? 'GET',
        agent: false,
        headers: { ...(init?.headers as Record<string, string>), 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve(new Response(Buffer.concat(parts), { status: res.statusCode ?? 500 })));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });

class Cloud {
  readonly sql: Queryable;
  readonly base: string;
  constructor(
    readonly t: TestApp,
    base: string,
  ) {
    this.base = base;
    this.sql = (t.app.ctx.db as unknown as { $client: Queryable }).$client;
  }

  async api(admin: Login, method: 'GET' | 'POST', url: string, payload?: object): Promise<Record<string, unknown>> {
    const r = await this.t.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as Record<string, unknown>;
  }

  async count(table: 'checkins' | 'visit_passes', where = 'true', params: unknown[] = []): Promise<number> {
    const r = await this.sql.query(`select count(*)::int as n from ${table} where ${where}`, params);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Enrolls the gate with a one-time code and writes the edge's config; returns its path. */
  async enrollEdge(admin: Login, gateId: string, dir: string): Promise<string> {
    const { code } = (await this.api(admin, 'POST', `/api/admin/gates/${gateId}/enrollment`)) as { code: string };
    const configPath = join(dir, 'edge.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        dataDir: dir,
        localPort: 0,
        readers: [{ type: 'simulated', name: 'sim', direction: 'in' }],
        relay: { type: 'simulated', pulseMs: 50 },
      }),
    );
    await enroll({ cloud: this.base, code, configPath, fetch: freshConnectionFetch });
    return configPath;
  }
}

function makeEvents(gateId: string, passIds: readonly string[], n: number): EdgeEvent[] {
  const start = Date.now() - n * 10;
  const out: EdgeEvent[] = [];
  for (let i = 0; i < n; i++) {
    // One in ten is a card nobody knows: denied, no pass.
    const unknown = i % 10 === 0;
    out.push({
      id: uuidv7(),
      type: 'attempt',
      gateId,
      passId: unknown ? null : (passIds[i % passIds.length] ?? null),
      credentialKind: unknown ? 'card' : i % 3 === 0 ? 'static' : 'dynamic',
      direction: i % 2 === 0 ? 'in' : 'out',
      allow: !unknown,
      reason: unknown ? 'unknown' : 'ok',
      occurredAt: start + i * 10,
      reader: 'sim',
    });
  }
  return out;
}

/** The raw floor: the rows storeEvents would write, as one driver-level multi-row INSERT per RAW_BATCH, in sequence. */
async function rawInsert(
  cloud: Cloud,
  ids: { orgId: string; siteId: string; gateId: string; deviceId: string },
  events: readonly EdgeEvent[],
): Promise<number> {
  const full = checkinInsertText(RAW_BATCH);
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += RAW_BATCH) {
    const chunk = events.slice(i, i + RAW_BATCH);
    const params: unknown[] = [];
    for (const e of chunk) {
      params.push(
        uuidv7(), // a fresh copy of the ids: the pipeline's own rows must still be new to it
        ids.orgId,
        ids.siteId,
        ids.gateId,
        e.passId,
        ids.deviceId,
        e.type,
        e.credentialKind,
        e.direction,
        e.allow,
        e.reason,
        new Date(e.occurredAt).toISOString(),
      );
    }
    const r = await cloud.sql.query(chunk.length === RAW_BATCH ? full : checkinInsertText(chunk.length), params);
    if (r.rows.length !== chunk.length) throw new Error(`raw insert stored ${r.rows.length} of ${chunk.length}`);
  }
  return performance.now() - t0;
}

async function main() {
  const dbKind = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  const mqttUrl = process.env.MQTT_URL ?? null;
  const brokerKind = mqttUrl ? 'mosquitto' : 'embedded';
  const tStart = performance.now();
  console.log(
    `sync bench: ${dbKind}${dbKind === 'pglite' ? ' (in-memory, DATABASE_URL unset)' : ''}, ` +
      `broker ${mqttUrl ? `external ${mqttUrl}` : 'embedded aedes (MQTT_URL unset)'}, Node ${process.version}, ` +
      `load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  console.log(`  events ${EVENTS}, revocations ${REVOKES}, snapshot passes ${PASSES}`);

  const t = await startApp({ mqttPort: 0, ...(mqttUrl ? { mqttUrl } : {}) }, { sync: true });
  const dirs: { cleanup(): void }[] = [];
  const daemons: Daemon[] = [];
  try {
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const cloud = new Cloud(t, base);
    const admin = await createOrgWithUser(t.app, `bench-sync-${Date.now()}`, ['OrgAdmin']);
    const topo = await seedTopology(t.app, admin);

    // ---- (a) ingest ----
    const dirA = tempDir('gh-bench-sync-a-');
    dirs.push(dirA);
    const cfgA = loadConfig(await cloud.enrollEdge(admin, topo.gate.id, dirA.dir));
    const passIds = Array.from({ length: 1000 }, () => uuidv7());
    const events = makeEvents(topo.gate.id, passIds, EVENTS);
    const tFill = performance.now();
    {
      // The daemon opens this same file and finds the outbox full: as after hours with the broker down.
      const store = new EdgeStore(dbPath(cfgA));
      store.db.transaction(() => {
        for (const e of events) store.record(e);
      })();
      if (store.outbox.depth !== EVENTS) throw new Error(`outbox holds ${store.outbox.depth}, expected ${EVENTS}`);
      store.close();
    }
    console.log(`  filled the edge outbox with ${EVENTS} events in ${((performance.now() - tFill) / 1000).toFixed(1)} s`);

    // The raw floor in two halves, one before and one after the pipeline, so a change in the
    // shared machine's load during the run weighs on both figures alike.
    const rawIds = { orgId: admin.orgId, siteId: String(topo.site.id), gateId: topo.gate.id, deviceId: cfgA.deviceId ?? 'bench' };
    const half = Math.floor(EVENTS / 2 / RAW_BATCH) * RAW_BATCH;
    let rawMs = await rawInsert(cloud, rawIds, events.slice(0, half));

    const before = await cloud.count('checkins');
    const dA = new Daemon(cfgA, pino({ level: 'silent' }));
    daemons.push(dA);
    const t0 = performance.now();
    if (process.env.BENCH_DEBUG) console.log(`      ingest phase starts at hrtime ${process.hrtime.bigint() / 1000n} us`);
    await dA.start();
    let lastDepth = EVENTS;
    let lastMove = performance.now();
    await until(
      async () => {
        const depth = dA.store.outbox.depth;
        if (depth !== lastDepth) {
          lastDepth = depth;
          lastMove = performance.now();
        }
        if (performance.now() - lastMove > 30_000) throw new Error(`ingest stalled: outbox depth ${depth} for 30 s`);
        // An ack follows the commit, so an empty outbox means everything is stored; count to be sure.
        return depth === 0 && (await cloud.count('checkins')) - before >= EVENTS;
      },
      'ingest',
      600_000,
      5,
    );
    const ingestMs = performance.now() - t0;
    const stored = (await cloud.count('checkins')) - before;
    if (stored !== EVENTS) throw new Error(`cloud stored ${stored} check-ins, expected ${EVENTS}`);
    const ingestEps = EVENTS / (ingestMs / 1000);
    rawMs += await rawInsert(cloud, rawIds, events.slice(half));
    const rawEps = EVENTS / (rawMs / 1000);
    console.log(
      `  (a) ingest  ${Math.round(ingestEps)} events/s (${EVENTS} in ${(ingestMs / 1000).toFixed(2)} s, outbox → ${brokerKind} → ${dbKind}); ` +
        `raw multi-row INSERT ${Math.round(rawEps)} rows/s (${(rawMs / 1000).toFixed(2)} s); ratio ${(ingestEps / rawEps).toFixed(3)}x ` +
        `(targets >= 5000/s, >= 0.5x)`,
    );

    // ---- (b) revocation latency ----
    const now = Date.now();
    const issued: string[] = [];
    for (let i = 0; i < REVOKES; i++) {
      const p = (await cloud.api(admin, 'POST', '/api/admin/passes', {
        visitorId: topo.visitor.id,
        accessRuleId: topo.rule.id,
        type: 'multi',
        validFrom: new Date(now - 60_000).toISOString(),
        validTo: new Date(now + 3_600_000).toISOString(),
      })) as { id: string };
      issued.push(p.id);
    }
    await until(() => issued.every((id) => dA.store.findByPassId(id).pass?.status === 'active'), 'issued passes at the edge', 30_000, 20);
    const latencies: number[] = [];
    const waiting = new Map<string, number>();
    const poll = setInterval(() => {
      const at = performance.now();
      for (const [id, since] of waiting) {
        if (dA.store.findByPassId(id).pass?.status === 'revoked') {
          latencies.push(at - since);
          waiting.delete(id);
        }
      }
    }, 1);
    try {
      for (const id of issued) {
        await sleep(-Math.log(1 - Math.random()) * REVOKE_GAP_MS);
        waiting.set(id, performance.now());
        await cloud.api(admin, 'POST', `/api/admin/passes/${id}/revoke`, { reason: 'bench' });
      }
      await until(() => waiting.size === 0, `${waiting.size} revocations at the edge`, 10_000, 10);
    } finally {
      clearInterval(poll);
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `  (b) revoke  p50 ${p50.toFixed(1)} ms  p99 ${p99.toFixed(1)} ms  max ${(latencies.at(-1) ?? Number.NaN).toFixed(1)} ms ` +
        `over ${latencies.length}, API call → edge store (target p99 < 1000 ms)`,
    );
    await dA.stop();

    // ---- (c) snapshot to a new edge ----
    const admin2 = await createOrgWithUser(t.app, `bench-snap-${Date.now()}`, ['OrgAdmin']);
    const topo2 = await seedTopology(t.app, admin2);
    const tSeed = performance.now();
    const sealer = t.app.ctx.sealer;
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 8 * 3_600_000).toISOString();
    for (let i = 0; i < PASSES; i += SEED_BATCH) {
      const n = Math.min(SEED_BATCH, PASSES - i);
      const tuples: string[] = [];
      const params: unknown[] = [from, to, admin2.orgId, topo2.visitor.id, topo2.rule.id, admin2.userId];
      for (let r = 0; r < n; r++) {
        const id = uuidv7();
        const k = params.length;
        // Sealed exactly as issuePass seals it, so the snapshot's passRecord() opens it.
        params.push(id, sealer.seal(newTotpSecret(), `visit_passes.totp_secret:${id}`));
        tuples.push(`($${k + 1}, $3, $4, $5, 'multi', 'active', $1::timestamptz, $2::timestamptz, $${k + 2}, $6, $6)`);
      }
      await cloud.sql.query(
        `insert into visit_passes (id, org_id, visitor_id, access_rule_id, type, status, valid_from, valid_to, totp_secret_enc, created_by, updated_by)
         values ${tuples.join(',')}`,
        params,
      );
    }
    await cloud.sql.query('analyze visit_passes');
    const seeded = await cloud.count('visit_passes', 'org_id = $1', [admin2.orgId]);
    if (seeded !== PASSES) throw new Error(`seeded ${seeded} passes, expected ${PASSES}`);
    console.log(`  seeded ${PASSES} passes (sealed secrets) in ${((performance.now() - tSeed) / 1000).toFixed(1)} s`);

    const dirB = tempDir('gh-bench-sync-b-');
    dirs.push(dirB);
    const cfgB = loadConfig(await cloud.enrollEdge(admin2, topo2.gate.id, dirB.dir));
    const rec = recordingLogger();
    const dB = new Daemon(cfgB, rec.log);
    daemons.push(dB);
    const s0 = performance.now();
    t0Log = s0;
    if (process.env.BENCH_DEBUG) console.log(`      snapshot phase starts at hrtime ${process.hrtime.bigint() / 1000n} us`);
    await dB.start();
    const countPasses = () => (dB.store.db.prepare('SELECT count(*) AS n FROM passes').get() as { n: number }).n;
    // A snapshot lands with its seq in one transaction; a delta may set a seq first, so the count decides.
    let snapMs = Number.NaN;
    try {
      await until(() => dB.store.seq > 0 && countPasses() === PASSES, 'snapshot at the new edge', 60_000, 10);
      snapMs = performance.now() - s0;
    } catch (e) {
      console.log(
        `  (c) FAILED: ${(e as Error).message}; the edge holds ${countPasses()} passes at seq ${dB.store.seq}; ` +
          `it rejected: ${rec.rejected.join(', ') || 'nothing'}`,
      );
    }
    const held = countPasses();
    const connected = rec.at('link: connected');
    const applied = rec.at('link: snapshot applied');
    console.log(
      `  (c) snapshot ${(snapMs / 1000).toFixed(2)} s from daemon start to ${held} passes at a new edge (target < 10 s)` +
        (connected !== undefined && applied !== undefined
          ? `; connected after ${((connected - s0) / 1000).toFixed(2)} s, applied at ${((applied - s0) / 1000).toFixed(2)} s`
          : ''),
    );

    const ingestRatio = ingestEps / rawEps;
    const missed: string[] = [];
    if (ingestEps < 5000) missed.push('ingest < 5000/s');
    if (ingestRatio < 0.5) missed.push('ingest < 0.5x raw');
    if (!(p99 < 1000)) missed.push('revoke p99 >= 1000 ms');
    if (!(snapMs < 10_000)) missed.push('snapshot >= 10 s');
    console.log(
      `  ${missed.length ? `MISSED: ${missed.join('; ')}` : 'all targets met'}; load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; ` + `run ${((performance.now() - tStart) / 1000).toFixed(0)} s`,
    );
    await dB.stop();
    daemons.length = 0;
    console.log(
      JSON.stringify({
        bench: 'sync',
        db: dbKind,
        broker: brokerKind,
        ingest_eps: Math.round(ingestEps),
        raw_insert_eps: Math.round(rawEps),
        ingest_ratio: Number(ingestRatio.toFixed(3)),
        revoke_p50_ms: Number(p50.toFixed(1)),
        revoke_p99_ms: Number(p99.toFixed(1)),
        snapshot_100k_s: Number((snapMs / 1000).toFixed(2)),
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
