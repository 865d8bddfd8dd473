/**
 * npm run bench:large — one large organisation (issue 17 item 4): BENCH_PASSES
 * passes (1,000,000) and BENCH_CHECKINS check-ins (10,000,000) loaded with
 * INSERT … SELECT from generate_series (not the API), then the list and
 * filter endpoints under 50 concurrent clients (autocannon in its own
 * process), each beside the same SELECT run straight through node-postgres by
 * 50 concurrent clients in the same run (the raw baseline) and through pgbench
 * (PostgreSQL's C client: what the server answers when its client costs next to
 * nothing), with the CPU each run cost per request (this process, PostgreSQL's
 * processes, the machine), and the site
 * snapshot an edge downloads (sync/records.ts siteSnapshot) over every pass.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:large
 *
 * PostgreSQL only: it makes its own database on that server and drops it.
 * The check-ins table's secondary indexes are dropped for the load and made
 * again after it (both times printed). The table is partitioned by month
 * (migration 0022): the months of the history are made before the load, as
 * the daily job would have made them while that history was recorded. Knobs: BENCH_PASSES, BENCH_CHECKINS,
 * BENCH_DURATION_S (10), BENCH_POOL (20), BENCH_ONLY=<an endpoint's name> (that one alone), BENCH_KEEP_DB=1 (the database is kept, its URL printed, for EXPLAIN).
 * Target: every list p99 < 50 ms.
 */

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  buildApp,
  checkinPartitions,
  ensureCheckinPartitions,
  loadConfig,
  openDatabase,
  seedDemo,
  siteSnapshot,
} from '@gatehouse/cloud-api';
import { newTotpSecret } from '@gatehouse/protocol';
import pg from 'pg';
import { type CpuPerRequest, cpuMeter, type Figures, load, pgbench } from './load.js';
import { percentile } from './util.js';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const PASSES = Number(process.env.BENCH_PASSES ?? 1_000_000);
const CHECKINS = Number(process.env.BENCH_CHECKINS ?? 10_000_000);
const SITES = 4;
const GATES_PER_SITE = 5;

/** An endpoint under this bench's load; a non-2xx answer counts as an error here. */
async function autocannon(url: string, headers: Record<string, string>, duration = DURATION_S): Promise<Figures> {
  const f = await load({ url, headers, duration, connections: CONNECTIONS });
  return { ...f, errors: f.errors + f.non2xx };
}

let rawStatements = 0;
/** A second statement made from the first one's rows (a check-in page's names), run after it in the same call. */
type FollowUp = (rows: Record<string, unknown>[]) => { text: string; values: unknown[] } | null;

async function raw(pool: pg.Pool, text: string, values: unknown[], followUp?: FollowUp, duration = DURATION_S): Promise<Figures> {
  // Prepared once per connection, as the cloud's own statements are (db/client.ts).
  const name = `raw_${rawStatements++}`;
  const followUpName = `raw_${rawStatements++}`;
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + duration * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const r = await pool.query({ name, text, values });
          const next = followUp?.(r.rows);
          if (next) await pool.query({ name: followUpName, ...next });
          lat.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { rps: lat.length / duration, p50: percentile(lat, 50), p99: percentile(lat, 99), errors, non2xx: 0 };
}

/** A UUIDv7-shaped id whose time part is `ms` and whose tail is `n`: ids sort as the rows' times, as the edge's do. */
const v7 = (ms: number, n: number) => {
  const t = ms.toString(16).padStart(12, '0');
  const r = n.toString(16).padStart(18, '0');
  return `${t.slice(0, 8)}-${t.slice(8)}-7${r.slice(0, 3)}-8${r.slice(3, 6)}-${r.slice(6)}`;
};
/** The same in SQL, for ids made by generate_series. */
const v7sql = (ms: string, n: string) =>
  `(select (substr(t, 1, 8) || '-' || substr(t, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-' || substr(r, 7, 12))::uuid
    from (select lpad(to_hex((${ms})::bigint), 12, '0') as t, lpad(to_hex((${n})::bigint), 18, '0') as r) x)`;

