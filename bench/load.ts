/** What the HTTP and database benches share: a database of their own, and autocannon run in its own process. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import pg from 'pg';

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
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`autocannon failed (${code}): ${err}`));
      const r = JSON.parse(out) as {
        requests: { average: number };
        latency: { p99: number; p50: number };
        errors: number;
        timeouts: number;
        non2xx: number;
      };
      resolve({ rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, errors: r.errors + r.timeouts, non2xx: r.non2xx });
    });
  });
}
