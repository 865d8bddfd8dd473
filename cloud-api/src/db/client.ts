/**
 * One drizzle handle over either PostgreSQL (`pg`, DATABASE_URL) or PGlite
 * (embedded: a data dir, or memory for tests). Both speak the same dialect, so
 * everything above this file is written once.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import {
  type BreakerState,
  ConnectBreaker,
  type DatabaseTimeouts,
  DatabaseUnavailableError,
  DEFAULT_DB_TIMEOUTS,
  isDatabaseUnavailable,
} from './breaker.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything a query can run on: the pool or an open transaction. */
export type Executor = Db | Tx;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** The PostgreSQL connection string (null on PGlite): for what opens connections of its own (LISTEN, the job queue). */
  url: string | null;
  /** The in-process PGlite client (null on PostgreSQL): the only connection there is. */
  pglite: PGlite | null;
  migrate(): Promise<void>;
  /** A cheap round trip, for readiness. */
  ping(): Promise<void>;
  /**
   * Calls `onNotify` with the payload of every `NOTIFY channel` committed on
   * this database by any connection (of any process: several cloud instances
   * share one PostgreSQL), and `onReset` after the listening connection was
   * lost and is back, when notifications may have been missed. Resolves once
   * listening, or at once when the database cannot be reached (then listening
   * begins, with `onReset`, when it can); the function it resolves to stops.
   */
  listen(channel: string, onNotify: (payload: string) => void, onReset?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /** The connection breaker and the pool's error count (PGlite: always closed, none). */
  health(): DatabaseHealth;
  /** Where the pool's errors are logged (the app sets its logger; until then, stderr as JSON). */
  log: PoolLog;
}

export interface DatabaseHealth {
  breaker: BreakerState;
  /** Times the breaker opened since start. */
  breakerOpened: number;
  /** Errors the pool reported on idle connections (a server gone or restarted). */
  poolErrors: number;
  /** Seconds a client is told to wait (Retry-After) while the database is unavailable. */
  retryAfterS: number;
}

export interface PoolLog {
  warn(obj: object, msg: string): void;
}

const stderrLog: PoolLog = {
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 40, msg, ...obj })}\n`),
};

type Unlisten = () => Promise<void>;

/**
 * LISTEN on a connection of its own (a pooled one would drop it), re-established when lost. A database
 * that cannot be reached at first is retried in the background like a lost connection (the instance
 * may start before PostgreSQL does); `onReset` tells when listening begins after such a gap.
 */
async function listenPg(
  connectionString: string,
  channel: string,
  onNotify: (payload: string) => void,
  onReset?: () => void,
): Promise<Unlisten> {
  let stopped = false;
  let current: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  const reopen = (delayMs: number) => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = null;
      open().then(
        () => onReset?.(),
        () => reopen(Math.min(delayMs * 2, 10_000)),
      );
    }, delayMs);
    retry.unref();
  };
  const open = async (): Promise<void> => {
    const c = new pg.Client({ connectionString, connectionTimeoutMillis: DEFAULT_DB_TIMEOUTS.connectTimeoutMs, keepAlive: true });
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (current === c) current = null;
      c.end().catch(() => undefined);
      reopen(1000);
    };
    c.on('notification', (m) => {
      if (m.channel === channel) onNotify(m.payload ?? '');
    });
    // Failing to connect is not a loss to recover from here (the caller decides whether to retry),
    // but its error event still needs a listener, or it would crash the process.
    let listening = false;
    c.on('error', () => listening && onLost());
    c.on('end', () => listening && onLost());
    try {
      await c.connect();
      await c.query(`LISTEN "${channel}"`);
    } catch (err) {
      lost = true;
      await c.end().catch(() => undefined);
      throw err;
    }
    listening = true;
    if (stopped) {
      lost = true;
      await c.end();
      return;
    }
    current = c;
  };
  try {
    await open();
  } catch (err) {
    if (!isDatabaseUnavailable(err)) {
      stopped = true;
      throw err;
    }
    reopen(1000);
  }
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const c = current;
    current = null;
    await c?.end().catch(() => undefined);
  };
}

function checkChannel(channel: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`bad channel name ${JSON.stringify(channel)}`);
}

// src/db and dist/db are both two levels below the package root.
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface DatabaseOptions {
  databaseUrl: string | null;
  /** Where LISTEN connects (a session connection, past a transaction-mode pooler); default databaseUrl. */
  listenUrl?: string | null;
  /** PGlite data lives in `<dataDir>/pglite`; null = in memory. */
  dataDir: string | null;
  poolSize?: number;
  timeouts?: Partial<DatabaseTimeouts>;
  /** Parameterised statements prepared once per connection (default true); see preparedStatements(). */
  preparedStatements?: boolean;
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;

/**
 * Every connection the pool hands out (pool.query takes one through `connect`
 * too) passes the breaker; a failure to connect leaves as DatabaseUnavailableError.
 */
function guardConnect(pool: pg.Pool, breaker: ConnectBreaker): void {
  const raw = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const guarded = (cb?: ConnectCallback): Promise<pg.PoolClient> | undefined => {
    const p = (async () => {
      breaker.before();
      // Every connection busy: this acquire waits in the pool's queue, not on the server. Timing out there is a
      // saturated pool (back-pressure: 503 for this request), not a database gone, so it must not open the breaker
      // for everyone — a thousand controllers reconnecting at once would otherwise take the API down for a cool-down.
      const queued = pool.idleCount === 0 && pool.totalCount >= (pool.options.max ?? 10);
      try {
        const client = await raw();
        breaker.success();
        return client;
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err;
        if (!queued) breaker.failure();
        throw new DatabaseUnavailableError(
          queued ? 'every database connection is busy' : 'the database is unavailable',
          breaker.retryAfterS(),
          { cause: err },
        );
      }
    })();
    if (!cb) return p;
    p.then(
      (client) => cb(undefined, client, (release) => client.release(release as Error | boolean | undefined)),
      (err: Error) => cb(err, undefined, () => undefined),
    );
    return undefined;
  };
  (pool as unknown as { connect: typeof guarded }).connect = guarded;
}

/** Statements one connection keeps prepared at most; past it a new text runs unnamed (planned each time). */
export const PREPARED_PER_CONNECTION = 1000;
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    // Bounded: query texts are few (drizzle builds them from code), but an `in (…)` of a varying length is one each.
    if (statementNames.size >= 10_000) statementNames.clear();
    name = `gh_${createHash('sha1').update(text).digest('base64url')}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * "cached plan must not change result type": a prepared statement whose result columns a migration changed. The code
 * is feature_not_supported in general; any other such error fails the same way again and is thrown.
 */
