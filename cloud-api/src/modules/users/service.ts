import { uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Role } from '../../auth/rbac.js';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { hosts, sessions, userRoles, users } from '../../db/schema.js';
import { type Actor, emailDigest, writeAudit } from '../../lib/audit.js';
import type { Sealer } from '../../lib/crypto.js';
import { conflict, forbidden, notFound } from '../../lib/errors.js';
import { decodeCursor, page, pageLimit } from '../../lib/pagination.js';
import { hostsMatching, parseSearch, userMatches } from '../../lib/search.js';
import { openUser, sealedUserName, userPersonalColumns } from '../orgs/personal-data.js';
import { createUser } from '../orgs/service.js';

const rolesOf = sql<
  string[]
>`coalesce((select array_agg(${userRoles.role} order by ${userRoles.role}) from ${userRoles} where ${userRoles.userId} = ${users.id}), '{}')`;
const hostOf = sql<string | null>`(select ${hosts.id} from ${hosts} where ${hosts.userId} = ${users.id} and ${hosts.deletedAt} is null)`;

const columns = {
  id: users.id,
  orgId: users.orgId,
  ...userPersonalColumns,
  roles: rolesOf,
  status: users.status,
  hostId: hostOf,
  createdAt: users.createdAt,
};
type Row = {
  id: string;
  orgId: string;
  email: string | null;
  fullName: string | null;
  emailEnc: string | null;
  fullNameEnc: string | null;
  roles: string[];
  status: string;
  hostId: string | null;
  createdAt: Date;
};
const view = (s: Sealer, r: Row) => ({
  id: r.id,
  orgId: r.orgId,
  ...openUser(s, r.id, r),
  roles: r.roles,
  status: r.status,
  hostId: r.hostId,
  createdAt: r.createdAt.toISOString(),
});

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
    // The e-mail is sealed at rest, so the append-only audit log keeps only its keyed digest.
    await writeAudit(tx, actor, {
      action: 'user.create',
      entityType: 'user',
      entityId: u.id,
      data: { emailHash: emailDigest(ctx.config.masterKey, u.email), roles: u.roles },
    });
    return {
      id: u.id,
      orgId: u.orgId,
      email: u.email,
      fullName: u.fullName,
      roles: u.roles,
      status: 'active',
      hostId: u.hostId,
      createdAt: u.createdAt,
    };
  });
}

