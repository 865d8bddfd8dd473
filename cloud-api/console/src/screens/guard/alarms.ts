import { PATHS } from '../../lib/query.ts';
import type { Alarm, AlarmKind, AlarmStatus, Site, SiteMode } from '../../lib/types.ts';

/**
 * The choices of the alarm filters, in the order written (a guard's order,
 * the worst first). Records over the server's unions, so a kind or status
 * added there fails typecheck:console until it is offered here (the schema's
 * own constants are server code, not in the console's bundle).
 */
const KINDS: Record<AlarmKind, true> = {
  forced: true,
  held_open: true,
  tamper: true,
  reader_offline: true,
  power: true,
  controller_offline: true,
  passback: true,
  storage: true,
  outbox_growing: true,
};
export const ALARM_KINDS = Object.keys(KINDS) as AlarmKind[];
const STATUSES: Record<AlarmStatus, true> = { raised: true, acknowledged: true, cleared: true };
export const ALARM_STATUSES = Object.keys(STATUSES) as AlarmStatus[];

/** The open alarms the guard view shows: every site's, so nothing waits unseen behind the site picker. */
export const openAlarmsKey = [PATHS.alarms, 'open'] as const;

/** Newest first: what just happened is what the guard must see first. */
export const byNewest = (a: Alarm, b: Alarm) => Date.parse(b.raisedAt) - Date.parse(a.raisedAt);

/** A low alarm (an entry a soft anti-passback rule let through) is listed but does not call the guard with a beep. */
export const beeps = (a: Pick<Alarm, 'severity'>) => a.severity !== 'low';

/**
 * A live alarm event applied to the open list: raised or acknowledged ones are
 * put in (replacing an older copy), cleared ones leave it.
 */
export function applyAlarm(list: readonly Alarm[] | undefined, a: Alarm): Alarm[] {
  const rest = (list ?? []).filter((x) => x.id !== a.id);
  return a.status === 'cleared' ? rest : [a, ...rest].sort(byNewest);
}

/** A site as GET /api/admin/sites lists it, and who changed its mode once the server names them (absent from an older one). */
export type SiteWithMode = Site & { modeChangedBy?: { id: string; name: string | null } | null };

export const modeOf = (s: SiteWithMode | undefined): SiteMode => s?.mode ?? 'normal';
