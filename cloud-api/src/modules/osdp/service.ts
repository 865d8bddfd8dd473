/**
 * OSDP Secure Channel keys per reader (SPEC CMD-5). The cloud makes each key
 * (16 random bytes), keeps it sealed under the master key (`ctx.sealer`, the
 * way org signing keys and personal data are kept), and sends it to the
 * gate's controller in a signed `osdp_keyset` command, sealed once more to
 * the controller's own X25519 key so the broker never reads it. The
 * controller's status then names the key in use by its id alone: the row
 * turns `active` when that id is the new key's, `failed` when the controller
 * says the keyset did not take. The key is in no answer, audit row or log.
 */
import { randomBytes } from 'node:crypto';
import { osdpKeyId, type Status, sealOsdpKey } from '@gatehouse/protocol';
import { and, eq, inArray } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { osdpReaderKeys } from '../../db/schema.js';
import type { Actor } from '../../lib/audit.js';
import { conflict, notFound } from '../../lib/errors.js';
import { deliverCommands, type QueuedCommand, queueCommand, requireGate } from '../gates/service.js';

/** A keyset may take a while to reach a controller that reconnects; after this it is dropped (CMD-2) and resend is the way. */
const KEYSET_TTL_MS = 5 * 60_000;

type Row = typeof osdpReaderKeys.$inferSelect;

/** Binds a sealed key to its gate and reader: a ciphertext moved to another row does not open. */
const atRestAad = (gateId: string, reader: string) => `osdp_reader_keys.scbk:${gateId}:${reader}`;

function openKey(ctx: AppContext, row: Row): Buffer {
  return Buffer.from(ctx.sealer.open(row.scbkEnc, atRestAad(row.gateId, row.reader)), 'hex');
}

const view = (ctx: AppContext, row: Row) => ({
  reader: row.reader,
  status: row.status,
  keyId: osdpKeyId(openKey(ctx, row)),
  updatedAt: row.updatedAt.toISOString(),
});

/** The gate's controller as a keyset needs it, or a 409 that says what is missing. */
function controllerOf(gate: { deviceId: string | null; deviceSealKey: string | null }): { deviceId: string; sealKey: string } {
  if (!gate.deviceId) throw conflict('no controller is enrolled as this gate');
  // SEAL-5: a controller without a seal key is sent no secret, so it cannot be given a reader key either.
  if (!gate.deviceSealKey) throw conflict('the controller enrolled without a seal key: enroll it again to set reader keys');
  return { deviceId: gate.deviceId, sealKey: gate.deviceSealKey };
}

/**
 * Queues the keyset in the caller's transaction like any gate command (its row gives the seq the edge
 * checks, CMD-3, and the audit row names the key by id alone); the key travels sealed to the controller
 * in the queued command's memory, never in its row. `deliverCommands` sends it after the commit.
 */
async function queueKeyset(
  tx: Executor,
  actor: Actor,
  gate: { id: string; deviceId: string | null; deviceSealKey: string | null },
  reader: string,
  scbk: Buffer,
  action: 'gate.osdp_key.set' | 'gate.osdp_key.resend',
): Promise<QueuedCommand> {
  const { deviceId, sealKey } = controllerOf(gate);
  const cmd = await queueCommand(
    tx,
    actor,
    gate.id,
    { type: 'osdp_keyset', ttlMs: KEYSET_TTL_MS },
    { action, data: { reader, keyId: osdpKeyId(scbk) } },
  );
  return { ...cmd, keyset: { reader, ...sealOsdpKey(sealKey, deviceId, reader, scbk) } };
}

/** POST /gates/:id/osdp-keys: a new key for the reader, sealed at rest, pending until the controller reports it in use. */
export async function setOsdpKey(ctx: AppContext, actor: Actor, gateId: string, reader: string) {
  const scbk = randomBytes(16);
  const out = await ctx.db.transaction(async (tx) => {
    const gate = await requireGate(tx, actor.orgId, gateId);
    const keyset = await queueKeyset(tx, actor, gate, reader, scbk, 'gate.osdp_key.set');
    const now = new Date();
    const scbkEnc = ctx.sealer.seal(scbk.toString('hex'), atRestAad(gateId, reader));
    const [row] = await tx
      .insert(osdpReaderKeys)
      .values({ gateId, reader, orgId: actor.orgId, scbkEnc, status: 'pending', createdBy: actor.userId, updatedBy: actor.userId })
      .onConflictDoUpdate({
        target: [osdpReaderKeys.gateId, osdpReaderKeys.reader],
        set: { scbkEnc, status: 'pending', updatedAt: now, updatedBy: actor.userId },
      })
      .returning();
    return { row: row!, keyset };
  });
  const [status] = await deliverCommands(ctx, actor.orgId, [out.keyset]);
  return { ...view(ctx, out.row), command: { id: out.keyset.id, status: status! } };
}

