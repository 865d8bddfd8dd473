import { Nullable } from '@gatehouse/protocol';
import { type Placeholder, sql } from 'drizzle-orm';
import Type from 'typebox';
import { badRequest } from './errors.js';

const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** `limit` and `cursor` of every list. The cursor is the last id of the previous page (ids are UUIDv7, so id order is time order). */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 64 })),
};

/**
 * A list's LIMIT (`limit + 1`: the extra row tells whether a next page exists) written into the statement's text
 * instead of sent as a parameter. With a parameter there PostgreSQL cannot cost the prepared statement's generic
 * plan (it assumes a tenth of the table), so it plans the statement again on every call; for a page of the
 * month-partitioned check-ins that planning cost three times the page itself (pgbench, 50 clients, 2M check-ins:
 * 1,580 pages/s with `limit $2`, 6,100/s with `limit 51`; visit_passes 5,700/s against 8,800/s). The number is a
 * validated integer (PageQuery: at most 501), so a list has a bounded set of texts.
 *
 * Not for a page that searches (`search`, its `q`): how many rows a search matches depends on the very values it
 * looks for (an id that is a gate's rather than a pass's, a rare word), which a generic plan cannot see. Given one,
 * `q=<a pass id>` walked every check-in of the organisation (15 pages/s, p99 3.3 s at 10M, bench:large), so a
 * search keeps its LIMIT a parameter and is planned for its own values on every call.
 */
export function pageLimit(limit: number, search?: unknown): number | Placeholder {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`a page's limit is a positive integer, not ${limit}`);
  if (search) return limit;
  // drizzle writes an SQL chunk given to limit() into the text as it is (pg-core dialect, buildSelectQuery); its
  // type accepts a number (sent as a parameter) or a Placeholder, so the chunk is typed as the latter.
  return sql.raw(String(limit)) as unknown as Placeholder;
}

export function decodeCursor(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!new RegExp(UUID_PATTERN).test(id)) throw badRequest('invalid cursor');
  return id;
}

/**
 * A cursor for lists ordered by a time and then id (check-ins within a time range): the last row's time
 * (milliseconds, base 36) and id, readable as they are and within PageQuery's 64 characters.
 */
export function decodeTimeCursor(cursor: string | undefined): { at: Date; id: string } | null {
  if (!cursor) return null;
  const [ms, id] = cursor.split('.');
  const at = Number.parseInt(ms ?? '', 36);
  if (!id || !/^[0-9a-z]{1,12}$/.test(ms ?? '') || !Number.isSafeInteger(at) || !new RegExp(UUID_PATTERN).test(id))
    throw badRequest('invalid cursor');
  return { at: new Date(at), id };
}

export function timePage<T extends { id: string }>(rows: T[], limit: number, timeOf: (row: T) => string) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? `${Date.parse(timeOf(last)).toString(36)}.${last.id}` : null };
}

/** The cursor of a page that ends before `id` (decodeCursor reads it back). */
export const encodeCursor = (id: string): string => Buffer.from(id).toString('base64url');

export function page<T extends { id: string }>(rows: T[], limit: number): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}

export const Uuid = (opts: { description?: string } = {}) => Type.String({ format: 'uuid', ...opts });
export const IdParams = Type.Object({ id: Uuid() });
export const Timestamp = (opts: { description?: string } = {}) => Type.String({ format: 'date-time', ...opts });

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export const Page = <T extends import('typebox').TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });
