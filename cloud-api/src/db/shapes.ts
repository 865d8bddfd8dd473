/**
 * A query built once per shape instead of on every call. drizzle builds a statement's text from its query builder on
 * every execution: for a page of check-ins and its names that building was a fifth of the API's CPU per request
 * (CPU profile, 50 clients on `GET /api/admin/checkins`: `buildSelectQuery` + `sqlToQuery` 20%, drizzle's `is()` alone
 * 10%). A hot query whose filters are few (which of them are present is its shape) is written with `sql.placeholder`s
 * for its values, prepared by drizzle once per shape and database, and executed with the values of each call.
 * Measured on the check-in list (100,000 rows, 50 clients): 1.74 → 1.06 ms of API CPU per page, 635 → 974–1,011 pages/s.
 *
 * Only on the pool: a prepared query is bound to the session it was prepared on, so inside a transaction the query is
 * built for that call, as before. The placeholders' values go to the driver as they are (no column encoding):
 * timestamps as ISO strings.
 */
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Db, Executor } from './client.js';

/** What drizzle's `.prepare()` of a select answers, narrowed to what is used here. */
interface Prepared<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

export interface Preparable<R> {
  prepare(name: string): Prepared<R>;
}

/** Shapes one module keeps per database: a page's LIMIT is in its text (pageLimit), so a shape per limit asked for. */
const MAX_SHAPES = 1000;

/** Prepared queries of one module, by database and shape (a key per combination of filters). */
export class QueryShapes {
  readonly #byDb = new WeakMap<Db, Map<string, Prepared<unknown>>>();

  /**
   * Runs the query `build` makes for `shape` with `values`: on the pool, prepared the first time and reused after;
   * in a transaction, or without a shape (a statement that carries values of its own: a search, a host's scope),
   * built for this call. `build` must make the same statement for the same `shape`.
   */
  run<R>(db: Executor, shape: string | null, build: (db: Executor) => Preparable<R>, values: Record<string, unknown>): Promise<R> {
    // The empty name leaves the statement unnamed for drizzle; the connection names it by its text (client.ts).
    if (shape === null || db instanceof PgTransaction) return build(db).prepare('').execute(values);
    let shapes = this.#byDb.get(db);
    if (!shapes) {
      shapes = new Map();
      this.#byDb.set(db, shapes);
    }
    let prepared = shapes.get(shape) as Prepared<R> | undefined;
    if (!prepared) {
      if (shapes.size >= MAX_SHAPES) shapes.clear();
      prepared = build(db).prepare('');
      shapes.set(shape, prepared);
    }
    return prepared.execute(values);
  }
}
