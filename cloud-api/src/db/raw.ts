/**
 * Typed rows for the few statements written as raw SQL (the issuance CTE, the
 * check-in `unnest()` insert, the sequencer). Why this exists: `db.execute()`
 * returns the driver's own result, typed `unknown` (pg's QueryResult or
 * PGlite's Results — both carry `rows`), with snake_case keys and driver-typed
 * values (drizzle has both drivers hand timestamps back as text; pg gives int8
 * as text). Instead of a cast and a hand-written mapper per statement, one
 * `rawRows(table, keys)` — built once per statement, at module load — takes
 * the column list and the mapping from the table's drizzle columns: each row
 * goes through the columns' own `mapFromDriverValue`, exactly as the query
 * builder maps it, to the shape of `typeof table.$inferSelect`.
 */
import { Column, getTableColumns, getTableName, type InferSelectModel, type SQL, sql, type Table } from 'drizzle-orm';

export interface RawRows<R> {
  /** The columns as the statement names them (`"id", "pass_id", …`), for its `select` or `returning` list. */
  readonly columns: SQL;
  /** The rows of a `db.execute()` result, from either driver, mapped to the table's shape. */
  read(result: unknown): R[];
}

export function rawRows<T extends Table, K extends keyof InferSelectModel<T> & string = keyof InferSelectModel<T> & string>(
  table: T,
  keys?: readonly K[],
): RawRows<Pick<InferSelectModel<T>, K>> {
  const byKey = getTableColumns(table) as Record<string, Column>;
  const fields = (keys ?? (Object.keys(byKey) as K[])).map((key) => {
    const column = byKey[key] as Column;
    // Most columns (uuid, text, boolean) come back as they are stored; only the others need a call per row.
    const decode = column.mapFromDriverValue === Column.prototype.mapFromDriverValue ? null : column;
    return { key, name: column.name, decode };
  });
  return {
    columns: sql.join(
      fields.map((f) => sql.identifier(f.name)),
      sql`, `,
    ),
    read(result) {
      const rows = (result as { rows: Record<string, unknown>[] }).rows;
      // Checked on the first row only: a statement that leaves a column out is a bug, not a null.
      const first = rows[0];
      if (first) for (const f of fields) if (!(f.name in first)) throw new Error(`raw ${getTableName(table)} row lacks ${f.name}`);
      return rows.map((r) => {
        const out: Record<string, unknown> = {};
        for (const f of fields) {
          const v = r[f.name];
          out[f.key] = v == null ? null : f.decode ? f.decode.mapFromDriverValue(v) : v;
        }
        return out as Pick<InferSelectModel<T>, K>;
      });
    },
  };
}
