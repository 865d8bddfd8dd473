/**
 * Cloud API under load: pass issuance (POST /api/admin/passes) and check-in
 * listing (GET /api/admin/checkins over 100,000 rows), 50 concurrent clients,
 * beside Fastify's bare hello route measured in the same run on the same box.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:cloud
 *
 * With DATABASE_URL it makes (and drops) its own database on that server;
 * without it, it runs on in-memory PGlite and says so.
 * Then issuance again with ten active webhook endpoints subscribed to
 * visitpass.issued (a local receiver answering 200): each issuance enqueues
 * one fan-out job in its transaction, which writes the ten deliveries that
 * the queue then sends, so the ratio of
 * the two rates is what webhooks cost the issuing request when the box is
 * saturated (the same two cores also run the workers that send them). And
 * at a steady PACED_RATE issuances a second, which the queue keeps up with,
 * the latency of the issuing request with ten endpoints beside none: the
 * request waits for no receiver, only for its own transaction.
 * The floor: the INSERT statement(s) one issuance sends (captured off node-postgres
 * while one is issued), replayed straight through node-postgres by 50 clients;
 * issue_ratio is the API's issuance rate over it (target >= 0.5).
 * Beside it, the same statement(s) through pgbench, PostgreSQL's C client (issue_pgbench_*): what the server
 * answers at 50 clients when the client costs next to nothing.
 * PostgreSQL only (null on PGlite). pg_stat_statements needs a server restart
 * (shared_preload_libraries), so the statements are captured client-side.
 * Targets: both p99 < 50 ms; issuance >= 0.5x the floor, >= 0.1x the hello rate.
 * Knobs: BENCH_DURATION_S (10), BENCH_POOL (pg pool size, 20), DATABASE_PREPARED_STATEMENTS (on).
 */

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp, loadConfig, openDatabase, seedDemo } from '@gatehouse/cloud-api';
import { uuidv7 } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import Fastify from 'fastify';
import pg from 'pg';
import { createBenchDatabase, type Figures, type LoadOptions, load as loadWith, pgbench } from './load.js';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CHECKINS = 100_000;
/** Issuances a second of the paced runs: with ten endpoints, ten times as many deliveries a second. */
const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 20);

/** autocannon with this bench's defaults (50 connections, BENCH_DURATION_S). */
function load(opts: Omit<LoadOptions, 'connections' | 'duration'> & { connections?: number; duration?: number }): Promise<Figures> {
  return loadWith({ connections: CONNECTIONS, duration: DURATION_S, ...opts });
}

