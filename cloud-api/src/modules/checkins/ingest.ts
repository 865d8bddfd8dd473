/**
 * Ingestion of a gate's check-ins, as the cloud's MQTT link does it for every
 * event batch (and as tests drive it without a broker): store the batch and
 * the site-wide presence it implies (one transaction), hand the new rows — with the visitor's and host's names —
 * to the live feed, then carry admitted passages into the visitors' journeys
 * and tell hosts of arrivals (arrivals/service.ts).
 */
import type { CheckinEvent } from '@gatehouse/protocol';
import type { AppContext } from '../../context.js';
import type { EventBus } from '../../lib/events.js';
import { type AlarmChange, publishAlarms, raiseAlarms } from '../alarms/service.js';
import { type JourneyResult, journeyMoves, recordJourney, storedMoves } from '../arrivals/service.js';
import { announcePresence, recordPresence } from '../presence/service.js';
import { emitEvents, subscribed, type WebhookEvent } from '../webhooks/emit.js';
import { type CheckinView, checkinView, insertCheckins, openNames, type StoredCheckin } from './service.js';

export interface Ingested {
  /** The rows that were new, shaped as GET /api/admin/checkins lists them (every name opened). */
  fresh: CheckinView[];
  journey: JourneyResult;
  /**
   * Why the journey step failed, if it did. The check-ins are stored either way: ingestion is never
   * held hostage by a notification; the caller logs it. (A redelivered batch carries the journey
   * through again: see `storedMoves`.)
   */
  journeyError: unknown;
}

export interface IngestOptions {
  /** Called with the new rows as soon as they are committed, before the journey step: the live feed does not wait for it. */
  onStored?: (fresh: CheckinView[]) => void;
}

/**
 * What the live feed shows of new check-ins, once they are committed. (The alarms they raise are
 * published by ingestion itself: alarms/service.ts `publishAlarms`.)
 */
export function publishCheckins(bus: EventBus, orgId: string, fresh: readonly CheckinView[]): void {
  for (const data of fresh) bus.publish(orgId, { type: 'checkin.created', data });
}

export async function ingestCheckins(
  ctx: AppContext,
  gate: { orgId: string; siteId: string; gateId?: string; deviceId: string | null },
  events: readonly CheckinEvent[],
  opts: IngestOptions = {},
): Promise<Ingested> {
  const hooks = await subscribed(ctx, gate.orgId, 'visitpass.checked_in');
  // One transaction: the rows, the presence they imply (SYNC-3), the alarms they raise and the webhook events commit
  // together or not at all, so a redelivered batch (nothing new to insert) can never count a pass twice nor miss it.
  // A batch that can do none of that (no counted entry, no alert or alarm, nobody subscribed) stays one INSERT.
  if (!hooks && !events.some(movesOrAlarms)) {
    const stored = await insertCheckins(ctx.db, gate, events);
    return finish(ctx, gate, events, stored, opts);
  }
  const { stored, presence, alarmed } = await ctx.db.transaction(async (tx) => {
    const rows = await insertCheckins(tx, gate, events);
    const presence = await recordPresence(
      tx,
      gate,
      rows.map((s) => s.row),
    );
    if (hooks) await emitEvents(ctx, tx, gate.orgId, webhookEvents(rows));
    // ALARM-1: from the new rows only, so a redelivered batch raises nothing twice.
    const alarmed = await raiseAlarms(
      ctx,
      tx,
      gate,
      rows.map((s) => s.row),
      events,
    );
    return { stored: rows, presence, alarmed };
  });
  if (presence) announcePresence(ctx, gate.orgId, presence, 'checkin');
  return finish(ctx, gate, events, stored, opts, alarmed);
}

/** An event that moves a pass's presence (DEC-12 `counted`) or raises an alarm (ALARM-1, DEC-11 soft alert). */
const movesOrAlarms = (e: CheckinEvent) => e.counted === true || e.alert !== undefined || e.type === 'forced' || e.type === 'alarm';

/** After the commit: the live feed, then the visitors' journeys (never failing the ingestion). */
async function finish(
  ctx: AppContext,
  gate: { orgId: string },
  events: readonly CheckinEvent[],
  stored: StoredCheckin[],
  opts: IngestOptions,
  alarmed: AlarmChange[] = [],
): Promise<Ingested> {
  const fresh = stored.map((s) => checkinView(s.row, openNames(ctx.sealer, s.names)));
  opts.onStored?.(fresh);
  publishAlarms(ctx, gate.orgId, alarmed);
  const none: JourneyResult = { arrivals: [], moved: [] };
  try {
    let moves = journeyMoves(stored);
    if (stored.length < events.length) {
      const freshIds = new Set(fresh.map((f) => f.id));
      moves = moves.concat(
        await storedMoves(
          ctx.db,
          gate.orgId,
          events.filter((e) => !freshIds.has(e.id)),
        ),
      );
    }
    return { fresh, journey: await recordJourney(ctx, gate.orgId, moves), journeyError: null };
  } catch (err) {
    return { fresh, journey: none, journeyError: err };
  }
}

/**
 * The webhook events of newly stored check-ins (a batch delivered again raises none twice): an
 * admitted attempt with a pass is `visitpass.checked_in`. (`alarm.raised` comes from the alarms
 * the same rows raise, in the same transaction: alarms/service.ts `raiseAlarms`.)
 */
function webhookEvents(stored: readonly StoredCheckin[]): WebhookEvent[] {
  const out: WebhookEvent[] = [];
  for (const { row } of stored) {
    const occurredAt = row.occurredAt.toISOString();
    if (row.allow && row.passId && row.type === 'attempt')
      out.push({
        type: 'visitpass.checked_in',
        at: row.occurredAt,
        data: {
          checkinId: row.id,
          passId: row.passId,
          gateId: row.gateId,
          siteId: row.siteId,
          type: row.type,
          direction: row.direction,
          credentialKind: row.credentialKind,
          occurredAt,
        },
      });
  }
  return out;
}
