import { createHmac } from 'node:crypto';
import { uuidv7 } from '@gatehouse/protocol';
import type { FastifyRequest } from 'fastify';
import type { Executor } from '../db/client.js';
import { auditLogs } from '../db/schema.js';
import { deriveKey } from './crypto.js';

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId?: string | null;
  data?: Record<string, unknown>;
}

/** Who asked, from where: taken from the request so every write records it the same way. */
export interface Actor {
  orgId: string;
  /** The user; null for the system and for an application's API key (then `appId` says which). */
  userId: string | null;
  /** The application whose API key acted (its rows get created_by null, its audit rows actor_app_id). */
  appId?: string | null;
  ip: string | null;
  userAgent: string | null;
}

export function actorOf(req: FastifyRequest): Actor {
  const p = req.principal;
  if (!p) throw new Error('actorOf needs an authenticated request');
  const ip = req.ip ?? null;
  const userAgent = req.headers['user-agent']?.slice(0, 500) ?? null;
  // A key's principal carries the application's id as userId: it never lands where a user's id belongs.
  if (p.app) return { orgId: p.orgId, userId: null, appId: p.app.id, ip, userAgent };
  return { orgId: p.orgId, userId: p.userId, appId: null, ip, userAgent };
}

/** Appends one audit row; call inside the transaction of the write it records. */
export async function writeAudit(db: Executor, actor: Actor, e: AuditEntry): Promise<void> {
  await db.insert(auditLogs).values({
    id: uuidv7(),
    orgId: actor.orgId,
    actorId: actor.userId,
    actorAppId: actor.appId ?? null,
    action: e.action,
    entityType: e.entityType,
    entityId: e.entityId ?? null,
    ip: actor.ip,
    userAgent: actor.userAgent,
    data: e.data ?? null,
    createdBy: actor.userId,
    updatedBy: actor.userId,
  });
}

/**
 * The organisation of audit rows that belong to none: a failed sign-in for an
 * e-mail no account has. No organisation's auditors list them; operators
 * find them in the table.
 */
export const NO_ORG = '00000000-0000-0000-0000-000000000000';

/**
 * How an e-mail that names no account is recorded: a keyed hash (HMAC under
 * a subkey of the master key) of its lower-case form. Attempts on one
 * address can be told apart and counted; the address cannot be read back,
 * nor guessed from a list without the key.
 */
export function emailDigest(masterKey: Buffer, email: string): string {
  return createHmac('sha256', deriveKey(masterKey, 'audit/email/v1')).update(email.trim().toLowerCase()).digest('hex');
}
