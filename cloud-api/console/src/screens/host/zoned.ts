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
  let t = wall - offsetAt(wall, timeZone);
  t = wall - offsetAt(t, timeZone);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

const p2 = (n: number | undefined) => String(n ?? 0).padStart(2, '0');

/** The zone's date (YYYY-MM-DD) and time (HH:MM) at instant `t`: the form's defaults. */
export function wallClock(t: Date, timeZone: string): { date: string; time: string } {
  const p = partsIn(t.getTime(), timeZone);
  return { date: `${p.year}-${p2(p.month)}-${p2(p.day)}`, time: `${p2(p.hour)}:${p2(p.minute)}` };
}
