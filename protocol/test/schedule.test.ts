import { describe, expect, it } from 'vitest';
import { inSchedule, isTimeZone, wallClock } from '../src/index.js';

describe('wall clock in a time zone (SPEC DEC-8)', () => {
  it('DEC-8: gives the local ISO weekday and minute', () => {
    // 2026-01-04 is a Sunday; 23:30 UTC is already Monday 08:30 in Tokyo.
    expect(wallClock(Date.UTC(2026, 0, 4, 23, 30), 'Asia/Tokyo')).toEqual({ weekday: 1, minute: 8 * 60 + 30 });
    expect(wallClock(Date.UTC(2026, 0, 4, 23, 30), 'UTC')).toEqual({ weekday: 7, minute: 23 * 60 + 30 });
    expect(wallClock(Date.UTC(2026, 0, 5, 0, 0), 'America/New_York')).toEqual({ weekday: 7, minute: 19 * 60 });
  });

  it('DEC-8: follows DST: the same UTC time is an hour later on the wall after spring forward', () => {
    expect(wallClock(Date.UTC(2026, 2, 28, 7, 0), 'Europe/Berlin').minute).toBe(8 * 60);
    expect(wallClock(Date.UTC(2026, 2, 29, 7, 0), 'Europe/Berlin').minute).toBe(9 * 60);
  });

  it('validates zone names', () => {
    expect(isTimeZone('Europe/Moscow')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    expect(isTimeZone(3)).toBe(false);
  });
});

describe('inSchedule (SPEC DEC-8)', () => {
  const w = (from: string, to: string) => [{ from, to }];
  it('DEC-8: day windows are [from, to)', () => {
    expect(inSchedule({ weekday: 3, minute: 480 }, [3], w('08:00', '20:00'))).toBe(true);
    expect(inSchedule({ weekday: 3, minute: 479 }, [3], w('08:00', '20:00'))).toBe(false);
    expect(inSchedule({ weekday: 3, minute: 1200 }, [3], w('08:00', '20:00'))).toBe(false);
    expect(inSchedule({ weekday: 4, minute: 600 }, [3], w('08:00', '20:00'))).toBe(false);
  });
  it('DEC-8: a window across midnight belongs to the day it starts, including Sunday into Monday', () => {
    expect(inSchedule({ weekday: 7, minute: 23 * 60 }, [7], w('22:00', '06:00'))).toBe(true);
    expect(inSchedule({ weekday: 1, minute: 5 * 60 }, [7], w('22:00', '06:00'))).toBe(true);
    expect(inSchedule({ weekday: 1, minute: 6 * 60 }, [7], w('22:00', '06:00'))).toBe(false);
    expect(inSchedule({ weekday: 1, minute: 23 * 60 }, [7], w('22:00', '06:00'))).toBe(false);
  });
  it('DEC-8: 24:00 ends a window at midnight; empty lists mean every day / all day; several windows', () => {
    expect(inSchedule({ weekday: 2, minute: 1439 }, [2], w('12:00', '24:00'))).toBe(true);
    expect(inSchedule({ weekday: 6, minute: 0 }, [], [])).toBe(true);
    expect(inSchedule({ weekday: 6, minute: 0 }, [1], [])).toBe(false);
    const two = [
      { from: '08:00', to: '12:00' },
      { from: '13:00', to: '17:00' },
    ];
    expect(inSchedule({ weekday: 1, minute: 12 * 60 + 30 }, [], two)).toBe(false);
    expect(inSchedule({ weekday: 1, minute: 13 * 60 }, [], two)).toBe(true);
  });
});

describe('wallClock agrees with Intl at every minute around transitions (cached offsets)', () => {
  const zones = [
    'Europe/Berlin',
    'America/New_York',
    'Australia/Lord_Howe',
    'Asia/Kathmandu',
    'America/St_Johns',
    'Pacific/Chatham',
    'UTC',
  ];
  const reference = (ms: number, tz: string) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    }).formatToParts(ms);
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
    const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(get('weekday')) + 1;
    return { weekday, minute: Number(get('hour')) * 60 + Number(get('minute')) };
  };
  it.each(zones)('%s', (tz) => {
    // Walk 2026 in 7-minute steps around each month start and each DST weekend, in time order, as a gate would.
    const starts = [Date.UTC(2026, 2, 28), Date.UTC(2026, 3, 4), Date.UTC(2026, 9, 3), Date.UTC(2026, 9, 24), Date.UTC(2026, 10, 1)];
    for (const s of starts) {
      for (let t = s; t < s + 2 * 86_400_000; t += 7 * 60_000 + 13_000)
        expect(wallClock(t, tz), `${tz} ${new Date(t).toISOString()}`).toEqual(reference(t, tz));
    }
  });
});