/** POST /gates/:id/osdp-keys/:reader/resend: the stored key again, sealed to the gate's controller as it is now. */
export async function resendOsdpKey(ctx: AppContext, actor: Actor, gateId: string, reader: string) {
  const out = await ctx.db.transaction(async (tx) => {
    const gate = await requireGate(tx, actor.orgId, gateId);
    const [found] = await tx
      .select()
      .from(osdpReaderKeys)
      .where(and(eq(osdpReaderKeys.gateId, gateId), eq(osdpReaderKeys.orgId, actor.orgId), eq(osdpReaderKeys.reader, reader)))
      .for('update');
    if (!found) throw notFound('osdp reader key');
    const keyset = await queueKeyset(tx, actor, gate, reader, openKey(ctx, found), 'gate.osdp_key.resend');
    const [row] = await tx
      .update(osdpReaderKeys)
      .set({ status: 'pending', updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(osdpReaderKeys.gateId, gateId), eq(osdpReaderKeys.reader, reader)))
      .returning();
    return { row: row!, keyset };
  });
  const [status] = await deliverCommands(ctx, actor.orgId, [out.keyset]);
  return { ...view(ctx, out.row), command: { id: out.keyset.id, status: status! } };
}

/** GET /gates/:id/osdp-keys. */
export async function listOsdpKeys(ctx: AppContext, orgId: string, gateId: string) {
  await requireGate(ctx.db, orgId, gateId);
  const rows = await ctx.db
    .select()
    .from(osdpReaderKeys)
    .where(and(eq(osdpReaderKeys.gateId, gateId), eq(osdpReaderKeys.orgId, orgId)))
    .orderBy(osdpReaderKeys.reader);
  return { items: rows.map((r) => view(ctx, r)), nextCursor: null };
}

/**
 * A controller's status (MSG-3): a reader that reports the id of its pending (or failed) key in use has it:
 * `active`; one that reports that key's keyset failed: `failed`. Statuses without key ids cost no query.
 */
export async function osdpKeysReported(
  ctx: AppContext,
  device: { orgId: string; gateId: string },
  hardware: Status['hardware'],
): Promise<void> {
  const reported = hardware.filter((h) => h.keyId || h.keyFailed);
  if (reported.length === 0) return;
  const rows = await ctx.db
    .select()
    .from(osdpReaderKeys)
    .where(
      and(
        eq(osdpReaderKeys.gateId, device.gateId),
        eq(osdpReaderKeys.orgId, device.orgId),
        inArray(osdpReaderKeys.status, ['pending', 'failed']),
        inArray(
          osdpReaderKeys.reader,
          reported.map((h) => h.name),
        ),
      ),
    );
  for (const row of rows) {
    const h = reported.find((e) => e.name === row.reader);
    const keyId = osdpKeyId(openKey(ctx, row));
    // A failed keyset may still have taken (no reply to KEYSET leaves the key pending on the edge): in use wins.
    const next = h?.keyId === keyId ? 'active' : row.status === 'pending' && h?.keyFailed?.keyId === keyId ? 'failed' : null;
    if (!next) continue;
    // Only the row as read: a key made meanwhile (another scbk_enc) is not marked by this status.
    await ctx.db
      .update(osdpReaderKeys)
      .set({ status: next, updatedAt: new Date() })
      .where(
        and(
          eq(osdpReaderKeys.gateId, row.gateId),
          eq(osdpReaderKeys.reader, row.reader),
          eq(osdpReaderKeys.scbkEnc, row.scbkEnc),
          eq(osdpReaderKeys.status, row.status),
        ),
      );
  }
}