const STALE_RESULT_TYPE = '0A000';

/** What a transaction-mode pooler that cannot carry prepared statements answers (PgBouncer before 1.21). */
const POOLER_REFUSED = new Set(['42P05', '26000']); // duplicate_prepared_statement, invalid_sql_statement_name

/** Whether this pool still names its statements; `refused` switches that off for all of its connections. */
interface Preparing {
  on: boolean;
  refused(err: Error): void;
}

/**
 * Names every parameterised statement on this connection, so PostgreSQL parses and plans it once per connection
 * instead of on every call: drizzle sends unnamed statements, and planning a list over the partitioned check-ins
 * with its joins took longer than running it (1 ms against 0.4 ms; 725 → 1,751 queries/s at 50 clients, bench:large).
 * A statement without parameters (migrations, several statements in one text) stays unnamed: the extended protocol a
 * name needs takes one statement only. The name is a hash of the text, so a connection never sees one name twice
 * with different texts.
 *
 * Behind a transaction-mode PgBouncer older than 1.21 (DATABASE_PREPARED_STATEMENTS=off was not set) a statement
 * meets a server connection that has it already, or not: the pool stops naming, says so once, and the statement is
 * sent again unnamed. It failed at parse or bind, so it never ran; inside a transaction, the transaction has failed.
 */
