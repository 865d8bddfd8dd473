/**
 * Site lockdown and emergency release (SPEC CMD-4, issue item 6): one call
 * puts every gate of a site into lockdown (every attempt denied) or releases
 * every gate for evacuation (relays held open), and `normal` ends either.
 *
 * Two paths, as for a single gate's command: the gates' `lockdown` /
 * `emergency` flags change in the same transaction and travel to the edges as
 * `gate` sync changes (an offline controller takes the state up when it
 * reconnects), and a signed short-lived command per enrolled gate makes the
 * online ones act within a second.
 */

import { and, eq, isNull } from 'drizzle-orm';
import type { Permission } from '../../auth/rbac.js';
import type { AppContext } from '../../context.js';
import { gates, sites } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { badRequest, forbidden } from '../../lib/errors.js';
import { syncChanges } from '../../sync/schema.js';
import { type CommandType, deliverCommands, gateView, type QueuedCommand, queueCommand } from '../gates/service.js';
import { emitEvents } from '../webhooks/emit.js';
import { gateStatusData } from '../webhooks/events.js';
import { requireSite, type siteView, siteViews } from './service.js';

export type SiteMode = (typeof sites.$inferSelect)['mode'];

/** The permission each mode needs, to enter it and to end it: a lockdown and an evacuation are separate powers. */
export const MODE_PERMISSION: Record<Exclude<SiteMode, 'normal'>, Permission> = {
  lockdown: 'sites:lockdown',
  emergency: 'sites:emergency',
};

const COMMAND_OF: Record<SiteMode, CommandType> = { lockdown: 'lockdown', emergency: 'emergency', normal: 'release' };

export interface ModeResult {
  site: ReturnType<typeof siteView>;
  gates: { gateId: string; commandId: string | null; status: 'sent' | 'queued' | 'not_enrolled' }[];
}

/**
 * Sets a site's mode. `may` says whether the caller holds a permission: ending
 * a mode (`normal`) needs the permission of the mode being ended, which only
 * the site's current state tells, so it is checked here under the site's row
 * lock rather than by the route alone.
 */
export async function setSiteMode(
  ctx: AppContext,
  actor: Actor,
  siteId: string,
  mode: SiteMode,
  reason: string,
  may: (p: Permission) => boolean,
): Promise<ModeResult> {
  const why = reason.trim();
  if (!why) throw badRequest('a reason is required');
  const out = await ctx.db.transaction(async (tx) => {
    await requireSite(tx, actor.orgId, siteId);
    // Serialises two guards pressing at once: the later one sees the earlier one's mode.
    const [before] = await tx.select().from(sites).where(eq(sites.id, siteId)).for('update');
    const ending = mode === 'normal' ? before!.mode : mode;
    if (ending !== 'normal' && !may(MODE_PERMISSION[ending]))
      throw forbidden(`${mode === 'normal' ? 'ending' : 'entering'} ${ending} needs ${MODE_PERMISSION[ending]}`);
    const now = new Date();
    const [site] = await tx
      .update(sites)
      .set({ mode, modeReason: why, modeChangedAt: now, modeChangedBy: actor.userId, updatedAt: now, updatedBy: actor.userId })
      .where(and(eq(sites.id, siteId), eq(sites.orgId, actor.orgId)))
      .returning();
    const siteGates = and(eq(gates.orgId, actor.orgId), eq(gates.siteId, siteId), isNull(gates.deletedAt));
    const wasLocked = new Map(
      (await tx.select({ id: gates.id, lockdown: gates.lockdown }).from(gates).where(siteGates)).map((g) => [g.id, g.lockdown]),
    );
    const changed = await tx
      .update(gates)
      .set({ lockdown: mode === 'lockdown', emergency: mode === 'emergency', updatedAt: now, updatedBy: actor.userId })
      .where(siteGates)
      .returning();
    await writeAudit(tx, actor, {
      action: `site.${mode}`,
      entityType: 'site',
      entityId: siteId,
      data: { reason: why, from: before!.mode, gates: changed.length },
    });
    // Webhooks: no reason (free text) leaves; a gate's lockdown flipping is a gate.status_changed as for one gate's command.
    await emitEvents(ctx, tx, actor.orgId, [
      {
        type: 'site.mode_changed',
        data: {
          siteId,
          mode,
          previousMode: before!.mode,
          gateIds: changed.map((g) => g.id),
          changedBy: actor.userId,
          changedAt: now.toISOString(),
        },
      },
      ...changed
        .filter((g) => wasLocked.get(g.id) !== g.lockdown)
        .map((g) => ({ type: 'gate.status_changed' as const, data: gateStatusData(g, now) })),
    ]);
    // Each enrolled gate's command is audited on the gate (and that row queues its `gate` sync change, drizzle/0003);
    // a gate with no controller yet gets its change directly, for the other edges of the site that cache it.
    const cmds: QueuedCommand[] = [];
    for (const g of changed)
      if (g.deviceId && !g.disabledAt)
        cmds.push(
          await queueCommand(
            tx,
            actor,
            g.id,
            { type: COMMAND_OF[mode], reason: why },
            { action: `gate.command.${COMMAND_OF[mode]}`, data: { siteMode: mode } },
          ),
        );
    const idle = changed.filter((g) => !cmds.some((c) => c.gateId === g.id));
    if (idle.length)
      await tx.insert(syncChanges).values(idle.map((g) => ({ orgId: actor.orgId, siteId, entity: 'gate' as const, entityId: g.id })));
    return { site: site!, changed, cmds };
  });
  const statuses = await deliverCommands(ctx, actor.orgId, out.cmds);
  // The commands are on their way; the flags follow by the next sweep, now rather than in up to 200 ms.
  void ctx.sync?.link.sweep();
  const view = (await siteViews(ctx.db, ctx.sealer, actor.orgId, [out.site]))[0]!;
  ctx.events.publish(actor.orgId, { type: 'site.mode_changed', data: view });
  for (const g of out.changed) ctx.events.publish(actor.orgId, { type: 'gate.status_changed', data: gateView(g) });
  return {
    site: view,
    gates: out.changed.map((g) => {
      const i = out.cmds.findIndex((c) => c.gateId === g.id);
      const c = out.cmds[i];
      return c
        ? { gateId: g.id, commandId: c.id, status: statuses[i]! }
        : { gateId: g.id, commandId: null, status: 'not_enrolled' as const };
    }),
  };
}
