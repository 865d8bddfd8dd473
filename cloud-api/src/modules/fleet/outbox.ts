/**
 * The cloud's watch over each controller's outbox (issue 16, fleet health): the
 * `outbox_growing` alarm. An edge keeps every check-in in a durable outbox until
 * the cloud acks it; while it is online the outbox should drain within a status
 * or two. One that keeps growing while the link is up means events are not
 * reaching the cloud (the broker refuses them, the ingest drops them, the disk
 * is slow): the gate still decides, but the history, presence and muster fall
 * behind — a guard or admin must look.
 *
 * Judged on each status of an online controller, in the transaction that
 * writes it, from three columns of `gates`:
 *   - `outbox_rises`: statuses in a row whose outbox grew; one that shrank
 *     resets it, one that stayed level keeps it (not draining either);
 *   - `outbox_high_since`: since when it has stayed at or above the depth
 *     threshold;
 *   - `outbox_alarm_at`: when the condition was raised (null: not alarming).
 * Raised when either rule holds (OUTBOX_ALARM_RISES statuses rising, or at or
 * above OUTBOX_ALARM_DEPTH for OUTBOX_ALARM_S); marked gone when the outbox
 * is draining (smaller than in the status before and under the depth
 * threshold) or empty. A status while offline (the last will) changes
 * nothing: an offline edge's outbox grows by design and `controller_offline`
 * covers it; back online, the rise count starts again from that status.
 */
import type { AlarmsConfig } from '../../config.js';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { gates } from '../../db/schema.js';
import { type AlarmChange, cloudConditionChanged } from '../alarms/service.js';

export interface OutboxWatch {
  depth: number;
  rises: number;
  highSince: Date | null;
  alarmAt: Date | null;
  online: boolean;
}

export interface OutboxVerdict {
  rises: number;
  highSince: Date | null;
  alarmAt: Date | null;
  /** The condition began with this status: raise `outbox_growing`. */
  raise: boolean;
  /** The condition ended with this status: mark its alarm gone. */
  clear: boolean;
  /** What the alarm says of it, when raised. */
  detail: string | null;
}

type Rules = Pick<AlarmsConfig, 'outboxAlarmRises' | 'outboxAlarmDepth' | 'outboxAlarmSeconds'>;

/** The next state of the watch after a status reporting `depth` (`online` or its last will), at `now`. */
export function judgeOutbox(prev: OutboxWatch, status: { online: boolean; depth: number }, now: Date, rules: Rules): OutboxVerdict {
  const keep = { rises: prev.rises, highSince: prev.highSince, alarmAt: prev.alarmAt, raise: false, clear: false, detail: null };
  if (!status.online) return keep;
  const depth = status.depth;
  // The first status after a reconnect compares with nothing: what piled up offline is not "growing".
  const rises = !prev.online ? 0 : depth > prev.depth ? prev.rises + 1 : depth < prev.depth ? 0 : prev.rises;
  const highSince = depth >= rules.outboxAlarmDepth ? (prev.online && prev.highSince ? prev.highSince : now) : null;
  const risingTooLong = rules.outboxAlarmRises > 0 && rises >= rules.outboxAlarmRises;
  const highTooLong = highSince !== null && now.getTime() - highSince.getTime() >= rules.outboxAlarmSeconds * 1000;
  if (prev.alarmAt) {
    const draining = depth === 0 || (prev.online && depth < prev.depth && depth < rules.outboxAlarmDepth);
    return draining
      ? { rises, highSince, alarmAt: null, raise: false, clear: true, detail: null }
      : { rises, highSince, alarmAt: prev.alarmAt, raise: false, clear: false, detail: null };
  }
  if (!risingTooLong && !highTooLong) return { rises, highSince, alarmAt: null, raise: false, clear: false, detail: null };
  const detail = risingTooLong
    ? `outbox ${depth} records, grown over ${rises} statuses in a row without draining`
    : `outbox ${depth} records, at or above ${rules.outboxAlarmDepth} for ${Math.round((now.getTime() - highSince!.getTime()) / 1000)} s`;
  return { rises, highSince, alarmAt: now, raise: true, clear: false, detail };
}

/** The columns of `gates` the watch reads before a status is written. */
export const outboxWatchColumns = {
  online: gates.online,
  outboxDepth: gates.outboxDepth,
  outboxRises: gates.outboxRises,
  outboxHighSince: gates.outboxHighSince,
  outboxAlarmAt: gates.outboxAlarmAt,
};

/**
 * Judges a status in `tx` (the transaction that writes it, with the gate row locked): returns the columns to
 * write with it and the alarm changes to publish after the commit.
 */
export async function watchOutbox(
  ctx: AppContext,
  tx: Executor,
  gate: { orgId: string; siteId: string; gateId: string },
  before: { online: boolean; outboxDepth: number; outboxRises: number; outboxHighSince: Date | null; outboxAlarmAt: Date | null },
  status: { online: boolean; depth: number },
  now: Date,
): Promise<{ set: Pick<typeof gates.$inferInsert, 'outboxRises' | 'outboxHighSince' | 'outboxAlarmAt'>; changes: AlarmChange[] }> {
  const v = judgeOutbox(
    {
      depth: before.outboxDepth,
      rises: before.outboxRises,
      highSince: before.outboxHighSince,
      alarmAt: before.outboxAlarmAt,
      online: before.online,
    },
    status,
    now,
    ctx.config.alarms,
  );
  const set = { outboxRises: v.rises, outboxHighSince: v.highSince, outboxAlarmAt: v.alarmAt };
  if (!v.raise && !v.clear) return { set, changes: [] };
  return { set, changes: await cloudConditionChanged(ctx, tx, gate, 'outbox_growing', v.raise, now, v.detail) };
}
