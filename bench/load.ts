/**
 * What the HTTP and database benches share: a database of their own, autocannon run in its own process,
 * pgbench (PostgreSQL's own C client) as the floor no Node.js client reaches, and where the CPU went.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { percentile } from './util.js';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

/** A fresh database on the server of `base`, dropped by `drop` (also when the bench fails). */
export async function createBenchDatabase(base: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `gh_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface Figures {
  rps: number;
  p99: number;
  p50: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  duration: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Requests per second over all connections (open-loop pacing); default: as fast as answered. */
  rate?: number;
}

/**
 * autocannon in its own process: run in this one, the load generator would
 * share the servers' event loop and measure itself as much as them.
 */
export function load(opts: LoadOptions): Promise<Figures> {
  const args = [AUTOCANNON, '-j', '-c', String(opts.connections), '-d', String(opts.duration), '-m', opts.method ?? 'GET'];
  if (opts.rate) args.push('-R', String(opts.rate));
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (opts.body) args.push('-b', opts.body);
  args.push(opts.url);
  return output('autocannon', process.execPath, args).then((out) => {
    const r = JSON.parse(out) as {
      requests: { average: number };
      latency: { p99: number; p50: number };
      errors: number;
      timeouts: number;
      non2xx: number;
    };
    return { rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, errors: r.errors + r.timeouts, non2xx: r.non2xx };
  });
}

/** What a load generator printed on stdout; rejected, with what it printed, when it exits with an error. */
function output(name: string, bin: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${name} failed (${code}): ${(err || out).slice(-500)}`))));
  });
}

/** Linux's USER_HZ, the unit of /proc's CPU times, on every architecture Node.js ships for. */
const TICK_MS = 10;

/** CPU time in ms, user + system, of each process named `comm` (/proc/<pid>/stat), by pid; none off Linux. */
function processCpuMs(comm: string): Map<string, number> {
  const byPid = new Map<string, number>();
  if (!existsSync('/proc/self/stat')) return byPid;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== comm) continue;
      const f = stat.slice(close + 2).split(' ');
      byPid.set(pid, (Number(f[11]) + Number(f[12])) * TICK_MS); // utime, stime (fields 14 and 15 of proc(5))
    } catch {
      // the process ended between the listing and the read
    }
  }
  return byPid;
}

/**
 * What the processes named `comm` spent between two readings: each one alive at the second by its own
 * difference (one started since counts whole). A process that ended in between is not counted: its time
 * went with it (a pgbench run's 50 backends end with it), so the figure can only be low, never negative.
 */
function spentSince(before: Map<string, number>, comm: string): number {
  let ms = 0;
  for (const [pid, now] of processCpuMs(comm)) ms += Math.max(0, now - (before.get(pid) ?? 0));
  return ms;
}

/** Busy CPU time of the whole machine in ms, all cores (/proc/stat: user, nice, system, irq, softirq). */
function machineCpuMs(): number {
  if (!existsSync('/proc/stat')) return 0;
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/).slice(1).map(Number) ?? [];
  return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0)) * TICK_MS;
}

/** CPU ms per request, over one measured run. */
export interface CpuPerRequest {
  /** This process (where a bench runs the API or the node-postgres floor). */
  self: number;
  /** The `postgres` processes of this machine: the server's share when it is local, else 0. */
  postgres: number;
  /** The whole machine: with the load generator, the OS, and anything else running. */
  machine: number;
}

/**
 * Where the CPU of a run goes, per request: starts measuring now; `per(requests)` ends it. On a machine whose
 * cores the API, PostgreSQL and the load generator share, the sum bounds the rate (cores / machine ms), and so,
 * at a fixed number of clients, the mean latency (Little's law: clients / rate).
 */
