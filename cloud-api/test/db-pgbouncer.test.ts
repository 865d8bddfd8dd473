/**
 * The cloud's queries through a real transaction-mode PgBouncer (Debian's, 1.18: it cannot carry prepared
 * statements; 1.21+ can). With DATABASE_PREPARED_STATEMENTS=off every statement goes unnamed; with it left on,
 * the pool sees the pooler refuse its prepared statements, switches them off, says so once, and loses no query.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { organizations } from '../src/db/schema.js';
import { emptyDatabase, onPostgres, type TestDb } from './helpers.js';
import { freePort } from './own-postgres.js';

const PGBOUNCER = '/usr/sbin/pgbouncer';

describe.skipIf(!onPostgres || !existsSync(PGBOUNCER))('through a transaction-mode PgBouncer', () => {
  let target: TestDb;
  let dir: string;
  let proc: ReturnType<typeof spawn>;
  let url: string;

  beforeAll(async () => {
    target = await emptyDatabase();
    await target.database.migrate();
    const server = new URL(target.url!);
    dir = mkdtempSync(join(tmpdir(), 'gh-pgbouncer-'));
    chmodSync(dir, 0o777);
    const port = await freePort();
    writeFileSync(
      join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `gatehouse = host=${server.hostname} port=${server.port || 5432} dbname=${server.pathname.slice(1)} user=postgres`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = any',
        'pool_mode = transaction',
        // Fewer server connections than clients: statements of one client land on several server connections.
        'default_pool_size = 3',
        'max_client_conn = 100',
        'ignore_startup_parameters = statement_timeout,idle_in_transaction_session_timeout,extra_float_digits',
      ].join('\n'),
    );
    chmodSync(join(dir, 'pgbouncer.ini'), 0o644);
    // PgBouncer refuses to run as root: -u drops to postgres.
    const asRoot = process.getuid?.() === 0;
    proc = spawn(PGBOUNCER, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
    url = `postgres://postgres@127.0.0.1:${port}/gatehouse`;
    for (let i = 0; ; i++) {
      const c = new pg.Client({ connectionString: url });
      try {
        await c.connect();
        await c.end();
        break;
      } catch (e) {
        if (i > 50 || proc.exitCode !== null) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  afterAll(async () => {
    proc?.kill('SIGTERM');
    if (proc && proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
    await target?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** 300 lookups at once on a pool of 8, each answered. */
  async function burst(preparedStatements: boolean) {
    const database = await openDatabase({ databaseUrl: url, dataDir: null, poolSize: 8, preparedStatements });
    const warnings: string[] = [];
    database.log = { warn: (_o, msg) => warnings.push(msg) };
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 300 }, (_, i) =>
          database.db
            .select({ id: organizations.id })
            .from(organizations)
            .where(eq(organizations.name, `org ${i}`)),
        ),
      );
      // And a transaction after it, its statements on the one server connection PgBouncer pins for it.
      const inTx = await database.db.transaction(async (tx) => {
        await tx.execute(sql`select ${1}::int`);
        return tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.name, 'x'));
      });
      return { failed: results.filter((r) => r.status === 'rejected'), warnings, inTx };
    } finally {
      await database.close();
    }
  }

  it('DATABASE_PREPARED_STATEMENTS=off: every statement answered', async () => {
    const r = await burst(false);
    expect(r.failed).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.inTx).toEqual([]);
  });

  it('left on: the refusals are seen, naming stops with one warning, and every statement is still answered', async () => {
    const r = await burst(true);
    expect(r.failed).toEqual([]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/prepared statements refused .*DATABASE_PREPARED_STATEMENTS=off/);
    expect(r.inTx).toEqual([]);
  });
});
