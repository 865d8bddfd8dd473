/**
 * Wall-clock times at a site: the invitation form asks for the date and the
 * hours as the site's clock shows them (a guest reads "10:00" on the office's
 * clock, whatever zone the host's laptop is in), and the API wants instants.
 */

const partFormatters = new Map<string, Intl.DateTimeFormat>();
function partsIn(t: number, timeZone: string): Record<string, number> {
  let f = partFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partFormatters.set(timeZone, f);
  }
  const out: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(t))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** How far the zone's clock is ahead of UTC at instant `t`, in ms. */
function offsetAt(t: number, timeZone: string): number {
  const p = partsIn(t, timeZone);
  const asUtc = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** The instant (ISO) at which the zone's clock shows `date` (YYYY-MM-DD) `time` (HH:MM); null for bad input. */
export function zonedToIso(date: string, time: string, timeZone: string): string | null {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const h = /^(\d{2}):(\d{2})$/.exec(time);
  if (!d || !h) return null;
  const wall = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(h[1]), Number(h[2]));
  // Twice: the offset at the first guess can differ from the offset at the answer across a DST change.
  const first = wall - offsetAt(wall, timeZone);
  let t = wall - offsetAt(first, timeZone);
  // A time the clocks skip (02:30 the night they go forward) is the same span after the change (03:30), not before.
  if (!Number.isNaN(t) && wallClock(new Date(t), timeZone).time !== time) t = Math.max(t, first);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

const p2 = (n: number | undefined) => String(n ?? 0).padStart(2, '0');

/** The zone's date (YYYY-MM-DD) and time (HH:MM) at instant `t`: the form's defaults. */
export function wallClock(t: Date, timeZone: string): { date: string; time: string } {
  const p = partsIn(t.getTime(), timeZone);
  return { date: `${p.year}-${p2(p.month)}-${p2(p.day)}`, time: `${p2(p.hour)}:${p2(p.minute)}` };
}

/**
 * The form's default visit: from the next whole hour on the site's clock, for an hour of that clock (not 3,600 s: the
 * night the clocks go back, 01:00 plus an hour is 01:00 again). The form has one date for both times, so late in the
 * evening (from 22:00), when that hour would end at midnight or on the next day, the default is 09:00–10:00 the next
 * day: left as it was, "23:00 until 00:00" was refused as ending before it starts.
 */
export function defaultVisit(now: number, timeZone: string): { date: string; from: string; until: string } {
  const start = Math.ceil(now / 3600_000) * 3600_000;
  const today = wallClock(new Date(now), timeZone).date;
  const { date, time } = wallClock(new Date(start), timeZone);
  const hour = Number(time.slice(0, 2));
  if (date === today && hour < 23) return { date, from: time, until: `${p2(hour + 1)}${time.slice(2)}` };
  // Two hours on from 23:xx, the clock is in the next day's first hours.
  return { date: date === today ? wallClock(new Date(start + 2 * 3600_000), timeZone).date : date, from: '09:00', until: '10:00' };
}