async function main() {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('bench:large needs DATABASE_URL (PostgreSQL): 10M rows are not a PGlite workload');
  const name = `gh_bench_large_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  const dbUrl = u.toString();
  const config = loadConfig(
    { GATEHOUSE_MASTER_KEY: randomBytes(32).toString('hex'), DATABASE_PREPARED_STATEMENTS: process.env.DATABASE_PREPARED_STATEMENTS },
    {
      ephemeral: true,
      overrides: { logLevel: 'silent', databaseUrl: dbUrl, rateLimits: { api: 1e9, refresh: 1e9, enroll: 1e9, guest: 1e9 } },
    },
  );
  const database = await openDatabase({
    databaseUrl: dbUrl,
    dataDir: null,
    poolSize: Number(process.env.BENCH_POOL ?? 20),
    preparedStatements: config.databasePreparedStatements,
  });
  const app = await buildApp(config, { database, logger: false });
  const pool = new pg.Pool({ connectionString: dbUrl, max: CONNECTIONS });
  try {
    const demo = await seedDemo(app.ctx);
    const org = demo.orgId;
    const now = Date.now();

    // Visitors (one per ten passes, names sealed as the API seals them is not needed for the lists: left null).
    const t0 = performance.now();
    const visitors = Math.max(1, Math.ceil(PASSES / 10));
    await pool.query(
      `insert into visitors (id, org_id) select ${v7sql(`${now - 400 * 86_400_000} + i`, 'i')}, $1 from generate_series(0, $2 - 1) i`,
      [org, visitors],
    );
    // Passes: the TOTP secret is sealed per pass (its id is in the AAD), so ids and secrets are made here, the rest in SQL.
    const BATCH = 20_000;
    const passBase = now - 300 * 86_400_000;
    for (let from = 0; from < PASSES; from += BATCH) {
      const n = Math.min(BATCH, PASSES - from);
      const ids: string[] = [];
      const secrets: string[] = [];
      for (let i = from; i < from + n; i++) {
        const id = v7(passBase + i * 20, i);
        ids.push(id);
        secrets.push(app.ctx.sealer.seal(newTotpSecret(), `visit_passes.totp_secret:${id}`));
      }
      await pool.query(
        `insert into visit_passes (id, org_id, visitor_id, access_rule_id, type, status, valid_from, valid_to, totp_secret_enc, card_format, card_number)
         select u.id, $1, ${v7sql(`${now - 400 * 86_400_000} + (u.n % $4)`, 'u.n % $4')}, $2, 'multi',
                case when u.n % 20 = 0 then 'revoked' else 'active' end,
                now() - interval '1 day', now() + ((u.n % 60) || ' days')::interval, u.secret,
                case when u.n % 5 = 0 then 'w26' end, case when u.n % 5 = 0 then (1000000 + u.n)::text end
         from unnest($3::uuid[], $5::text[], $6::int[]) as u(id, secret, n)`,
        [org, demo.ruleId, ids, visitors, secrets, Array.from({ length: n }, (_, k) => from + k)],
      );
    }
    const passesS = (performance.now() - t0) / 1000;

    // Check-ins: the months of the history made first (else they would all land in DEFAULT).
    const span = 90 * 86_400_000; // 90 days of history
    await ensureCheckinPartitions(app.ctx.db, { from: new Date(now - span) });
    // The secondary indexes off for the load, back after it. They are the partitioned table's: dropped with every
    // partition's copy, and pg_indexes shows them `ON ONLY checkins`, which would make them again on the parent alone.
    const { rows: idx } = await pool.query<{ indexname: string; indexdef: string }>(
      `select indexname, replace(indexdef, ' ON ONLY ', ' ON ') as indexdef from pg_indexes
       where schemaname = 'public' and tablename = 'checkins' and indexname <> 'checkins_pkey'`,
    );
    for (const i of idx) await pool.query(`drop index ${i.indexname}`);
    const sites = Array.from({ length: SITES }, (_, s) => (s === 0 ? demo.siteId : v7(now, 900_000 + s)));
    const gates = Array.from({ length: SITES * GATES_PER_SITE }, (_, g) => (g === 0 ? demo.gateId : v7(now, 800_000 + g)));
    const step = span / CHECKINS;
    const t1 = performance.now();
    const CHUNK = 1_000_000;
    for (let from = 0; from < CHECKINS; from += CHUNK) {
      const to = Math.min(CHECKINS, from + CHUNK) - 1;
      await pool.query(
        `insert into checkins (id, org_id, site_id, gate_id, pass_id, type, credential_kind, direction, allow, reason, occurred_at, received_at, counted)
         select ${v7sql(`$3::bigint + floor(i * $4::float8)`, 'i')}, $1, ($5::uuid[])[1 + (i % ${SITES * GATES_PER_SITE}) / ${GATES_PER_SITE}],
                ($6::uuid[])[1 + i % ${SITES * GATES_PER_SITE}],
                ${v7sql(`${passBase} + ((i * 7919) % $2) * 20`, `(i * 7919) % $2`)},
                'attempt', 'dynamic', case when i % 2 = 0 then 'in' else 'out' end, i % 10 <> 0,
                case when i % 10 = 0 then 'expired' else 'ok' end,
                to_timestamp(($3::bigint + floor(i * $4::float8)) / 1000.0), to_timestamp(($3::bigint + floor(i * $4::float8)) / 1000.0), i % 10 <> 0
         from generate_series($7::bigint, $8::bigint) as i`,
        [org, PASSES, now - span, step, sites, gates, from, to],
      );
    }
    const checkinsS = (performance.now() - t1) / 1000;
    const t2 = performance.now();
    for (const i of idx) await pool.query(i.indexdef);
    // Vacuumed as autovacuum would have done over the months of this history: the visibility map lets the
    // dashboard count from the index alone (an index-only scan of freshly loaded rows still reads the heap).
    await pool.query('vacuum (analyze) checkins');
    await pool.query('analyze visit_passes');
    await pool.query('analyze visitors');
    const indexS = (performance.now() - t2) / 1000;
    const partitions = await checkinPartitions(app.ctx.db);
    const { rows: inDefault } = await pool.query<{ n: number }>('select count(*)::int as n from checkins_default');
    console.log(
      `loaded ${PASSES} passes in ${passesS.toFixed(1)} s, ${CHECKINS} check-ins in ${checkinsS.toFixed(1)} s (${Math.round(CHECKINS / checkinsS)} rows/s), ${idx.length} indexes rebuilt (and the table vacuumed) in ${indexS.toFixed(1)} s; ${partitions.length} check-in partitions (${inDefault[0]?.n ?? 0} rows in DEFAULT)`,
    );

    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: demo.email, password: demo.password } });
    const { accessToken } = login.json() as { accessToken: string };
    const auth = { authorization: `Bearer ${accessToken}` };

    const day = 86_400_000;
    const since = new Date(now - 30 * day).toISOString();
    const until = new Date(now - 29 * day).toISOString();
    const somePass = v7(passBase + 4242 * 20, 4242);
    const card = String(1_000_000 + 5 * 777);
    // Each endpoint with the SELECT the API runs for it, written out for node-postgres (the raw baseline), its LIMIT in
    // the text as the API writes it (lib/pagination.ts pageLimit), so both are planned once per connection.
    // As the API orders them: by id, or within a time range by occurred_at then id (checkins/service.ts)…
    const ck = (where: string) =>
      `select c.* from checkins c where c.org_id = $1 ${where} order by ${
        where.includes('occurred_at') ? 'c.occurred_at desc, c.id desc' : 'c.id desc'
      } limit 51`;
    // …then, as the API does, the page's distinct passes with their visitor's and host's names (passSides).
    const names: FollowUp = (rows) => {
      const ids = [...new Set(rows.flatMap((r) => (r.pass_id ? [r.pass_id as string] : [])))];
      if (ids.length === 0) return null;
      return {
        text: `select p.id, p.appointment_id, p.arrived_at, p.left_at, v.id, v.full_name_enc, v.full_name, us.id, us.full_name_enc, us.full_name
               from visit_passes p
               left join visitors v on v.id = p.visitor_id and v.org_id = $1
               left join appointments a on a.id = p.appointment_id and a.org_id = $1
               left join hosts h on h.id = a.host_id and h.org_id = $1
               left join users us on us.id = h.user_id and us.org_id = $1
               where p.org_id = $1 and p.id = any($2::uuid[])`,
        values: [org, ids],
      };
    };
    const cases: Array<{ name: string; path: string; sql: string; values: unknown[]; followUp?: FollowUp }> = [
      {
        name: 'passes',
        path: '/api/admin/passes?limit=50',
        sql: 'select * from visit_passes where org_id = $1 order by id desc limit 51',
        values: [org],
      },
      {
        name: 'passes status=active',
        path: '/api/admin/passes?limit=50&status=active',
        sql: `select * from visit_passes where org_id = $1 and status = 'active' and valid_to > now() order by id desc limit 51`,
        values: [org],
      },
      {
        name: 'passes q=card number',
        path: `/api/admin/passes?limit=50&q=${card}`,
        sql: 'select * from visit_passes where org_id = $1 and card_number = $2 order by id desc limit 51',
        values: [org, card],
      },
      {
        name: 'visitors',
        path: '/api/admin/visitors?limit=50',
        sql: 'select * from visitors where org_id = $1 and deleted_at is null order by id desc limit 51',
        values: [org],
      },
      { name: 'checkins', path: '/api/admin/checkins?limit=50', sql: ck(''), values: [org], followUp: names },
      {
        name: 'checkins gate',
        path: `/api/admin/checkins?limit=50&gateId=${gates[7]}`,
        sql: ck('and c.gate_id = $2'),
        values: [org, gates[7]],
        followUp: names,
      },
      {
        name: 'checkins site',
        path: `/api/admin/checkins?limit=50&siteId=${sites[2]}`,
        sql: ck('and c.site_id = $2'),
        values: [org, sites[2]],
        followUp: names,
      },
      {
        name: 'checkins time range',
        path: `/api/admin/checkins?limit=50&since=${since}&until=${until}`,
        sql: ck('and c.occurred_at >= $2 and c.occurred_at < $3'),
        values: [org, since, until],
        followUp: names,
      },
      {
        name: 'checkins result=deny',
        path: '/api/admin/checkins?limit=50&result=deny',
        sql: ck('and not c.allow'),
        values: [org],
        followUp: names,
      },
      {
        name: 'checkins gate+deny+range',
        path: `/api/admin/checkins?limit=50&gateId=${gates[3]}&result=deny&since=${since}`,
        sql: ck('and c.gate_id = $2 and not c.allow and c.occurred_at >= $3'),
        values: [org, gates[3], since],
        followUp: names,
      },
      {
        name: 'checkins q=pass id',
        path: `/api/admin/checkins?limit=50&q=${somePass}`,
        sql: ck('and c.pass_id = $2'),
        values: [org, somePass],
        followUp: names,
      },
      {
        name: 'dashboard (24 h in SQL)',
        path: `/api/admin/dashboard?siteId=${demo.siteId}`,
        sql: `select (extract(epoch from date_bin('1 hour', occurred_at, 'epoch'::timestamptz)) / 3600)::bigint h,
                     count(*) filter (where allow), count(*) filter (where not allow)
              from checkins where org_id = $1 and site_id = $2 and occurred_at >= now() - interval '24 hours'
              group by date_bin('1 hour', occurred_at, 'epoch'::timestamptz)`,
        values: [org, demo.siteId],
      },
    ];
    const results: Record<string, unknown> = {};
    for (const c of cases) {
      if (process.env.BENCH_ONLY && c.name !== process.env.BENCH_ONLY) continue;
      const probe = await app.inject({ method: 'GET', url: c.path, headers: auth });
      if (probe.statusCode !== 200) {
        console.log(`  ${c.name.padEnd(26)} skipped: ${probe.statusCode} ${probe.body.slice(0, 120)}`);
        continue;
      }
      await autocannon(`${url}${c.path}`, auth, 2); // warm
      let meter = cpuMeter();
      const api = await autocannon(`${url}${c.path}`, auth);
      const apiCpu = meter(api.rps * DURATION_S);
      meter = cpuMeter();
      const floor = await raw(pool, c.sql, c.values, c.followUp);
      const rawCpu = meter(floor.rps * DURATION_S);
      const bench = await pgbenchFloor(pool, dbUrl, c);
      results[c.name] = {
        p50_ms: api.p50,
        p99_ms: api.p99,
        rps: Math.round(api.rps),
        raw_p50_ms: +floor.p50.toFixed(2),
        raw_p99_ms: +floor.p99.toFixed(2),
        raw_rps: Math.round(floor.rps),
        pgbench_p50_ms: bench ? +bench.p50.toFixed(2) : null,
        pgbench_p99_ms: bench ? +bench.p99.toFixed(2) : null,
        pgbench_rps: bench ? Math.round(bench.rps) : null,
        cpu_ms_per_req: { api: apiCpu, raw: rawCpu },
        errors: api.errors,
      };
      const cpu = (f: CpuPerRequest) => `cpu/req ${f.self} ms own, ${f.postgres} ms postgres, ${f.machine} ms machine`;
      console.log(
        `  ${c.name.padEnd(26)} API p50 ${api.p50} ms p99 ${api.p99} ms ${api.rps.toFixed(0)} req/s | raw pg p50 ${floor.p50.toFixed(1)} ms p99 ${floor.p99.toFixed(1)} ms ${floor.rps.toFixed(0)}/s | ratio ${(api.rps / floor.rps).toFixed(2)}${api.errors ? ` | ${api.errors} errors` : ''}`,
      );
      console.log(`  ${''.padEnd(26)} API ${cpu(apiCpu)} | raw pg ${cpu(rawCpu)}`);
      if (bench)
        console.log(
          `  ${''.padEnd(26)} pgbench (C client, the same statements) p50 ${bench.p50.toFixed(1)} ms p99 ${bench.p99.toFixed(1)} ms ${bench.rps.toFixed(0)}/s${bench.errors ? ` | ${bench.errors} failed` : ''}`,
        );
    }

    const t3 = performance.now();
    const snap = await siteSnapshot(app.ctx, org, demo.siteId);
    const snapS = (performance.now() - t3) / 1000;
    console.log(
      `  site snapshot: ${snap.passes.length} passes in ${snapS.toFixed(1)} s (${Math.round(snap.passes.length / snapS)} rows/s)`,
    );
    const exported = await exportWeek(pool, url, auth, org, now, names);
    console.log(
      JSON.stringify({
        bench: 'large',
        passes: PASSES,
        checkins: CHECKINS,
        load_passes_s: +passesS.toFixed(1),
        load_checkins_s: +checkinsS.toFixed(1),
        index_s: +indexS.toFixed(1),
        checkin_partitions: partitions.length,
        endpoints: results,
        snapshot_passes: snap.passes.length,
        snapshot_s: +snapS.toFixed(2),
        snapshot_rows_per_s: Math.round(snap.passes.length / snapS),
        export: exported,
      }),
    );
  } finally {
    await pool.end();
    await app.close();
    if (process.env.BENCH_KEEP_DB === '1') console.log(`kept: ${dbUrl}`);
    else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/**
 * A case's statements through pgbench, 50 clients: the page, then (as `raw` does) its names, whose pass ids
 * are the page's as it reads now (nothing is written during the bench, so every run of the page reads the same).
 */
async function pgbenchFloor(pool: pg.Pool, url: string, c: { sql: string; values: unknown[]; followUp?: FollowUp }) {
  const next = c.followUp?.((await pool.query(c.sql, c.values)).rows);
  const statements = [{ text: c.sql, values: c.values }, ...(next ? [next] : [])];
  return pgbench({ url, statements, clients: CONNECTIONS, duration: DURATION_S });
}

/**
 * The check-in export (GET /api/admin/checkins.csv) of the organisation's last seven days, streamed over HTTP and
 * read to the end: its rows per second and its first byte, beside the raw baseline — the same keyset pages of
 * 1,000 and their names statement straight through node-postgres, rows read and dropped. (That its memory stays
 * one page whatever the range is checked by checkins-export.test, with the garbage collected: here the process
 * also holds the snapshot, and its heap grows with garbage V8 has not yet collected.)
 */
async function exportWeek(pool: pg.Pool, url: string, auth: Record<string, string>, org: string, now: number, names: FollowUp) {
  const since = new Date(now - 7 * 86_400_000).toISOString();
  const until = new Date(now).toISOString();
  const t0 = performance.now();
  const r = await fetch(`${url}/api/admin/checkins.csv?since=${since}&until=${until}`, { headers: auth });
  let bytes = 0;
  let lines = 0;
  let firstByteMs = 0;
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    if (!firstByteMs) firstByteMs = performance.now() - t0;
    bytes += chunk.byteLength;
    for (const b of chunk) if (b === 10) lines++;
  }
  const apiS = (performance.now() - t0) / 1000;
  const rows = lines - 1;

  const t1 = performance.now();
  let rawRows = 0;
  let cursor: [string, string] = ['infinity', 'ffffffff-ffff-ffff-ffff-ffffffffffff'];
  for (;;) {
    const page = await pool.query({
      name: 'export_page',
      text: `select c.* from checkins c where c.org_id = $1 and c.occurred_at >= $2 and c.occurred_at < $3
             and (c.occurred_at, c.id) < ($4::timestamptz, $5::uuid) order by c.occurred_at desc, c.id desc limit 1001`,
      values: [org, since, until, cursor[0], cursor[1]],
    });
    const kept = page.rows.slice(0, 1000);
    const next = names(kept);
    if (next) await pool.query({ name: 'export_names', ...next });
    rawRows += kept.length;
    const last = kept.at(-1);
    if (page.rows.length <= 1000 || !last) break;
    cursor = [(last.occurred_at as Date).toISOString(), last.id as string];
  }
  const rawS = (performance.now() - t1) / 1000;
  const figures = {
    rows,
    raw_rows: rawRows,
    seconds: +apiS.toFixed(1),
    rows_per_s: Math.round(rows / apiS),
    first_byte_ms: Math.round(firstByteMs),
    mb: +(bytes / 1e6).toFixed(1),
    raw_rows_per_s: Math.round(rawRows / rawS),
    ratio: +(rows / apiS / (rawRows / rawS)).toFixed(2),
  };
  console.log(
    `  export 7 days: ${rows} rows (${figures.mb} MB) in ${figures.seconds} s, ${figures.rows_per_s} rows/s, first byte ${figures.first_byte_ms} ms | raw pg pages ${figures.raw_rows_per_s} rows/s | ratio ${figures.ratio}`,
  );
  return figures;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