export function cpuMeter() {
  const self0 = process.cpuUsage();
  const pg0 = processCpuMs('postgres');
  const all0 = machineCpuMs();
  return (requests: number): CpuPerRequest => {
    const self = process.cpuUsage(self0);
    const n = Math.max(1, requests);
    const r = (ms: number) => +(ms / n).toFixed(3);
    return { self: r((self.user + self.system) / 1000), postgres: r(spentSince(pg0, 'postgres')), machine: r(machineCpuMs() - all0) };
  };
}

/** The pgbench of this machine: on the PATH, or in Debian's versioned directory; null without one. Looked up once. */
const pgbenchPath = (() => {
  let found: string | null | undefined;
  return (): string | null => {
    if (found !== undefined) return found;
    try {
      execFileSync('pgbench', ['--version'], { stdio: 'ignore' });
      found = 'pgbench';
    } catch {
      const dir = '/usr/lib/postgresql';
      const bins = existsSync(dir) ? readdirSync(dir).map((v) => join(dir, v, 'bin', 'pgbench')) : [];
      found = bins.filter((p) => existsSync(p)).at(-1) ?? null;
    }
    return found;
  };
})();

/**
 * `statements` run in turn by `clients` pgbench clients for `duration` s, prepared once per connection
 * (`-M prepared`, as the API's are), each statement's `$n` bound to its own `values[n - 1]` (arrays as PostgreSQL
 * array literals): what PostgreSQL itself answers at that concurrency through a client that costs it almost nothing.
 * Each transaction's latency comes from pgbench's own log; its clock is read lazily (once per pass of a thread over
 * its clients), so a latency is off by up to one such pass, and a sub-millisecond transaction that never waited on
 * its socket logs 0: good for the millisecond pages the benches run, not for timing a trivial statement. The rate is
 * exact. Null when this machine has no pgbench.
 */
export async function pgbench(o: {
  url: string;
  statements: Array<{ text: string; values: unknown[] }>;
  clients: number;
  duration: number;
  /** The statements in one transaction (as the API sends them), else each on its own. */
  transaction?: boolean;
}): Promise<Figures | null> {
  const bin = pgbenchPath();
  if (!bin) return null;
  const dir = mkdtempSync(join(tmpdir(), 'gh-pgbench-'));
  try {
    const literal = (v: unknown) => (Array.isArray(v) ? `{${v.join(',')}}` : String(v));
    // One pgbench variable per statement and parameter (s<i>_<n>). A pgbench variable is never NULL: a null value is
    // written into the statement instead.
    const isNull = (v: unknown) => v === null || v === undefined;
    const lines = o.statements.map(
      ({ text, values }, i) =>
        `${text
          .replace(/\$(\d+)/g, (_, n: string) => (isNull(values[Number(n) - 1]) ? 'NULL' : `:s${i}_${n}`))
          .replace(/\s+/g, ' ')
          .trim()};`,
    );
    writeFileSync(join(dir, 'script.sql'), `${(o.transaction ? ['BEGIN;', ...lines, 'COMMIT;'] : lines).join('\n')}\n`);
    const defines = o.statements.flatMap(({ values }, i) =>
      values.flatMap((v, k) => (isNull(v) ? [] : ['-D', `s${i}_${k + 1}=${literal(v)}`])),
    );
    const args = [
      '-n',
      '-M',
      'prepared',
      '-c',
      String(o.clients),
      '-j',
      '2',
      '-T',
      String(o.duration),
      '-l',
      ...defines,
      '-f',
      'script.sql',
      o.url,
    ];
    const out = await output('pgbench', bin, args, dir);
    // Each log line: client, transaction, latency (µs), …; a failed transaction has no latency.
    const lat = readdirSync(dir)
      .filter((f) => f.startsWith('pgbench_log'))
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
      .map((l) => Number(l.split(' ')[2]) / 1000)
      .filter((ms) => Number.isFinite(ms))
      .sort((a, b) => a - b);
    const failed = Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0);
    return { rps: lat.length / o.duration, p50: percentile(lat, 50), p99: percentile(lat, 99), errors: failed, non2xx: 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
