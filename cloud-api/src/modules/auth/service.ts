import { uuidv7 } from '@gatehouse/protocol';
import { and, eq, gt, inArray, isNull } from 'drizzle-orm';
import type { AppContext, Principal } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { LANGUAGES, type Language, organizations, sessions, userRoles, users } from '../../db/schema.js';
import { type Actor, emailDigest, NO_ORG, writeAudit } from '../../lib/audit.js';
import { randomToken, sha256 } from '../../lib/crypto.js';
import { HttpError, unauthorized } from '../../lib/errors.js';
import { emailHashes, openUser, userPersonalColumns } from '../orgs/personal-data.js';

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

async function rolesOf(db: Executor, userId: string): Promise<string[]> {
  const rows = await db.select({ role: userRoles.role }).from(userRoles).where(eq(userRoles.userId, userId));
  return rows.map((r) => r.role);
}

/** The column is free text; only a language the console speaks is answered. */
const asLanguage = (v: string | null | undefined): Language | null =>
  (LANGUAGES as readonly unknown[]).includes(v) ? (v as Language) : null;

async function languageOf(db: Executor, userId: string): Promise<Language | null> {
  const [row] = await db.select({ language: users.language }).from(users).where(eq(users.id, userId));
  return asLanguage(row?.language);
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
    // The language rides along, so the console speaks it from the first screen after sign-in.
    user: { id: user.id, orgId: user.orgId, email: user.email, roles: await rolesOf(db, user.id), language: await languageOf(db, user.id) },
  };
}

/** `GET /api/auth/me`: who the token belongs to, with their profile language. */
export async function me(ctx: AppContext, p: Principal) {
  return { id: p.userId, orgId: p.orgId, email: p.email, roles: p.roles, language: await languageOf(ctx.db, p.userId) };
}

/** A user sets their own language (null: follow the browser); audited as `user.language`. */
export async function setOwnLanguage(ctx: AppContext, actor: Actor, p: Principal, language: Language | null) {
  await ctx.db.transaction(async (tx) => {
    const own = and(eq(users.id, p.userId), eq(users.orgId, p.orgId), isNull(users.deletedAt));
    const [before] = await tx.select({ language: users.language }).from(users).where(own);
    if (!before) throw unauthorized('no such user');
    await tx.update(users).set({ language, updatedAt: new Date(), updatedBy: p.userId }).where(own);
    await writeAudit(tx, actor, {
      action: 'user.language',
      entityType: 'user',
      entityId: p.userId,
      data: { from: asLanguage(before.language), to: language },
    });
  });
  return me(ctx, p);
}

/** At most this many live accounts share one e-mail (in as many organisations) for a password sign-in to try. */
export const MAX_ACCOUNTS_PER_EMAIL = 5;

/**
 * E-mails are unique per organisation, so one address may name accounts in
 * several. Sign-in tries the password against each (at most
 * MAX_ACCOUNTS_PER_EMAIL, oldest first) and signs in to the one it opens; only
 * when the same password opens several does it ask for `organizationId`
 * (409 organization_required, listing just those organisations: the caller has
 * proven the password of each). Nobody learns from a refusal whether the
 * address exists anywhere.
 */
export async function login(ctx: AppContext, email: string, password: string, client: ClientInfo, organizationId?: string) {
  const found = await ctx.db
    .select({ id: users.id, orgId: users.orgId, ...userPersonalColumns, passwordHash: users.passwordHash, status: users.status })
    .from(users)
    .where(
      and(
        inArray(users.emailHash, emailHashes(ctx.sealer, email)),
        isNull(users.deletedAt),
        organizationId !== undefined ? eq(users.orgId, organizationId) : undefined,
      ),
    )
    .orderBy(users.id)
    .limit(MAX_ACCOUNTS_PER_EMAIL);
  const candidates = found.map((c) => ({ ...c, email: openUser(ctx.sealer, c.id, c).email }));
  const withPassword = candidates.filter((c) => c.passwordHash);
  if (withPassword.length === 0) {
    await ctx.passwords.dummyVerify(password);
    await loginFailed(ctx, client, candidates[0] ?? null, email, 'no_password');
    throw unauthorized('wrong e-mail or password');
  }
  const opened: typeof withPassword = [];
  for (const c of withPassword) if (await ctx.passwords.verify(c.passwordHash!, password)) opened.push(c);
  const active = opened.filter((c) => c.status === 'active');
  if (active.length === 0) {
    for (const c of withPassword) await loginFailed(ctx, client, c, email, opened.includes(c) ? 'disabled' : 'wrong_password');
    throw unauthorized('wrong e-mail or password');
  }
  if (active.length > 1) {
    const orgs = await ctx.db
      .select({ id: organizations.id, name: organizations.name })
      .from(organizations)
      .where(
        inArray(
          organizations.id,
          active.map((c) => c.orgId),
        ),
      );
    throw new HttpError(
      409,
      'organization_required',
      `this e-mail and password open accounts in several organisations; sign in with organizationId, one of: ${orgs
        .map((o) => `${o.id} (${o.name})`)
        .join(', ')}`,
    );
  }
  const user = active[0]!;
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
    const [row] = await tx
      .select({ id: users.id, orgId: users.orgId, ...userPersonalColumns })
      .from(users)
      .where(and(eq(users.id, s.userId), isNull(users.deletedAt), eq(users.status, 'active')));
    if (!row) return null;
    const user = { id: row.id, orgId: row.orgId, email: openUser(ctx.sealer, row.id, row).email };
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
