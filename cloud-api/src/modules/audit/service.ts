import { and, desc, eq, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import { apiApplications, auditLogs, users } from '../../db/schema.js';
import { decodeCursor, page, pageLimit } from '../../lib/pagination.js';
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
 * The audit log's `q`: an id is the object's whole history and what the user or application of that id did;
 * anything else matches the rows having every word of it, in any case, somewhere in the action, the kind of object,
 * its id or the details ("revoke", "pass.revoke lost"). Audit rows carry ids, states and keyed digests, not personal
 * data, so they are searched as text, unlike the sealed people (lib/search.ts): the page is read newest first along
 * the (org_id, id) index and stops at a page of matches, and a word is found as it is (strpos: `%` and `_` are
 * not wildcards).
 */
function auditMatches(q: string | undefined): SQL | undefined {
  const text = q?.trim();
  if (!text) return undefined;
  if (UUID.test(text)) {
    const id = text.toLowerCase();
    return or(eq(auditLogs.entityId, id), eq(auditLogs.actorId, id), eq(auditLogs.actorAppId, id));
  }
  // Lower-cased by the database on both sides, so both follow its own rules (a reason typed in Cyrillic).
  const haystack = sql`lower(${auditLogs.action} || ' ' || ${auditLogs.entityType} || ' ' || coalesce(${auditLogs.entityId}, '') || ' ' || coalesce(${auditLogs.data}::text, ''))`;
  const words = [...new Set(text.split(/\s+/))].slice(0, MAX_WORDS);
  return and(...words.map((w) => sql`strpos(${haystack}, lower(${w})) > 0`));
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
  const rows = await ctx.db
    .select({ log: auditLogs, appName: apiApplications.name, ...userPersonalColumns })
    .from(auditLogs)
    // The application that acted in this organisation (its owner's, or the sandbox's owner's), named even once deleted.
    .leftJoin(apiApplications, eq(apiApplications.id, auditLogs.actorAppId))
    // The user who acted, named even once deleted (the console used to name them from a list that stops at 2,000 users).
    .leftJoin(users, and(eq(users.id, auditLogs.actorId), eq(users.orgId, orgId)))
    .where(
      and(
        eq(auditLogs.orgId, orgId),
        q.entityType ? eq(auditLogs.entityType, q.entityType) : undefined,
        q.entityId ? eq(auditLogs.entityId, q.entityId) : undefined,
        q.actorId ? eq(auditLogs.actorId, q.actorId) : undefined,
        q.actorAppId ? eq(auditLogs.actorAppId, q.actorAppId) : undefined,
        // Audit ids are UUIDv7 stamped at insert, so a time range is an id range on the (org_id, id) index.
        q.since ? gte(auditLogs.id, uuidFloor(new Date(q.since).getTime())) : undefined,
        q.until ? lt(auditLogs.id, uuidFloor(new Date(q.until).getTime())) : undefined,
        auditMatches(q.q),
        cursor ? lt(auditLogs.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(auditLogs.id))
    .limit(pageLimit(limit + 1, q.q?.trim()));
  return page(
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
}

function actorUser(ctx: AppContext, id: string, person: Parameters<typeof openUser>[2], namesUsers: boolean) {
  if (!namesUsers || (person.emailEnc ?? person.email ?? person.fullNameEnc ?? person.fullName) === null)
    return { name: null, email: null };
  const { fullName, email } = openUser(ctx.sealer, id, person);
  return { name: fullName, email };
}