export async function listUsers(ctx: AppContext, orgId: string, q: { limit?: number; cursor?: string; q?: string; role?: Role }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const term = parseSearch(ctx.sealer, q.q);
  const rows = await ctx.db
    .select(columns)
    .from(users)
    .where(
      and(
        eq(users.orgId, orgId),
        isNull(users.deletedAt),
        term ? userMatches(term) : undefined,
        q.role
          ? sql`exists (select 1 from ${userRoles} where ${userRoles.userId} = ${users.id} and ${userRoles.role} = ${q.role})`
          : undefined,
        cursor ? lt(users.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(users.id))
    .limit(pageLimit(limit + 1, term));
  return page(
    rows.map((r) => view(ctx.sealer, r)),
    limit,
  );
}

export async function getUser(ctx: AppContext, orgId: string, id: string) {
  const [row] = await ctx.db
    .select(columns)
    .from(users)
    .where(and(eq(users.id, id), eq(users.orgId, orgId), isNull(users.deletedAt)));
  if (!row) throw notFound('user');
  return view(ctx.sealer, row);
}

export async function listHosts(ctx: AppContext, orgId: string, q: { limit?: number; cursor?: string; q?: string }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const term = parseSearch(ctx.sealer, q.q);
  const rows = await ctx.db
    .select({ id: hosts.id, userId: hosts.userId, ...userPersonalColumns, position: hosts.position })
    .from(hosts)
    .innerJoin(users, eq(users.id, hosts.userId))
    .where(
      and(
        eq(hosts.orgId, orgId),
        isNull(hosts.deletedAt),
        term ? sql`${hosts.id} in (${hostsMatching(orgId, term)})` : undefined,
        cursor ? lt(hosts.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(hosts.id))
    .limit(pageLimit(limit + 1, term));
  return page(
    rows.map((r) => ({ id: r.id, userId: r.userId, ...openUser(ctx.sealer, r.userId, r), position: r.position })),
    limit,
  );
}

async function endSessions(db: Executor, userId: string) {
  await db
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
}

async function requireUserRoles(db: Executor, orgId: string, id: string) {
  const [cur] = await db
    .select({ id: users.id, roles: rolesOf })
    .from(users)
    .where(and(eq(users.id, id), eq(users.orgId, orgId), isNull(users.deletedAt)));
  if (!cur) throw notFound('user');
  return cur;
}

export async function updateUser(
  ctx: AppContext,
  actor: Actor,
  actorRoles: string[],
  id: string,
  b: { fullName?: string; roles?: Role[]; status?: 'active' | 'disabled'; password?: string },
) {
  const platform = actorRoles.includes('PlatformAdmin');
  if (b.roles?.includes('PlatformAdmin') && !platform) throw forbidden('only a PlatformAdmin can grant PlatformAdmin');
  const passwordHash = b.password ? await ctx.passwords.hash(b.password) : undefined;
  await ctx.db.transaction(async (tx) => {
    const cur = await requireUserRoles(tx, actor.orgId, id);
    if (cur.roles.includes('PlatformAdmin') && !platform) throw forbidden('only a PlatformAdmin can change a PlatformAdmin');
    const now = new Date();
    await tx
      .update(users)
      .set({
        ...(b.fullName !== undefined ? sealedUserName(ctx.sealer, id, b.fullName) : {}),
        ...(b.status !== undefined ? { status: b.status } : {}),
        ...(passwordHash ? { passwordHash } : {}),
        updatedAt: now,
        updatedBy: actor.userId,
      })
      .where(and(eq(users.id, id), eq(users.orgId, actor.orgId)));
    if (b.roles) {
      await tx.delete(userRoles).where(eq(userRoles.userId, id));
      await tx
        .insert(userRoles)
        .values(b.roles.map((role) => ({ userId: id, role, orgId: actor.orgId, createdBy: actor.userId, updatedBy: actor.userId })));
      if (b.roles.includes('Host')) {
        // Appointments keep pointing at the host row, so it is revived rather than made anew.
        await tx
          .insert(hosts)
          .values({ id: uuidv7(), orgId: actor.orgId, userId: id, createdBy: actor.userId, updatedBy: actor.userId })
          .onConflictDoUpdate({ target: hosts.userId, set: { deletedAt: null, updatedAt: now, updatedBy: actor.userId } });
      } else {
        await tx
          .update(hosts)
          .set({ deletedAt: now, updatedAt: now, updatedBy: actor.userId })
          .where(and(eq(hosts.userId, id), isNull(hosts.deletedAt)));
      }
    }
    // A disabled account or a new password ends every session (a stolen refresh token dies with them).
    if (b.status === 'disabled' || passwordHash) await endSessions(tx, id);
    await writeAudit(tx, actor, {
      action: 'user.update',
      entityType: 'user',
      entityId: id,
      data: { fields: Object.keys(b), ...(b.roles ? { roles: b.roles } : {}), ...(b.status ? { status: b.status } : {}) },
    });
  });
  ctx.principals.clear();
  return getUser(ctx, actor.orgId, id);
}

export async function deleteUser(ctx: AppContext, actor: Actor, actorRoles: string[], id: string) {
  if (id === actor.userId) throw conflict('you cannot delete your own account');
  await ctx.db.transaction(async (tx) => {
    const cur = await requireUserRoles(tx, actor.orgId, id);
    if (cur.roles.includes('PlatformAdmin') && !actorRoles.includes('PlatformAdmin'))
      throw forbidden('only a PlatformAdmin can delete a PlatformAdmin');
    const now = new Date();
    // Soft: the audit log and appointments keep naming who it was.
    await tx
      .update(users)
      .set({ deletedAt: now, status: 'disabled', updatedAt: now, updatedBy: actor.userId })
      .where(and(eq(users.id, id), eq(users.orgId, actor.orgId)));
    await tx
      .update(hosts)
      .set({ deletedAt: now, updatedAt: now, updatedBy: actor.userId })
      .where(and(eq(hosts.userId, id), isNull(hosts.deletedAt)));
    await endSessions(tx, id);
    await writeAudit(tx, actor, { action: 'user.delete', entityType: 'user', entityId: id });
  });
  ctx.principals.clear();
}
