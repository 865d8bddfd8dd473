import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { AppContext, Principal } from '../context.js';
import { sessions, userRoles, users } from '../db/schema.js';
import { HttpError, unauthorized } from '../lib/errors.js';
import { emailHashes, openUser, userPersonalColumns } from '../modules/orgs/personal-data.js';
import { looksLikeApiKey } from './api-key-format.js';
import { authenticateApiKey } from './api-keys.js';
import { permissionsOf } from './rbac.js';
import { TokenService } from './tokens.js';

export function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1] ?? null;
}

const rolesOf = sql<
  string[]
>`coalesce((select array_agg(${userRoles.role}) from ${userRoles} where ${userRoles.userId} = ${users.id}), '{}')`;

/** A key where keys are not accepted: everything but /api/admin (the console, the portal, /api/auth/me, the live feed). */
export const apiKeyNotAllowed = () =>
  new HttpError(401, 'api_key_not_allowed_here', 'API keys are accepted on /api/admin routes only; sign in as a user here');

export interface AuthenticateOptions {
  /** Accept an application's API key (`ghk_…`): only the routes under /api/admin do. */
  apiKeys?: boolean;
}

/**
 * Resolves a bearer token to a principal: our access JWT with a live session, a verified OIDC token naming a
 * user, or (where `apiKeys` allows it) an application's API key.
 */
export async function authenticate(ctx: AppContext, token: string, opts: AuthenticateOptions = {}): Promise<Principal> {
  if (looksLikeApiKey(token)) {
    if (!opts.apiKeys) throw apiKeyNotAllowed();
    return authenticateApiKey(ctx, token);
  }
  if (TokenService.isOwn(token) || !ctx.oidc) {
    const claims = await ctx.tokens.verifyAccess(token);
    if (!claims) throw unauthorized('invalid or expired token');
    const cached = ctx.principals.get(claims.sid);
    if (cached && cached.userId === claims.sub) return cached;
    const generation = ctx.principals.generation;
    // One round trip: the user, their roles, and whether the session is still alive.
    const [row] = await ctx.db
      .select({ id: users.id, orgId: users.orgId, ...userPersonalColumns, roles: rolesOf })
      .from(users)
      .innerJoin(sessions, eq(sessions.userId, users.id))
      .where(
        and(
          eq(users.id, claims.sub),
          eq(sessions.id, claims.sid),
          isNull(sessions.revokedAt),
          isNull(users.deletedAt),
          eq(users.status, 'active'),
        ),
      );
    if (!row || row.orgId !== claims.org) throw unauthorized('session ended');
    const principal: Principal = {
      userId: row.id,
      orgId: row.orgId,
      email: openUser(ctx.sealer, row.id, row).email,
      roles: row.roles,
      permissions: permissionsOf(row.roles),
      via: 'password',
      sessionId: claims.sid,
      app: null,
    };
    ctx.principals.set(claims.sid, principal, Date.now(), generation);
    return principal;
  }
  const email = await ctx.oidc.verifiedEmail(token);
  if (!email) throw unauthorized('invalid or expired token');
  // E-mails are unique per organisation: an identity that names accounts in several is refused, not guessed.
  const rows = await ctx.db
    .select({ id: users.id, orgId: users.orgId, ...userPersonalColumns, roles: rolesOf })
    .from(users)
    .where(and(inArray(users.emailHash, emailHashes(ctx.sealer, email)), isNull(users.deletedAt), eq(users.status, 'active')))
    .limit(2);
  const row = rows.length === 1 ? rows[0] : undefined;
  if (!row) throw unauthorized('no user for this identity');
  return {
    userId: row.id,
    orgId: row.orgId,
    email: openUser(ctx.sealer, row.id, row).email,
    roles: row.roles,
    permissions: permissionsOf(row.roles),
    via: 'oidc',
    sessionId: null,
    app: null,
  };
}