function preparedStatements(client: pg.PoolClient, preparing: Preparing): void {
  const named = new Set<string>();
  /** Statements whose prepared form went stale (0A000), by their first name: prepared again under a fresh one. */
  const renamed = new Map<string, string>();
  let generation = 0;
  // Looked up per call, not bound once: whatever wraps the class's query later (bench/cloud.ts captures statements
  // that way) still sees every statement.
  const proto = Object.getPrototypeOf(client) as { query: (...args: unknown[]) => unknown };
  const query = (...args: unknown[]) => proto.query.apply(client, args);
  const prepared = (config: unknown, ...rest: unknown[]): unknown => {
    if (!preparing.on || !config || typeof config !== 'object' || 'submit' in config) return query(config, ...rest);
    const c = config as pg.QueryConfig;
    const values = Array.isArray(rest[0]) ? rest[0] : c.values;
    // An empty name is unnamed too (how a drizzle query prepared once, db/shapes.ts, leaves the naming to this).
    if (c.name || typeof c.text !== 'string' || !values || values.length === 0) return query(config, ...rest);
    const first = statementName(c.text);
    const name = renamed.get(first) ?? first;
    if (!named.has(name) && named.size >= PREPARED_PER_CONNECTION) return query(config, ...rest);
    named.add(name);
    const last = rest.at(-1);
    const cb = typeof last === 'function' ? (last as (err: Error | null, r?: unknown) => void) : undefined;
    const args = cb ? rest.slice(0, -1) : rest;
    const result = (query({ ...c, name }, ...args) as Promise<unknown>).catch((err: Error & { code?: string }) => {
      if (err.code === STALE_RESULT_TYPE) {
        // Another instance migrated (a column added to a table this statement reads with `*`, during a rolling
        // upgrade): the server refuses the statement prepared before, for good. pg remembers the name as parsed, so
        // it is prepared again under a new one (the old stays on the server until the connection closes).
        const fresh = `${first}_${++generation}`;
        renamed.set(first, fresh);
        named.add(fresh);
        return query({ ...c, name: fresh }, ...args);
      }
      if (!err.code || !POOLER_REFUSED.has(err.code)) throw err;
      preparing.refused(err);
      return query(config, ...args);
    });
    if (!cb) return result;
    result.then(
      (r) => cb(null, r),
      (err: Error) => cb(err),
    );
    return undefined;
  };
  (client as unknown as { query: typeof prepared }).query = prepared;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const t = { ...DEFAULT_DB_TIMEOUTS, ...opts.timeouts };
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 20,
      connectionTimeoutMillis: t.connectTimeoutMs,
      statement_timeout: t.statementTimeoutMs,
      idle_in_transaction_session_timeout: t.idleInTransactionTimeoutMs,
      // The client's own bound, for a server that stopped answering without closing the socket.
      query_timeout: t.statementTimeoutMs + 5_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    const breaker = new ConnectBreaker({ threshold: t.breakerThreshold, cooldownMs: t.breakerCooldownMs });
    guardConnect(pool, breaker);
    let poolErrors = 0;
    const preparing: Preparing = {
      on: true,
      refused: (err) => {
        if (!preparing.on) return;
        preparing.on = false;
        database.log.warn(
          { err: { message: err.message, code: (err as { code?: string }).code } },
          'database: prepared statements refused (a transaction-mode pooler before PgBouncer 1.21?); sending them unnamed from now on — set DATABASE_PREPARED_STATEMENTS=off',
        );
      },
    };
    // An idle client losing its server must not crash the process (the next query reconnects), but it is logged and counted.
    pool.on('error', (err) => {
      poolErrors++;
      database.log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'database pool: idle connection lost');
    });
    // pg-pool removes its idle error listener from a client while it is checked out: a connection that dies then, between
    // two statements of a transaction, would emit 'error' with no listener and crash the process. The statement in
    // flight (or the next one) gets the error; the pool drops the dead client when it is released.
    pool.on('connect', (client) => {
      if (opts.preparedStatements ?? true) preparedStatements(client, preparing);
      client.on('error', (err) => {
        poolErrors++;
        database.log.warn(
          { err: { message: err.message, code: (err as { code?: string }).code } },
          'database: a connection in use was lost',
        );
      });
    });
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    const listeners = new Set<Unlisten>();
    const database: Database = {
      log: stderrLog,
      health: () => ({ breaker: breaker.state, breakerOpened: breaker.opened, poolErrors, retryAfterS: breaker.retryAfterS() }),
      db,
      kind: 'postgres',
      url: opts.databaseUrl,
      pglite: null,
      migrate: async () => {
        await migratePg(drizzlePg(pool, { schema }), { migrationsFolder: MIGRATIONS_DIR });
      },
      ping: async () => {
        await pool.query('select 1');
      },
      listen: async (channel, onNotify, onReset) => {
        checkChannel(channel);
        const stop = await listenPg(opts.listenUrl || opts.databaseUrl!, channel, onNotify, onReset);
        const unlisten = async () => {
          listeners.delete(unlisten);
          await stop();
        };
        listeners.add(unlisten);
        return unlisten;
      },
      close: async () => {
        await Promise.all([...listeners].map((u) => u()));
        await pool.end();
      },
    };
    return database;
  }
  let dir: string | undefined;
  if (opts.dataDir) {
    dir = join(opts.dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
  }
  const client = dir ? new PGlite(dir) : new PGlite();
  await client.waitReady;
  const raw = drizzlePglite(client, { schema });
  return {
    db: raw as unknown as Db,
    kind: 'pglite',
    url: null,
    pglite: client,
    log: stderrLog,
    health: () => ({ breaker: 'closed', breakerOpened: 0, poolErrors: 0, retryAfterS: 1 }),
    migrate: async () => {
      await migratePglite(raw, { migrationsFolder: MIGRATIONS_DIR });
    },
    ping: async () => {
      await client.query('select 1');
    },
    // One in-process database, so one cloud instance: its own notifications are all there is, and none is ever missed.
    listen: async (channel, onNotify) => {
      checkChannel(channel);
      const stop = await client.listen(channel, onNotify);
      return async () => {
        if (!client.closed) await stop();
      };
    },
    close: () => client.close(),
  };
}
