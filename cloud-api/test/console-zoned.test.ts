import { describe, expect, it } from 'vitest';
import { defaultVisit, zonedToIso } from '../console/src/screens/host/zoned.js';

describe("the invitation form's default visit (console, host/zoned.ts)", () => {
  const at = (iso: string) => Date.parse(iso);

  it('is the next whole hour of the site’s clock, for an hour', () => {
    expect(defaultVisit(at('2026-11-30T07:15:00Z'), 'Europe/Moscow')).toEqual({ date: '2026-11-30', from: '11:00', until: '12:00' });
    // A zone half an hour off UTC: the hour follows UTC's whole hours.
    expect(defaultVisit(at('2026-11-30T16:10:00Z'), 'Asia/Kolkata')).toEqual({ date: '2026-11-30', from: '22:30', until: '23:30' });
  });

  it('asked late in the evening, is 09:00–10:00 the next day, never an hour that ends before it starts', () => {
    // 22:43 in Moscow: the next hour, 23:00, would end at 00:00 of the same date.
    expect(defaultVisit(at('2026-11-30T19:43:00Z'), 'Europe/Moscow')).toEqual({ date: '2026-12-01', from: '09:00', until: '10:00' });
    // 23:40 on New Year's Eve in Moscow (the next hour is the next year's first), and just after midnight.
    expect(defaultVisit(at('2026-12-31T20:40:00Z'), 'Europe/Moscow')).toEqual({ date: '2027-01-01', from: '09:00', until: '10:00' });
    expect(defaultVisit(at('2026-12-31T21:10:00Z'), 'Europe/Moscow')).toEqual({ date: '2027-01-01', from: '01:00', until: '02:00' });
  });

  it('reads a time the clocks skip as the same span after the change, and a repeated one as its first', () => {
    // New York, 8 March 2026: 02:00 becomes 03:00 (07:00 UTC); 02:30 is read as 03:30.
    expect(zonedToIso('2026-03-08', '02:30', 'America/New_York')).toBe('2026-03-08T07:30:00.000Z');
    expect(zonedToIso('2026-03-08', '01:30', 'America/New_York')).toBe('2026-03-08T06:30:00.000Z');
    // 1 November 2026: 01:30 comes twice; the first (summer time) is meant.
    expect(zonedToIso('2026-11-01', '01:30', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
    expect(zonedToIso('2026-03-29', '02:30', 'Europe/Paris')).toBe('2026-03-29T01:30:00.000Z');
  });

  it('ends after it starts at every minute of a year, in zones with and without summer time', () => {
    for (const zone of ['Europe/Moscow', 'America/New_York', 'Europe/Paris', 'Asia/Kolkata', 'Pacific/Chatham']) {
      for (let t = at('2026-01-01T00:00:00Z'); t < at('2027-01-01T00:00:00Z'); t += 37 * 60_000) {
        const v = defaultVisit(t, zone);
        const from = zonedToIso(v.date, v.from, zone);
        const until = zonedToIso(v.date, v.until, zone);
        expect(from && until && until > from, `${zone} ${new Date(t).toISOString()} ${JSON.stringify(v)}`).toBe(true);
        // Never in the past.
        expect(Date.parse(from!)).toBeGreaterThanOrEqual(t - 3600_000);
      }
    }
  });
});
