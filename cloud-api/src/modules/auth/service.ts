import { uuidv7 } from '@gatehouse/protocol';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { sessions, userRoles, users } from '../../db/schema.js';
import { emailDigest, NO_ORG, writeAudit } from '../../lib/audit.js';
import { randomToken, sha256 } from '../../lib/crypto.js';
import { unauthorized } from '../../lib/errors.js';

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

async function rolesOf(db: Executor, userId: string): Promise<string[]> {
  const rows = await db.select({ role: userRoles.role }).from(userRoles).where(eq(userRoles.userId, userId));
  return rows.map((r) => r.role);
}

async function issuePair(
  ctx: AppContext,
  db: Executor,
  user: { id: string; orgId: string; email: string },
  familyId: string,
  client: ClientInfo,
  sessionId = uuidv7(),
) {
  const refreshToken = randomToken(32);
  await db.insert(sessions).values({
    id: sessionId,
    orgId: user.orgId,
    userId: user.id,
    familyId,
    refreshHash: sha256(refreshToken),
    expiresAt: new Date(Date.now() + ctx.config.refreshTokenTtlS * 1000),
    ip: client.ip,
    userAgent: client.userAgent,
    createdBy: user.id,
    updatedBy: user.id,
  });
  const accessToken = await ctx.tokens.signAccess({ sub: user.id, org: user.orgId, sid: sessionId });
  return {
    accessToken,
    refreshToken,
    expiresIn: ctx.config.accessTokenTtlS,
    user: { id: user.id, orgId: user.orgId, email: user.email, roles: await rolesOf(db, user.id) },
  };
}

export async function login(ctx: AppContext, email: string, password: string, client: ClientInfo) {
  const [user] = await ctx.db
    .select({ id: users.id, orgId: users.orgId, email: users.email, passwordHash: users.passwordHash, status: users.status })
    .from(users)
    .where(and(sql`lower(${users.email}) = lower(${email})`, isNull(users.deletedAt)));
  if (!user?.passwordHash) {
    await ctx.passwords.dummyVerify(password);
    await loginFailed(ctx, client, user ?? null, email, 'no_password');
    throw unauthorized('wrong e-mail or password');
  }
  const ok = await ctx.passwords.verify(user.passwordHash, password);
  if (!ok || user.status !== 'active') {
    await loginFailed(ctx, client, user, email, ok ? 'disabled' : 'wrong_password');
    throw unauthorized('wrong e-mail or password');
  }
  const sessionId = uuidv7();
  return ctx.db.transaction(async (tx) => {
    const pair = await issuePair(ctx, tx, user, uuidv7(), client, sessionId);
    await writeAudit(
      tx,
      { orgId: user.orgId, userId: user.id, ...client },
      { action: 'auth.login', entityType: 'session', entityId: sessionId },
    );
    return pair;
  });
}

/**
 * A refused sign-in, audited without the password. Against a known account it
 * goes to that account's organisation; an e-mail that names no account is kept
 * only as a keyed hash, under no organisation (`NO_ORG`), so the row reveals
 * nothing to anyone who reads the audit log.
 */
async function loginFailed(
  ctx: AppContext,
  client: ClientInfo,
  user: { id: string; orgId: string } | null,
  email: string,
  reason: 'no_password' | 'wrong_password' | 'disabled',
): Promise<void> {
  if (user)
    await writeAudit(
      ctx.db,
      { orgId: user.orgId, userId: null, ...client },
      {
        action: 'auth.login_failed',
        entityType: 'user',
        entityId: user.id,
        data: { reason },
      },
    );
  else
    await writeAudit(
      ctx.db,
      { orgId: NO_ORG, userId: null, ...client },
      {
        action: 'auth.login_failed',
        entityType: 'user',
        data: { reason: 'unknown_account', emailHash: emailDigest(ctx.config.masterKey, email) },
      },
    );
}

/**
 * Rotation: a refresh token works once. Presenting an already rotated one
 * means it was copied, so the whole family (every descendant) is revoked.
 */
export async function refresh(ctx: AppContext, refreshToken: string, client: ClientInfo) {
  const hash = sha256(refreshToken);
  type Outcome = { reuse: string } | { pair: Awaited<ReturnType<typeof issuePair>> } | null;
  const outcome: Outcome = await ctx.db.transaction(async (tx): Promise<Outcome> => {
    const [s] = await tx
      .update(sessions)
      .set({ rotatedAt: new Date(), updatedAt: new Date() })
      .where(
        and(eq(sessions.refreshHash, hash), isNull(sessions.rotatedAt), isNull(sessions.revokedAt), gt(sessions.expiresAt, new Date())),
      )
      .returning();
    if (!s) {
      const [old] = await tx
        .select({ familyId: sessions.familyId, rotatedAt: sessions.rotatedAt })
        .from(sessions)
        .where(eq(sessions.refreshHash, hash));
      if (old?.rotatedAt) return { reuse: old.familyId };
      return null;
    }
    const [user] = await tx
      .select({ id: users.id, orgId: users.orgId, email: users.email })
      .from(users)
      .where(and(eq(users.id, s.userId), isNull(users.deletedAt), eq(users.status, 'active')));
    if (!user) return null;
    return { pair: await issuePair(ctx, tx, user, s.familyId, client) };
  });
  if (!outcome) throw unauthorized('invalid refresh token');
  if ('reuse' in outcome) {
    await ctx.db
      .update(sessions)
      .set({ revokedAt: new Date() })
      .where(and(eq(sessions.familyId, outcome.reuse), isNull(sessions.revokedAt)));
    ctx.principals.clear();
    throw unauthorized('invalid refresh token');
  }
  return outcome.pair;
}

/** Ends the session family of the access token's session (and of a refresh token, when one is given). */
export async function logout(ctx: AppContext, sessionId: string | null, refreshToken: string | undefined): Promise<void> {
  const families = new Set<string>();
  if (sessionId) {
    const [s] = await ctx.db.select({ familyId: sessions.familyId }).from(sessions).where(eq(sessions.id, sessionId));
    if (s) families.add(s.familyId);
  }
  if (refreshToken) {
    const [s] = await ctx.db
      .select({ familyId: sessions.familyId })
      .from(sessions)
      .where(eq(sessions.refreshHash, sha256(refreshToken)));
    if (s) families.add(s.familyId);
  }
  for (const f of families) {
    await ctx.db
      .update(sessions)
      .set({ revokedAt: new Date() })
      .where(and(eq(sessions.familyId, f), isNull(sessions.revokedAt)));
  }
  ctx.principals.clear();
}
