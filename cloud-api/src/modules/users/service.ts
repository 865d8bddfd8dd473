import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Role } from '../../auth/rbac.js';
import type { AppContext } from '../../context.js';
import { hosts, userRoles, users } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { forbidden, notFound } from '../../lib/errors.js';
import { decodeCursor, page } from '../../lib/pagination.js';
import { createUser } from '../orgs/service.js';

const rolesOf = sql<
  string[]
>`coalesce((select array_agg(${userRoles.role} order by ${userRoles.role}) from ${userRoles} where ${userRoles.userId} = ${users.id}), '{}')`;
const hostOf = sql<string | null>`(select ${hosts.id} from ${hosts} where ${hosts.userId} = ${users.id} and ${hosts.deletedAt} is null)`;

const columns = {
  id: users.id,
  orgId: users.orgId,
  email: users.email,
  fullName: users.fullName,
  roles: rolesOf,
  hostId: hostOf,
  createdAt: users.createdAt,
};
type Row = { id: string; orgId: string; email: string; fullName: string; roles: string[]; hostId: string | null; createdAt: Date };
const view = (r: Row) => ({ ...r, createdAt: r.createdAt.toISOString() });

export async function addUser(
  ctx: AppContext,
  actor: Actor,
  actorRoles: string[],
  b: { email: string; fullName: string; roles: Role[]; password?: string },
) {
  // Nobody hands out a role above their own: only a PlatformAdmin makes PlatformAdmins.
  if (b.roles.includes('PlatformAdmin') && !actorRoles.includes('PlatformAdmin'))
    throw forbidden('only a PlatformAdmin can grant PlatformAdmin');
  return ctx.db.transaction(async (tx) => {
    const u = await createUser(ctx, tx, {
      orgId: actor.orgId,
      email: b.email,
      fullName: b.fullName,
      roles: b.roles,
      password: b.password,
      actorId: actor.userId,
    });
    await writeAudit(tx, actor, { action: 'user.create', entityType: 'user', entityId: u.id, data: { email: u.email, roles: u.roles } });
    return { id: u.id, orgId: u.orgId, email: u.email, fullName: u.fullName, roles: u.roles, hostId: u.hostId, createdAt: u.createdAt };
  });
}

export async function listUsers(ctx: AppContext, orgId: string, q: { limit?: number; cursor?: string }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select(columns)
    .from(users)
    .where(and(eq(users.orgId, orgId), isNull(users.deletedAt), cursor ? lt(users.id, cursor) : undefined))
    .orderBy(desc(users.id))
    .limit(limit + 1);
  return page(rows.map(view), limit);
}

export async function getUser(ctx: AppContext, orgId: string, id: string) {
  const [row] = await ctx.db
    .select(columns)
    .from(users)
    .where(and(eq(users.id, id), eq(users.orgId, orgId), isNull(users.deletedAt)));
  if (!row) throw notFound('user');
  return view(row);
}

export async function listHosts(ctx: AppContext, orgId: string, q: { limit?: number; cursor?: string }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select({ id: hosts.id, userId: hosts.userId, fullName: users.fullName, email: users.email, position: hosts.position })
    .from(hosts)
    .innerJoin(users, eq(users.id, hosts.userId))
    .where(and(eq(hosts.orgId, orgId), isNull(hosts.deletedAt), cursor ? lt(hosts.id, cursor) : undefined))
    .orderBy(desc(hosts.id))
    .limit(limit + 1);
  return page(rows, limit);
}