async function main() {
  const base = process.env.DATABASE_URL;
  const made = base ? await createBenchDatabase(base) : null;
  const dbKind = made ? 'postgres' : 'pglite';
  if (!made) console.log('DATABASE_URL is not set: running on in-memory PGlite (single connection), not PostgreSQL');
  const config = loadConfig(
    { GATEHOUSE_MASTER_KEY: randomBytes(32).toString('hex'), DATABASE_PREPARED_STATEMENTS: process.env.DATABASE_PREPARED_STATEMENTS },
    {
      ephemeral: true,
      overrides: {
        logLevel: 'silent',
        databaseUrl: made?.url ?? null,
        // 50 clients as one user from one address: the request limits (RATE_LIMIT_*) would turn the figures into 429s.
        rateLimits: { api: 1e9, refresh: 1e9, enroll: 1e9, guest: 1e9 },
        // The webhook receiver is on this machine.
        webhooks: { allowPrivateUrls: true, timeoutMs: 15_000, retryLimit: 12, retryDelayS: 30, disableAfterDays: 5 },
      },
    },
  );
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: null,
    poolSize: Number(process.env.BENCH_POOL ?? 20),
    preparedStatements: config.databasePreparedStatements,
    // Seeding 100,000 check-ins in one statement can outlast the default 15 s on a busy box.
    timeouts: { statementTimeoutMs: 120_000 },
  });
  const app = await buildApp(config, { database, logger: false });
  const demo = await seedDemo(app.ctx);
  const loginRes = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: demo.email, password: demo.password } });
  const { accessToken } = loginRes.json() as { accessToken: string };
  const visitor = (
    await app.inject({
      method: 'POST',
      url: '/api/admin/visitors',
      headers: { authorization: `Bearer ${accessToken}` },
      payload: { fullName: 'Bench Visitor' },
    })
  ).json() as { id: string };

  // 100,000 check-ins spread over the last 30 days, one site, one gate, a thousand passes.
  const t0 = performance.now();
  await database.db.execute(
    sql.raw(`
    insert into checkins (id, org_id, site_id, gate_id, pass_id, type, credential_kind, direction, allow, reason, occurred_at)
    select gen_random_uuid(), '${demo.orgId}', '${demo.siteId}', '${demo.gateId}',
           ('00000000-0000-7000-8000-' || lpad(to_hex(i % 1000), 12, '0'))::uuid,
           'attempt', 'dynamic', case when i % 2 = 0 then 'in' else 'out' end, i % 10 <> 0,
           case when i % 10 = 0 then 'expired' else 'ok' end,
           now() - (i || ' seconds')::interval * 25
    from generate_series(1, ${CHECKINS}) as i`),
  );
  await database.db.execute(sql.raw('analyze checkins'));
  console.log(`seeded ${CHECKINS} check-ins in ${((performance.now() - t0) / 1000).toFixed(1)} s (${dbKind})`);

  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const hello = Fastify({ logger: false });
  hello.get('/hello', async () => ({ hello: 'world' }));
  await hello.listen({ port: 0, host: '127.0.0.1' });
  const helloUrl = `http://127.0.0.1:${(hello.server.address() as AddressInfo).port}/hello`;

  const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
  const now = Date.now();
  const passBody = JSON.stringify({
    visitorId: visitor.id,
    accessRuleId: demo.ruleId,
    type: 'multi',
    validFrom: new Date(now).toISOString(),
    validTo: new Date(now + 8 * 3600_000).toISOString(),
  });

  // What one issuance sends to the database, statement by statement: the floor replays its writes.
  // pg-boss's workers poll meanwhile on the same pool: their fetches are not the issuance's.
  const issueStatements = (
    await captureStatements(() => app.inject({ method: 'POST', url: '/api/admin/passes', headers: auth, payload: passBody }))
  ).filter((q) => !/^\s*WITH next as \(\s*SELECT id, singleton_key/i.test(q.text));
  const issueWrites = issueStatements.filter((q) => /\binsert\b/i.test(q.text));
  // On PGlite nothing passes through node-postgres: there is no floor to replay (issue_ratio null).
  if (made && issueWrites.length === 0) throw new Error('no INSERT captured during an issuance');
  console.log(`one issuance sends ${issueStatements.length} statements:`);
  for (const q of issueStatements) console.log(`  ${q.text.replace(/\s+/g, ' ').trim().slice(0, 110)}`);
  const { rows: users } = (await database.db.execute(sql`select id from users where org_id = ${demo.orgId}`)) as unknown as {
    rows: Array<{ id: string }>;
  };
  const keepIds = new Set([demo.orgId, visitor.id, demo.ruleId, ...users.map((u) => u.id)]);

  // Warm the JITs and the pool so the first measured seconds are not start-up.
  await load({ url: helloUrl, duration: 2 });
  await load({ url: `${url}/api/admin/passes`, method: 'POST', headers: auth, body: passBody, duration: 2 });
  await floor(made?.url ?? null, issueWrites, keepIds, 2);

  const helloF = await load({ url: helloUrl });
  const issueF = await load({ url: `${url}/api/admin/passes`, method: 'POST', headers: auth, body: passBody });
  const floorF = await floor(made?.url ?? null, issueWrites, keepIds, DURATION_S);
  const pgbenchF = made ? await pgbenchFloor(made.url, issueWrites, keepIds) : null;
  const listF = await load({ url: `${url}/api/admin/checkins?limit=50&siteId=${demo.siteId}`, headers: auth });
  const paced = {
    url: `${url}/api/admin/passes`,
    method: 'POST' as const,
    headers: auth,
    body: passBody,
    rate: PACED_RATE,
    connections: 4,
  };
  const pacedF = await load(paced);

  // Ten active webhook endpoints on a receiver that answers 200 at once, then issuance again.
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const devApp = (
    await app.inject({ method: 'POST', url: '/api/devconsole/apps', headers: auth, payload: { name: 'Bench receiver' } })
  ).json() as { id: string };
  for (let i = 0; i < 10; i++) {
    const r = await app.inject({
      method: 'POST',
      url: `/api/devconsole/apps/${devApp.id}/webhooks`,
      headers: auth,
      payload: { url: `${receiverUrl}/hook/${i}`, events: ['visitpass.issued'] },
    });
    if (r.statusCode !== 201) throw new Error(`webhook endpoint: ${r.statusCode} ${r.body}`);
  }
  await load({ url: `${url}/api/admin/passes`, method: 'POST', headers: auth, body: passBody, duration: 2 });
  // Paced first, with an empty queue: the steady state; then as fast as answered.
  await drained();
  const pacedStart = await deliveryCounts();
  const pacedHookF = await load(paced);
  const drainT0 = performance.now();
  await drained();
  const drainS = (performance.now() - drainT0) / 1000;
  const pacedEnd = await deliveryCounts();
  const before = await deliveryCounts();
  const hookF = await load({ url: `${url}/api/admin/passes`, method: 'POST', headers: auth, body: passBody });
  const after = await deliveryCounts();
  async function deliveryCounts() {
    const { rows } = (await database.db.execute(
      sql`select count(*)::int as total, count(*) filter (where status = 'delivered')::int as delivered from webhook_deliveries`,
    )) as unknown as { rows: Array<{ total: number; delivered: number }> };
    return rows[0]!;
  }
  /** Until every event so far has been fanned out and every delivery sent (the queue has caught up). */
  async function drained() {
    for (;;) {
      const c = await deliveryCounts();
      const { rows } = (await database.db.execute(
        sql`select count(*)::int as n from pgboss.job where name = 'webhook.fanout' and state <> 'completed'`,
      )) as unknown as { rows: Array<{ n: number }> };
      if (rows[0]?.n === 0 && c.delivered === c.total) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const ms = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`cloud bench on ${dbKind}, ${CONNECTIONS} connections, ${DURATION_S} s each, Node ${process.version}`);
  console.log(`  hello (bare Fastify)  ${helloF.rps.toFixed(0)} req/s  p50 ${ms(helloF.p50)}  p99 ${ms(helloF.p99)}`);
  console.log(
    `  issue pass            ${issueF.rps.toFixed(0)} req/s  p50 ${ms(issueF.p50)}  p99 ${ms(issueF.p99)}  ratio to hello ${(issueF.rps / helloF.rps).toFixed(3)}x  (target >= 0.1x, p99 < 50 ms)`,
  );
  if (floorF)
    console.log(
      `  issue SQL, raw pg     ${floorF.rps.toFixed(0)} req/s  p50 ${ms(floorF.p50)}  p99 ${ms(floorF.p99)}  API/floor ${(issueF.rps / floorF.rps).toFixed(3)}x  (${issueStatements.length} statements per issuance, ${issueWrites.length} replayed; target >= 0.5x)`,
    );
  if (pgbenchF)
    console.log(
      `  issue SQL, pgbench    ${pgbenchF.rps.toFixed(0)} req/s  p50 ${ms(pgbenchF.p50)}  p99 ${ms(pgbenchF.p99)}  (PostgreSQL's C client: the server's own answer at 50 clients)`,
    );
  console.log(
    `  list check-ins        ${listF.rps.toFixed(0)} req/s  p50 ${ms(listF.p50)}  p99 ${ms(listF.p99)}  ratio to hello ${(listF.rps / helloF.rps).toFixed(3)}x  (p99 target < 50 ms)`,
  );
  console.log(
    `  issue pass, 10 hooks  ${hookF.rps.toFixed(0)} req/s  p50 ${ms(hookF.p50)}  p99 ${ms(hookF.p99)}  ratio to no hooks ${(hookF.rps / issueF.rps).toFixed(3)}x  (${after.total - before.total} deliveries fanned out and ${after.delivered - before.delivered} delivered during the run, ${received} received in all)`,
  );
  console.log(
    `  issue pass at ${PACED_RATE}/s     none: p50 ${ms(pacedF.p50)}  p99 ${ms(pacedF.p99)};  10 hooks: p50 ${ms(pacedHookF.p50)}  p99 ${ms(pacedHookF.p99)}  (${pacedEnd.total - pacedStart.total} deliveries, all delivered ${drainS.toFixed(1)} s after the last issuance)`,
  );
  const bad = [issueF, listF, hookF, pacedF, pacedHookF].reduce((n, f) => n + f.errors + f.non2xx, 0);
  if (bad > 0) console.log(`  WARNING: ${bad} failed or non-2xx responses`);

  await hello.close();
  await app.close();
  await new Promise((r) => receiver.close(r));
  await database.close();
  await made?.drop();
  console.log(
    JSON.stringify({
      bench: 'cloud',
      db: dbKind,
      issue_rps: Math.round(issueF.rps),
      issue_p99_ms: issueF.p99,
      list_rps: Math.round(listF.rps),
      list_p99_ms: listF.p99,
      hello_rps: Math.round(helloF.rps),
      issue_hello_ratio: Number((issueF.rps / helloF.rps).toFixed(3)),
      issue_floor_rps: floorF ? Math.round(floorF.rps) : null,
      issue_floor_p99_ms: floorF ? floorF.p99 : null,
      issue_ratio: floorF ? Number((issueF.rps / floorF.rps).toFixed(3)) : null,
      issue_pgbench_rps: pgbenchF ? Math.round(pgbenchF.rps) : null,
      issue_pgbench_p99_ms: pgbenchF ? Number(pgbenchF.p99.toFixed(2)) : null,
      issue_statements: issueStatements.length,
      issue_10_webhooks_rps: Math.round(hookF.rps),
      issue_10_webhooks_p99_ms: hookF.p99,
      webhooks_ratio: Number((hookF.rps / issueF.rps).toFixed(3)),
      paced_rate: PACED_RATE,
      paced_p50_ms: pacedF.p50,
      paced_p99_ms: pacedF.p99,
      paced_10_webhooks_p50_ms: pacedHookF.p50,
      paced_10_webhooks_p99_ms: pacedHookF.p99,
      paced_drain_s: Number(drainS.toFixed(1)),
      errors: bad,
    }),
  );
}

interface Statement {
  text: string;
  values: unknown[];
}

/** Every statement node-postgres sends while `run` runs (all pool connections are pg.Client). */
async function captureStatements(run: () => Promise<unknown>): Promise<Statement[]> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  const seen: Statement[] = [];
  proto.query = function (this: unknown, ...a: unknown[]) {
    const [q, v] = a;
    if (typeof q === 'string') seen.push({ text: q, values: (v as unknown[]) ?? [] });
    else if (q && typeof q === 'object' && 'text' in q)
      seen.push({ text: (q as { text: string }).text, values: (v as unknown[]) ?? (q as { values?: unknown[] }).values ?? [] });
    return original.apply(this, a);
  };
  try {
    await run();
  } finally {
    proto.query = original;
  }
  return seen;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The floor: the issuance's own INSERT statements, as captured, run straight through node-postgres by
 * CONNECTIONS clients in a closed loop for `seconds` (each a transaction when there are several).
 * Every uuid that is not a reference (org, visitor, rule, user) is the new row's: a fresh one each time.
 */
async function floor(url: string | null, writes: Statement[], keep: Set<string>, seconds: number): Promise<Figures | null> {
  if (!url) return null;
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        const fresh = new Map<string, string>();
        const t = performance.now();
        try {
          if (writes.length > 1) await c.query('begin');
          for (const [i, w] of writes.entries()) {
            const values = w.values.map((v) => {
              if (typeof v !== 'string' || !UUID.test(v) || keep.has(v)) return v;
              const n = fresh.get(v) ?? uuidv7();
              fresh.set(v, n);
              return n;
            });
            // Prepared once per connection, as the cloud's own statements are (db/client.ts).
            await c.query({ name: `floor_${i}`, text: w.text, values });
          }
          if (writes.length > 1) await c.query('commit');
          latencies.push(performance.now() - t);
        } catch {
          errors++;
          if (writes.length > 1) await c.query('rollback').catch(() => {});
        }
      }
    }),
  );
  await Promise.all(clients.map((c) => c.end()));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors, non2xx: 0 };
}

/**
 * The floor's statements through pgbench (PostgreSQL's C client), 50 clients: what the server itself answers.
 * Each new row's uuid is made by the statement (gen_random_uuid()), pgbench having no way to make one; null when
 * one new uuid is passed twice (two rows that must share it), which that cannot express.
 */
async function pgbenchFloor(url: string, writes: Statement[], keep: Set<string>): Promise<Figures | null> {
  const fresh = writes.flatMap((w) => w.values.filter((v) => typeof v === 'string' && UUID.test(v) && !keep.has(v)));
  if (new Set(fresh).size !== fresh.length) return null;
  const statements = writes.map((w) => ({
    text: w.text.replace(/\$(\d+)/g, (p, n: string) => (fresh.includes(w.values[Number(n) - 1] as string) ? 'gen_random_uuid()' : p)),
    values: w.values,
  }));
  return pgbench({ url, statements, clients: CONNECTIONS, duration: DURATION_S, transaction: writes.length > 1 });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
