/**
 * Issue 15: pg-boss's own connections (the job queue's pool on PostgreSQL) are
 * bounded like the app's pool (DB_CONNECT_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS,
 * DB_IDLE_IN_TX_TIMEOUT_MS). Before, pg-boss opened its pool with no timeout at
 * all: a database host that accepts connections and never answers hung the
 * queue's start (and every worker's fetch) forever, and a statement stuck
 * behind a lock waited as long as the lock was held.
 * The hanging host is a TCP server that never says a word (as in
 * db-unavailable.test.ts), so that case runs anywhere; the stuck statement
 * needs real PostgreSQL (DATABASE_URL).
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_DB_TIMEOUTS } from '../src/db/breaker.js';
import type { Database } from '../src/db/client.js';
import { JobQueue, SCHEMA } from '../src/jobs/queue.js';
import { freshDatabase, onPostgres, type TestDb } from './helpers.js';

const JOBS = { retryLimit: 1, retryDelayS: 1, pollIntervalS: 0.5, work: false } as const;

async function silentServer(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('job queue (pg-boss) connection timeouts', () => {
  it('a database host that never answers fails the queue’s start within DB_CONNECT_TIMEOUT_MS instead of hanging', async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    // Only what JobQueue reads of a PostgreSQL database: its kind and URL (pg-boss opens its own pool).
    const database = { kind: 'postgres', url: `postgres://postgres@127.0.0.1:${silent.port}/none`, pglite: null } as unknown as Database;
    const queue = new JobQueue(database, { ...JOBS, dbTimeouts: { ...DEFAULT_DB_TIMEOUTS, connectTimeoutMs: 500 } });
    const t0 = performance.now();
    // A hung start would outlive the test's own timeout: bound it here so the failure says what happened.
    const outcome = await Promise.race([
      queue.start().then(
        () => 'started' as const,
        (err: unknown) => err,
      ),
      new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000)),
    ]);
    const ms = Math.round(performance.now() - t0);
    expect(outcome).toBeInstanceOf(Error);
    expect(String((outcome as Error).message)).toMatch(/timeout/i);
    expect(silent.connections()).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(5_000);
    expect(queue.started).toBe(false);
    console.log(JSON.stringify({ figure: 'pgboss_hung_host', connectTimeoutMs: 500, startFailedAfterMs: ms }));
  }, 30_000);

  it.skipIf(!onPostgres)(
    'a queue statement stuck behind a lock is ended by DB_STATEMENT_TIMEOUT_MS (PG), and the queue answers once the lock is gone',
    async () => {
      const db: TestDb = await freshDatabase();
      cleanups.push(() => db.drop());
      const queue = new JobQueue(db.database, { ...JOBS, dbTimeouts: { ...DEFAULT_DB_TIMEOUTS, statementTimeoutMs: 500 } });
      await queue.define('timeouts.probe', async () => undefined);
      await queue.start();
      cleanups.push(() => queue.stop(1_000));
      expect(await queue.stats()).toEqual([expect.objectContaining({ queue: 'timeouts.probe', depth: 0 })]);

      // Another session holds the job table: every statement of the queue on it waits for the lock.
      const holder = new pg.Client({ connectionString: db.url! });
      await holder.connect();
      cleanups.push(() => holder.end());
      await holder.query('begin');
      await holder.query(`lock table ${SCHEMA}.job in access exclusive mode`);
      const t0 = performance.now();
      const outcome = await Promise.race([
        queue.stats().then(
          () => 'answered' as const,
          (err: unknown) => err,
        ),
        new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000)),
      ]);
      const ms = Math.round(performance.now() - t0);
      await holder.query('rollback');
      expect(outcome).toBeInstanceOf(Error);
      // 57014: canceling statement due to statement timeout — the server ended it, as configured.
      expect((outcome as { code?: string }).code).toBe('57014');
      expect(ms).toBeGreaterThanOrEqual(400);
      expect(ms).toBeLessThan(3_000);
      // The lock gone, the same pool answers again.
      expect(await queue.stats()).toEqual([expect.objectContaining({ queue: 'timeouts.probe' })]);
      console.log(JSON.stringify({ figure: 'pgboss_statement_timeout', statementTimeoutMs: 500, endedAfterMs: ms }));
    },
    60_000,
  );
});
