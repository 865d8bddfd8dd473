/**
 * Database.listen, on which every cloud instance hears that a controller was
 * removed (gatehouse_device_revoked): a NOTIFY committed by anyone reaches
 * every listener, and on PostgreSQL a listening connection that is lost comes
 * back by itself and says so (onReset), so that caches are dropped rather than
 * trusted after notifications may have been missed.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, onPostgres, type TestDb, until } from './helpers.js';

describe('Database.listen', () => {
  let db: TestDb;
  const got: string[] = [];
  let resets = 0;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    db = await freshDatabase();
    stop = await db.database.listen(
      'gh_listen_test',
      (p) => got.push(p),
      () => resets++,
    );
  });
  afterAll(async () => {
    await stop?.();
    await db?.drop();
  });

  it('delivers a NOTIFY at commit, not before, and not one rolled back', async () => {
    await db.database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_notify('gh_listen_test', 'in-tx')`);
      await new Promise((r) => setTimeout(r, 200));
      expect(got).toEqual([]);
    });
    await until(() => got.includes('in-tx'), 'the committed notification');
    await db.database.db
      .transaction(async (tx) => {
        await tx.execute(sql`select pg_notify('gh_listen_test', 'rolled-back')`);
        throw new Error('rollback');
      })
      .catch(() => undefined);
    await db.database.db.execute(sql`select pg_notify('gh_listen_test', 'after')`);
    await until(() => got.includes('after'), 'the next notification');
    expect(got).not.toContain('rolled-back');
  });

  it.runIf(onPostgres)('a lost listening connection comes back by itself and reports the gap', async () => {
    await db.database.db.execute(sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and query = 'LISTEN "gh_listen_test"'`);
    await until(() => resets > 0, 'the listener re-established', 8000);
    await db.database.db.execute(sql`select pg_notify('gh_listen_test', 'after-reset')`);
    await until(() => got.includes('after-reset'), 'a notification after the reset');
  });
});
