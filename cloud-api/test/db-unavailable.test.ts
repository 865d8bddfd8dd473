/**
 * The database failing, short of a real outage (chaos-postgres.test.ts kills a real
 * cluster): a server that refuses or never answers makes the pool fail within the
 * connect timeout as DatabaseUnavailableError, the breaker then fails fast, an API
 * route answers 503 database_unavailable with Retry-After instead of hanging, and
 * the process handlers keep a rejection from killing the cloud.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../src/db/breaker.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { installProcessHandlers, processFaults } from '../src/lib/process-faults.js';
import { createOrgWithUser, freshDatabase, onPostgres, startApp } from './helpers.js';

/** A TCP server that accepts connections and never says a word: a database host that hangs. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; err: unknown }> {
  const t0 = performance.now();
  try {
    await fn();
    return { ms: performance.now() - t0, err: null };
  } catch (err) {
    return { ms: performance.now() - t0, err };
  }
}

describe('database unavailable', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function hangingDatabase(timeouts: Parameters<typeof openDatabase>[0]['timeouts']): Promise<Database> {
    const silent = await silentServer();
    const database = await openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${silent.port}/none`, dataDir: null, timeouts });
    cleanups.push(async () => {
      await database.close().catch(() => undefined);
      await silent.close();
    });
    return database;
  }

  it('a server that never answers fails within the connect timeout, then the breaker fails fast until a probe', async () => {
    const database = await hangingDatabase({ connectTimeoutMs: 500, breakerThreshold: 2, breakerCooldownMs: 60_000 });
    const first = await timed(() => database.ping());
    expect(first.err).toBeInstanceOf(DatabaseUnavailableError);
    expect(first.ms).toBeGreaterThan(400);
    expect(first.ms).toBeLessThan(3_000);
    expect(database.health().breaker).toBe('closed');
    await timed(() => database.ping());
    expect(database.health()).toMatchObject({ breaker: 'open', breakerOpened: 1 });
    const fast = await timed(() => database.ping());
    expect(fast.err).toBeInstanceOf(DatabaseUnavailableError);
    expect(fast.ms).toBeLessThan(100);
    expect(database.health().retryAfterS).toBeGreaterThanOrEqual(1);
    console.log(
      JSON.stringify({ test: 'db-unavailable', connectTimeoutAnswerMs: Math.round(first.ms), breakerOpenAnswerMs: Math.round(fast.ms) }),
    );
  });

  it.runIf(onPostgres)(
    'a saturated pool answers 503 to what waits too long but does not open the breaker (the database is fine)',
    async () => {
      const db = await freshDatabase();
      const database = await openDatabase({
        databaseUrl: db.url!,
        dataDir: null,
        poolSize: 1,
        timeouts: { connectTimeoutMs: 300, breakerThreshold: 2 },
      });
      cleanups.push(async () => {
        await database.close().catch(() => undefined);
        await db.drop();
      });
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      // The pool's only connection, busy for as long as the test says.
      const busy = database.db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        await held;
      });
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 4; i++) {
        const err = await database.ping().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(DatabaseUnavailableError);
        expect((err as Error).message).toBe('every database connection is busy');
      }
      expect(database.health()).toMatchObject({ breaker: 'closed', breakerOpened: 0 });
      release();
      await busy;
      await database.ping();
    },
  );

  it('classifies connection failures, not statement errors, as the database being unavailable', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: Object.assign(new Error('y'), { code: '57P01' }) }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('dup'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
  });

  it('an API route whose database is gone answers 503 database_unavailable with Retry-After within 3 s', async () => {
    const t = await startApp();
    cleanups.push(() => t.close());
    const admin = await createOrgWithUser(t.app, `dbgone-${Date.now()}`, ['OrgAdmin']);
    const ok = await t.app.inject({ method: 'GET', url: '/api/admin/sites', headers: admin.auth });
    expect(ok.statusCode).toBe(200);
    // The same app, its database swapped for one whose host hangs (the real one is restored for close).
    const dead = await hangingDatabase({});
    const real = { database: t.app.ctx.database, db: t.app.ctx.db };
    Object.assign(t.app.ctx, { database: dead, db: dead.db });
    try {
      const answers: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const res = await t.app.inject({ method: 'GET', url: '/api/admin/sites', headers: admin.auth });
        answers.push(performance.now() - t0);
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({ error: { code: 'database_unavailable' } });
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      expect(Math.max(...answers)).toBeLessThan(5_000);
      // After three connect timeouts the breaker is open: the rest answer at once.
      expect(Math.min(...answers)).toBeLessThan(200);
      console.log(JSON.stringify({ test: 'db-unavailable-api', answerMs: answers.map(Math.round) }));
    } finally {
      Object.assign(t.app.ctx, real);
    }
  }, 30_000);

  it('an unhandled rejection is logged and counted without exiting; an uncaught exception exits 1 after logging', () => {
    const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
    const log = {
      error: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'error', msg, obj }),
      fatal: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'fatal', msg, obj }),
    };
    const exits: number[] = [];
    const uninstall = installProcessHandlers(log as never, (code) => exits.push(code));
    try {
      const before = { ...processFaults };
      process.emit('unhandledRejection', Object.assign(new Error('lost promise'), { password: 'hunter2' }), Promise.resolve());
      expect(processFaults.unhandledRejections).toBe(before.unhandledRejections + 1);
      expect(exits).toEqual([]);
      expect(lines[0]).toMatchObject({ level: 'error', obj: { fault: { message: 'lost promise' } } });
      expect(JSON.stringify(lines)).not.toContain('hunter2');
      process.emit('uncaughtException', new Error('broken state'));
      expect(processFaults.uncaughtExceptions).toBe(before.uncaughtExceptions + 1);
      expect(exits[0]).toBe(1);
      expect(lines[1]).toMatchObject({ level: 'fatal' });
    } finally {
      uninstall();
    }
  });
});
