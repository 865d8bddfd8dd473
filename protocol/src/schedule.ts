/**
 * Wall-clock time in a site's IANA time zone, and the weekday/time-window
 * test of an access rule (SPEC DEC-7, DEC-8).
 */
import type { TimeWindow } from './messages.js';

export interface WallClock {
  /** ISO weekday, Monday = 1 … Sunday = 7. */
  weekday: number;
  /** Minutes since local midnight, 0..1439. */
  minute: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone: callers validate zones on the way in.
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > 64) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Local weekday and minute of `epochMs` in `timeZone`. */
export function wallClock(epochMs: number, timeZone: string): WallClock {
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  for (const p of formatter(timeZone).formatToParts(epochMs)) {
    if (p.type === 'weekday') weekday = WEEKDAYS[p.value] ?? 0;
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { weekday, minute: hour * 60 + minute };
}

export function hhmmToMinute(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/**
 * DEC-8: a window `from < to` covers [from, to) of each listed weekday; a
 * window with `to <= from` crosses midnight and covers [from, 24:00) of a
 * listed weekday plus [00:00, to) of the day after it — the night belongs to
 * the day it started. Times are local wall-clock times, so across a DST change
 * "08:00" is still 08:00 on the clock on the wall. An empty weekday list
 * means every day; an empty window list means all day.
 */
export function inSchedule(clock: WallClock, weekdays: readonly number[], windows: readonly TimeWindow[]): boolean {
  const dayOk = (d: number) => weekdays.length === 0 || weekdays.includes(d);
  if (windows.length === 0) return dayOk(clock.weekday);
  const yesterday = clock.weekday === 1 ? 7 : clock.weekday - 1;
  for (const w of windows) {
    const from = hhmmToMinute(w.from);
    const to = hhmmToMinute(w.to);
    if (from < to) {
      if (dayOk(clock.weekday) && clock.minute >= from && clock.minute < to) return true;
    } else {
      if (dayOk(clock.weekday) && clock.minute >= from) return true;
      if (dayOk(yesterday) && clock.minute < to) return true;
    }
  }
  return false;
}
