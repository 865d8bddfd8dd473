import type { Site } from '../../lib/types.ts';

/**
 * Alarms and site modes as the cloud sends them (modules/alarms, modules/sites).
 * Written out here rather than derived from `@gatehouse/cloud-api/api` because
 * the console must build while those routes are still being added; the shapes
 * are the ones the issue fixes, and unknown extra fields pass through.
 */
export const ALARM_KINDS = ['forced', 'held_open', 'tamper', 'reader_offline', 'power', 'controller_offline', 'passback'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];
export const SEVERITIES = ['high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const ALARM_STATUSES = ['raised', 'acknowledged', 'cleared'] as const;
export type AlarmStatus = (typeof ALARM_STATUSES)[number];

export interface Actor {
  id: string;
  name: string | null;
}

export interface Alarm {
  id: string;
  kind: AlarmKind;
  severity: Severity;
  siteId: string;
  siteName: string | null;
  gateId: string | null;
  gateName: string | null;
  reader: string | null;
  detail: string | null;
  status: AlarmStatus;
  raisedAt: string;
  conditionClearedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: Actor | null;
  acknowledgeNote: string | null;
  clearedAt: string | null;
  clearedBy: Actor | null;
  clearNote: string | null;
}

export const ALARMS_PATH = '/api/admin/alarms';

/** The open alarms the guard view shows: every site's, so nothing waits unseen behind the site picker. */
export const openAlarmsKey = [ALARMS_PATH, 'open'] as const;

/** Newest first: what just happened is what the guard must see first. */
export const byNewest = (a: Alarm, b: Alarm) => Date.parse(b.raisedAt) - Date.parse(a.raisedAt);

/**
 * A live alarm event applied to the open list: raised or acknowledged ones are
 * put in (replacing an older copy), cleared ones leave it.
 */
export function applyAlarm(list: readonly Alarm[] | undefined, a: Alarm): Alarm[] {
  const rest = (list ?? []).filter((x) => x.id !== a.id);
  return a.status === 'cleared' ? rest : [a, ...rest].sort(byNewest);
}

export type SiteMode = 'normal' | 'lockdown' | 'emergency';

/** A site as GET /api/admin/sites lists it, with the mode fields helper C2 adds (absent on an older server: normal). */
export type SiteWithMode = Site & {
  mode?: SiteMode;
  modeReason?: string | null;
  modeChangedAt?: string | null;
  /** Who changed it, when the server names them (an object with a name, or only an id). */
  modeChangedBy?: Actor | string | null;
};

export const modeOf = (s: SiteWithMode | undefined): SiteMode => s?.mode ?? 'normal';
