import { randomInt } from 'node:crypto';
import { keyFingerprint, type UpdateJob, uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, inArray, isNull, lt } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { enrollmentCodes, gateCommands, gates, organizations } from '../../db/schema.js';

/** How long a command may take to reach its gate before the gate must ignore it. */
const COMMAND_TTL_MS = 30_000;

import { type Actor, writeAudit } from '../../lib/audit.js';
import { sha256 } from '../../lib/crypto.js';
import { notFound, unprocessable } from '../../lib/errors.js';
import { decodeCursor, iso, page, pageLimit } from '../../lib/pagination.js';
import { requireSite } from '../sites/service.js';
import { emitEvent } from '../webhooks/emit.js';
import { gateStatusData } from '../webhooks/events.js';
import { requireZone } from '../zones/service.js';

type Row = typeof gates.$inferSelect;
export const gateView = (r: Row) => ({
  id: r.id,
  orgId: r.orgId,
  siteId: r.siteId,
  zoneId: r.zoneId,
  name: r.name,
  direction: r.direction,
  lockdown: r.lockdown,
  emergency: r.emergency,
  disabled: r.disabledAt !== null,
  deviceId: r.deviceId,
  online: r.online,
  lastSeenAt: iso(r.lastSeenAt),
  cacheSeq: r.cacheSeq,
  outboxDepth: r.outboxDepth,
  version: r.version,
  ...(r.clockSkewMs === null ? {} : { clockSkewMs: r.clockSkewMs }),
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

export const ENROLLMENT_TTL_MS = 24 * 3600 * 1000;

async function checkPlacement(db: Executor, orgId: string, siteId: string, zoneId: string) {
  await requireSite(db, orgId, siteId);
  const zone = await requireZone(db, orgId, zoneId);
  if (zone.siteId !== siteId) throw unprocessable('the zone is not in that site');
}

export async function createGate(
  ctx: AppContext,
  actor: Actor,
  body: { siteId: string; zoneId: string; name: string; direction: 'in' | 'out' | 'both' },
) {
  return ctx.db.transaction(async (tx) => {
    await checkPlacement(tx, actor.orgId, body.siteId, body.zoneId);
    const [row] = await tx
      .insert(gates)
      .values({ id: uuidv7(), orgId: actor.orgId, ...body, createdBy: actor.userId, updatedBy: actor.userId })
      .returning();
    await writeAudit(tx, actor, { action: 'gate.create', entityType: 'gate', entityId: row!.id, data: body });
    return gateView(row!);
  });
}

export async function requireGate(db: Executor, orgId: string, id: string) {
  const [row] = await db
    .select()
    .from(gates)
    .where(and(eq(gates.id, id), eq(gates.orgId, orgId), isNull(gates.deletedAt)));
  if (!row) throw notFound('gate');
  return row;
}

export async function listGates(ctx: AppContext, orgId: string, q: { limit?: number; cursor?: string; siteId?: string; zoneId?: string }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(gates)
    .where(
      and(
        eq(gates.orgId, orgId),
        isNull(gates.deletedAt),
        q.siteId ? eq(gates.siteId, q.siteId) : undefined,
        q.zoneId ? eq(gates.zoneId, q.zoneId) : undefined,
        cursor ? lt(gates.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(gates.id))
    .limit(pageLimit(limit + 1));
  return page(rows.map(gateView), limit);
}

export async function getGate(ctx: AppContext, orgId: string, id: string) {
  return gateView(await requireGate(ctx.db, orgId, id));
}

/**
 * Tells the broker, after the commit, that a controller lost its access (or
 * got it back). Every cloud instance also hears of a loss from the database
 * (the gates trigger of migration 0004) and stops serving the device; this is
 * the broker's half: its session closed, its login refused. A broker that
 * cannot be told now is caught up when this instance next connects to it.
 */
export async function tellBroker(ctx: AppContext, deviceId: string | null, change: 'delete' | 'disable' | 'enable'): Promise<void> {
  const access = ctx.sync?.access;
  if (!deviceId || !access) return;
  if (change === 'enable') await access.restore(deviceId);
  else await access.revoke(deviceId, change);
}

export async function updateGate(
  ctx: AppContext,
  actor: Actor,
  id: string,
  patch: { zoneId?: string; name?: string; direction?: 'in' | 'out' | 'both'; disabled?: boolean },
) {
  const { disabled, ...fields } = patch;
  const out = await ctx.db.transaction(async (tx) => {
    const gate = await requireGate(tx, actor.orgId, id);
    if (patch.zoneId) await checkPlacement(tx, actor.orgId, gate.siteId, patch.zoneId);
    const now = new Date();
    const toggled = disabled !== undefined && disabled !== (gate.disabledAt !== null);
    const [row] = await tx
      .update(gates)
      .set({
        ...fields,
        // A disabled controller's session is closed: it is offline from now on, whatever its last status said.
        ...(toggled ? { disabledAt: disabled ? now : null, ...(disabled ? { online: false } : {}) } : {}),
        updatedAt: now,
        updatedBy: actor.userId,
      })
      .where(and(eq(gates.id, id), eq(gates.orgId, actor.orgId)))
      .returning();
    await writeAudit(tx, actor, { action: 'gate.update', entityType: 'gate', entityId: id, data: patch });
    return { view: gateView(row!), toggled, deviceId: gate.deviceId };
  });
  if (out.toggled) await tellBroker(ctx, out.deviceId, disabled ? 'disable' : 'enable');
  return out.view;
}

export async function deleteGate(ctx: AppContext, actor: Actor, id: string) {
  const deviceId = await ctx.db.transaction(async (tx) => {
    const gate = await requireGate(tx, actor.orgId, id);
    // Soft: check-ins keep pointing at the gate they happened at.
    await tx
      .update(gates)
      .set({ deletedAt: new Date(), online: false, updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(gates.id, id), eq(gates.orgId, actor.orgId)));
    await writeAudit(tx, actor, { action: 'gate.delete', entityType: 'gate', entityId: id });
    return gate.deviceId;
  });
  await tellBroker(ctx, deviceId, 'delete');
}

/** Human-typable one-time code: 4 groups of 4 from an alphabet without look-alikes. */
function enrollmentCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let s = '';
  for (let i = 0; i < 16; i++) s += alphabet[randomInt(alphabet.length)];
  return s.match(/.{4}/g)!.join('-');
}

export function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

export async function createEnrollment(ctx: AppContext, actor: Actor, gateId: string) {
  return ctx.db.transaction(async (tx) => {
    await requireGate(tx, actor.orgId, gateId);
    const code = enrollmentCode();
    const expiresAt = new Date(Date.now() + ENROLLMENT_TTL_MS);
    await tx.insert(enrollmentCodes).values({
      id: uuidv7(),
      orgId: actor.orgId,
      gateId,
      codeHash: sha256(normaliseCode(code)),
      expiresAt,
      createdBy: actor.userId,
      updatedBy: actor.userId,
    });
    await writeAudit(tx, actor, {
      action: 'gate.enrollment_create',
      entityType: 'gate',
      entityId: gateId,
      data: { expiresAt: expiresAt.toISOString() },
    });
    // What the controller will print when it enrolls: compared, they reveal a man in the middle at enrollment.
    const [org] = await tx
      .select({ publicKey: organizations.signingPublicKey })
      .from(organizations)
      .where(eq(organizations.id, actor.orgId));
    return { code, expiresAt: expiresAt.toISOString(), orgKeyFingerprint: keyFingerprint(org!.publicKey) };
  });
}

export type CommandType = 'open' | 'lockdown' | 'release' | 'emergency' | 'osdp_keyset' | 'update';

/** A command recorded in a transaction, to be delivered after it commits. */
export interface QueuedCommand {
  id: string;
  seq: number;
  gateId: string;
  type: CommandType;
  reason: string | null;
  expiresAt: Date;
  /**
   * CMD-5 (`osdp_keyset`): the reader and its key sealed to the controller. Held in memory between the
   * commit and delivery only — never in the `gate_commands` row or the audit row.
   */
  keyset?: { reader: string; epk: string; secret: string };
  /** CMD-6 (`update`): the release to install; rebuilt from the job when the command is sent again. */
  update?: UpdateJob;
}

/**
 * Records a command to a gate inside the caller's transaction (audit row and
 * `gate_commands` row); `deliverCommands` sends it once that has committed.
 * The gate's own flags are the caller's to set.
 */
export async function queueCommand(
  tx: Executor,
  actor: Actor,
  gateId: string,
  c: { type: CommandType; reason?: string | null; ttlMs?: number },
  audit: { action: string; data?: Record<string, unknown> } = { action: `gate.command.${c.type}` },
): Promise<QueuedCommand> {
  const id = uuidv7();
  const reason = c.reason ?? null;
  await writeAudit(tx, actor, {
    action: audit.action,
    entityType: 'gate',
    entityId: gateId,
    data: { commandId: id, reason, ...audit.data },
  });
  const expiresAt = new Date(Date.now() + (c.ttlMs ?? COMMAND_TTL_MS));
  const [cmd] = await tx
    .insert(gateCommands)
    .values({
      id,
      orgId: actor.orgId,
      gateId,
      type: c.type,
      reason,
      status: 'queued',
      expiresAt,
      createdBy: actor.userId,
      updatedBy: actor.userId,
    })
    .returning({ seq: gateCommands.seq });
  return { id, seq: cmd!.seq, gateId, type: c.type, reason, expiresAt };
}

/**
 * Sends committed commands, signed, with an expiry: a door must not open
 * minutes late after a reconnect (CMD-2). Lockdown, emergency and release
 * also travel as the gate record's flags through sync, so they survive an
 * offline edge. Answers each command's status, in order.
 */
export async function deliverCommands(ctx: AppContext, orgId: string, cmds: readonly QueuedCommand[]): Promise<('sent' | 'queued')[]> {
  const link = ctx.sync?.link;
  const sent = await Promise.all(
    cmds.map(async (c) =>
      link
        ? link
            .sendCommand({
              id: c.id,
              seq: c.seq,
              orgId,
              gateId: c.gateId,
              type: c.type,
              reason: c.reason,
              expiresAt: c.expiresAt.getTime(),
              ...(c.keyset ? { keyset: c.keyset } : {}),
              ...(c.update ? { update: c.update } : {}),
            })
            .catch(() => false)
        : false,
    ),
  );
  const ids = cmds.filter((_, i) => sent[i]).map((c) => c.id);
  if (ids.length) await ctx.db.update(gateCommands).set({ status: 'sent', updatedAt: new Date() }).where(inArray(gateCommands.id, ids));
  return sent.map((s) => (s ? 'sent' : 'queued'));
}

/**
 * Records a command. lockdown/release take effect on the gate row at once (so
 * `check` answers accordingly and the next sync carries it); delivery to the
 * controller over MQTT belongs to the broker link.
 */
export async function createCommand(
  ctx: AppContext,
  actor: Actor,
  gateId: string,
  body: { type: 'open' | 'lockdown' | 'release'; reason?: string },
) {
  const out = await ctx.db.transaction(async (tx) => {
    const before = await requireGate(tx, actor.orgId, gateId);
    let changed: ReturnType<typeof gateView> | null = null;
    if (body.type !== 'open' && before.lockdown !== (body.type === 'lockdown')) {
      const [row] = await tx
        .update(gates)
        .set({ lockdown: body.type === 'lockdown', updatedAt: new Date(), updatedBy: actor.userId })
        .where(and(eq(gates.id, gateId), eq(gates.orgId, actor.orgId)))
        .returning();
      changed = gateView(row!);
      await emitEvent(ctx, tx, actor.orgId, 'gate.status_changed', gateStatusData(row!));
    }
    return { cmd: await queueCommand(tx, actor, gateId, body), changed };
  });
  if (out.changed) ctx.events.publish(actor.orgId, { type: 'gate.status_changed', data: out.changed });
  const [status] = await deliverCommands(ctx, actor.orgId, [out.cmd]);
  return { id: out.cmd.id, status: status! };
}
