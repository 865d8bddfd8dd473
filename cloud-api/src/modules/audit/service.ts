import { and, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { AppContext } from '../../context.js';
import { apiApplications, auditLogs, users } from '../../db/schema.js';
import { decodeCursor, encodeCursor, page, pageLimit } from '../../lib/pagination.js';
import { UUID } from '../../lib/search.js';
import { openUser, userPersonalColumns } from '../orgs/personal-data.js';

/** The smallest UUIDv7 of millisecond `ms`. */
function uuidFloor(ms: number): string {
  const h = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7000-8000-000000000000`;
}

/** Words of `q` looked for at most: the rest of a pasted paragraph is not worth a scan each. */
const MAX_WORDS = 8;
/**
 * Rows a word search reads per request, newest first: a word found nowhere would otherwise read the whole log
 * (2M rows: 2.3 s). 20,000 rows take ~25 ms; a page with fewer matches then says where to read on (its cursor).
 */
export const AUDIT_SEARCH_WINDOW = 20_000;

/**
 * The audit log's `q` = an id: the object's history and what the user or application of that id did, each arm
 * newest first along its own index (migration 0029), at most a page each, merged (an OR walked them all).
 */
function idMatches(id: string, filters: SQL | undefined, limit: number): SQL {
  const arm = (col: PgColumn) =>
    sql`(select ${auditLogs.id} from ${auditLogs} where ${filters} and ${col} = ${id} order by ${auditLogs.id} desc limit ${limit + 1})`;
  return sql`${auditLogs.id} in (${arm(auditLogs.entityId)} union all ${arm(auditLogs.actorId)} union all ${arm(auditLogs.actorAppId)})`;
}

/**
 * The audit log's `q` = words: the rows having every word of it, in any case, somewhere in the action, the kind
 * of object, its id or the details ("revoke", "pass.revoke lost"). Audit rows carry ids, states and keyed digests,
 * not personal data, so they are searched as text, unlike the sealed people (lib/search.ts). A word is found as it
 * is (strpos: `%` and `_` are not wildcards), lower-cased by the database on both sides (a reason typed in
 * Cyrillic follows its rules). At most AUDIT_SEARCH_WINDOW rows (those `filters` leave) are read: the matching ids
 * among them (a page and one), and where the reading stopped if it stopped short of the end.
 */
async function wordMatches(ctx: AppContext, filters: SQL | undefined, text: string, limit: number) {
  const words = [...new Set(text.split(/\s+/))].slice(0, MAX_WORDS);
  const w = ctx.db
    .select({
      id: auditLogs.id,
      action: auditLogs.action,
      entityType: auditLogs.entityType,
      entityId: auditLogs.entityId,
      data: auditLogs.data,
    })
    .from(auditLogs)
    .where(filters)
    .orderBy(desc(auditLogs.id))
    .limit(AUDIT_SEARCH_WINDOW)
    .as('w');
  const haystack = sql`lower(${w.action} || ' ' || ${w.entityType} || ' ' || coalesce(${w.entityId}, '') || ' ' || coalesce(${w.data}::text, ''))`;
  // Streamed: the window's rows are read newest first only until a page and one match.
  const rows = await ctx.db
    .select({ id: w.id })
    .from(w)
    .where(and(...words.map((word) => sql`strpos(${haystack}, lower(${word})) > 0`)))
    .orderBy(desc(w.id))
    .limit(limit + 1);
  const ids = rows.map((r) => r.id);
  if (ids.length > limit) return { ids, stoppedAt: null };
  // Fewer: the whole window was read. Its last row, if it was full, is where the next request reads on from.
  const [last] = await ctx.db
    .select({ id: auditLogs.id })
    .from(auditLogs)
    .where(filters)
    .orderBy(desc(auditLogs.id))
    .offset(AUDIT_SEARCH_WINDOW - 1)
    .limit(1);
  return { ids, stoppedAt: last?.id ?? null };
}

/** Read-only by design: there is no route that edits or deletes audit rows, and a trigger refuses it in the database. */
export async function listAudit(
  ctx: AppContext,
  orgId: string,
  q: {
    limit?: number;
    cursor?: string;
    entityType?: string;
    entityId?: string;
    actorId?: string;
    actorAppId?: string;
    since?: string;
    until?: string;
    q?: string;
  },
  /** The caller may read users (users:read): a user who acted is named, with their e-mail. */
  namesUsers = false,
) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const filters = and(
    eq(auditLogs.orgId, orgId),
    q.entityType ? eq(auditLogs.entityType, q.entityType) : undefined,
    q.entityId ? eq(auditLogs.entityId, q.entityId) : undefined,
    q.actorId ? eq(auditLogs.actorId, q.actorId) : undefined,
    q.actorAppId ? eq(auditLogs.actorAppId, q.actorAppId) : undefined,
    // Audit ids are UUIDv7 stamped at insert, so a time range is an id range on the (org_id, id) index.
    q.since ? gte(auditLogs.id, uuidFloor(new Date(q.since).getTime())) : undefined,
    q.until ? lt(auditLogs.id, uuidFloor(new Date(q.until).getTime())) : undefined,
    cursor ? lt(auditLogs.id, cursor) : undefined,
  );
  const text = q.q?.trim();
  const words = text && !UUID.test(text) ? await wordMatches(ctx, filters, text, limit) : null;
  if (words && words.ids.length === 0) return { items: [], nextCursor: words.stoppedAt ? encodeCursor(words.stoppedAt) : null };
  const rows = await ctx.db
    .select({ log: auditLogs, appName: apiApplications.name, ...userPersonalColumns })
    .from(auditLogs)
    // The application that acted in this organisation (its owner's, or the sandbox's owner's), named even once deleted.
    .leftJoin(apiApplications, eq(apiApplications.id, auditLogs.actorAppId))
    // The user who acted, named even once deleted (the console used to name them from a list that stops at 2,000 users).
    .leftJoin(users, and(eq(users.id, auditLogs.actorId), eq(users.orgId, orgId)))
    .where(
      words
        ? and(eq(auditLogs.orgId, orgId), sql`${auditLogs.id} = any(${sql.param(words.ids)}::uuid[])`)
        : and(filters, text ? idMatches(text.toLowerCase(), filters, limit) : undefined),
    )
    .orderBy(desc(auditLogs.id))
    .limit(pageLimit(limit + 1, text));
  const listed = page(
    rows.map(({ log: r, appName, ...person }) => ({
      id: r.id,
      orgId: r.orgId,
      actorId: r.actorId,
      actorAppId: r.actorAppId,
      actor: r.actorAppId
        ? { type: 'application' as const, id: r.actorAppId, name: appName, email: null }
        : r.actorId
          ? { type: 'user' as const, id: r.actorId, ...actorUser(ctx, r.actorId, person, namesUsers) }
          : { type: 'system' as const, id: null, name: null, email: null },
      action: r.action,
      entityType: r.entityType,
      entityId: r.entityId,
      ip: r.ip,
      userAgent: r.userAgent,
      data: r.data,
      createdAt: r.createdAt.toISOString(),
    })),
    limit,
  );
  // A word search that read a whole window with no page of matches in it goes on below where it stopped.
  return words?.stoppedAt && !listed.nextCursor ? { ...listed, nextCursor: encodeCursor(words.stoppedAt) } : listed;
}

function actorUser(ctx: AppContext, id: string, person: Parameters<typeof openUser>[2], namesUsers: boolean) {
  if (!namesUsers || (person.emailEnc ?? person.email ?? person.fullNameEnc ?? person.fullName) === null)
    return { name: null, email: null };
  const { fullName, email } = openUser(ctx.sealer, id, person);
  return { name: fullName, email };
}
