import { describe, expect, it } from 'vitest';
import { inSchedule, isTimeZone, wallClock } from '../src/index.js';

describe('wall clock in a time zone (SPEC DEC-8)', () => {
  it('gives the local ISO weekday and minute', () => {
    // 2026-01-04 is a Sunday; 23:30 UTC is already Monday 08:30 in Tokyo.
    expect(wallClock(Date.UTC(2026, 0, 4, 23, 30), 'Asia/Tokyo')).toEqual({ weekday: 1, minute: 8 * 60 + 30 });
    expect(wallClock(Date.UTC(2026, 0, 4, 23, 30), 'UTC')).toEqual({ weekday: 7, minute: 23 * 60 + 30 });
    expect(wallClock(Date.UTC(2026, 0, 5, 0, 0), 'America/New_York')).toEqual({ weekday: 7, minute: 19 * 60 });
  });

  it('follows DST: the same UTC time is an hour later on the wall after spring forward', () => {
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

describe('inSchedule', () => {
  const w = (from: string, to: string) => [{ from, to }];
  it('day windows are [from, to)', () => {
    expect(inSchedule({ weekday: 3, minute: 480 }, [3], w('08:00', '20:00'))).toBe(true);
    expect(inSchedule({ weekday: 3, minute: 479 }, [3], w('08:00', '20:00'))).toBe(false);
    expect(inSchedule({ weekday: 3, minute: 1200 }, [3], w('08:00', '20:00'))).toBe(false);
    expect(inSchedule({ weekday: 4, minute: 600 }, [3], w('08:00', '20:00'))).toBe(false);
  });
  it('a window across midnight belongs to the day it starts, including Sunday into Monday', () => {
    expect(inSchedule({ weekday: 7, minute: 23 * 60 }, [7], w('22:00', '06:00'))).toBe(true);
    expect(inSchedule({ weekday: 1, minute: 5 * 60 }, [7], w('22:00', '06:00'))).toBe(true);
    expect(inSchedule({ weekday: 1, minute: 6 * 60 }, [7], w('22:00', '06:00'))).toBe(false);
    expect(inSchedule({ weekday: 1, minute: 23 * 60 }, [7], w('22:00', '06:00'))).toBe(false);
  });
  it('24:00 ends a window at midnight; empty lists mean every day / all day; several windows', () => {
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
