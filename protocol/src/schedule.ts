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

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone: callers validate zones on the way in.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
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

const QUARTER_HOUR = 900_000;
const offsets = new Map<string, { bucket: number; offsetMs: number }>();

/**
 * UTC offset of `timeZone` at `epochMs`. Intl is slow (~7 µs a call), so the
 * offset is cached per zone for the current quarter hour: every transition in
 * the tz database since 1970 falls on a whole quarter hour of UTC, so an
 * offset cannot change inside one.
 */
function offsetMs(epochMs: number, timeZone: string): number {
  const bucket = Math.floor(epochMs / QUARTER_HOUR);
  const cached = offsets.get(timeZone);
  if (cached?.bucket === bucket) return cached.offsetMs;
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(epochMs)) p[part.type] = Number(part.value);
  const minuteStart = Math.floor(epochMs / 60_000) * 60_000;
  const local = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0);
  const offset = local - minuteStart;
  offsets.set(timeZone, { bucket, offsetMs: offset });
  return offset;
}

/** Local weekday and minute of `epochMs` in `timeZone`. */
export function wallClock(epochMs: number, timeZone: string): WallClock {
  const local = new Date(epochMs + offsetMs(epochMs, timeZone));
  return { weekday: local.getUTCDay() || 7, minute: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

/** DEC-14: the local date "YYYY-MM-DD" of `epochMs` in `timeZone`: the key of a site's holiday calendar. */
export function localDate(epochMs: number, timeZone: string): string {
  return new Date(epochMs + offsetMs(epochMs, timeZone)).toISOString().slice(0, 10);
}

/** "HH:MM" → minutes; by char codes because it runs on every scan. */
export function hhmmToMinute(hhmm: string): number {
  const d = (i: number) => hhmm.charCodeAt(i) - 48;
  return (d(0) * 10 + d(1)) * 60 + d(3) * 10 + d(4);
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
