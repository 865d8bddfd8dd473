import { generateKeyPair, type SigningKey, signingKey, uuidv7 } from '@gatehouse/protocol';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Role } from '../../auth/rbac.js';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { hosts, organizations, userRoles, users } from '../../db/schema.js';
import type { Sealer } from '../../lib/crypto.js';
import { conflict } from '../../lib/errors.js';
import { emailHashes, sealedUser } from './personal-data.js';

export interface NewUser {
  orgId: string;
  email: string;
  fullName: string;
  roles: Role[];
  password?: string | undefined;
  actorId?: string | null;
}

const KEY_AAD = (orgId: string) => `organizations.signing_key:${orgId}`;

/** Creates an organisation with its own Ed25519 signing key, kept encrypted under the master key. */
export async function createOrganization(ctx: AppContext, db: Executor, name: string, actorId: string | null = null) {
  const id = uuidv7();
  const kp = generateKeyPair();
  const [org] = await db
    .insert(organizations)
    .values({
      id,
      orgId: id,
      name,
      signingKid: kp.kid,
      signingPublicKey: kp.publicKey,
      signingKeyEnc: ctx.sealer.seal(kp.privateKey, KEY_AAD(id)),
      createdBy: actorId,
      updatedBy: actorId,
    })
    .returning({
      id: organizations.id,
      name: organizations.name,
      signingKid: organizations.signingKid,
      signingPublicKey: organizations.signingPublicKey,
    });
  return org!;
}

export async function findOrganizationByName(db: Executor, name: string) {
  const [org] = await db
    .select({ id: organizations.id, name: organizations.name })
    .from(organizations)
    .where(and(eq(organizations.name, name), isNull(organizations.deletedAt)));
  return org ?? null;
}

const keyCache = new Map<string, SigningKey>();

/** The org's signing key, decrypted once per process. */
export async function orgSigningKey(ctx: AppContext, orgId: string): Promise<SigningKey> {
  const cached = keyCache.get(orgId);
  if (cached) return cached;
  const [row] = await ctx.db.select({ enc: organizations.signingKeyEnc }).from(organizations).where(eq(organizations.id, orgId));
  if (!row) throw new Error(`organisation ${orgId} has no signing key`);
  const key = signingKey(ctx.sealer.open(row.enc, KEY_AAD(orgId)));
  if (keyCache.size > 1000) keyCache.clear();
  keyCache.set(orgId, key);
  return key;
}

/** Whether a live user of this organisation has the address (other organisations' users are never looked at). */
export async function emailTaken(db: Executor, sealer: Sealer, orgId: string, email: string): Promise<boolean> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.orgId, orgId), inArray(users.emailHash, emailHashes(sealer, email)), isNull(users.deletedAt)));
  return !!row;
}

/** A user with roles; a Host also gets a hosts row, which appointments refer to. */
export async function createUser(ctx: AppContext, db: Executor, u: NewUser) {
  if (await emailTaken(db, ctx.sealer, u.orgId, u.email)) throw conflict('a user with this e-mail exists in this organisation');
  const id = uuidv7();
  const actor = u.actorId ?? null;
  const passwordHash = u.password ? await ctx.passwords.hash(u.password) : null;
  const [user] = await db
    .insert(users)
    .values({ id, orgId: u.orgId, ...sealedUser(ctx.sealer, id, u), passwordHash, createdBy: actor, updatedBy: actor })
    .returning({ id: users.id, orgId: users.orgId, createdAt: users.createdAt });
  const roles = [...new Set(u.roles)];
  if (roles.length)
    await db.insert(userRoles).values(roles.map((role) => ({ userId: id, role, orgId: u.orgId, createdBy: actor, updatedBy: actor })));
  let hostId: string | null = null;
  if (roles.includes('Host')) {
    hostId = uuidv7();
    await db.insert(hosts).values({ id: hostId, orgId: u.orgId, userId: id, createdBy: actor, updatedBy: actor });
  }
  return {
    id: user!.id,
    orgId: user!.orgId,
    email: u.email.trim().toLowerCase(),
    fullName: u.fullName,
    roles,
    hostId,
    createdAt: user!.createdAt.toISOString(),
  };
}
