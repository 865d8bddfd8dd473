import { describe, expect, it } from 'vitest';
import { CloudClock } from '../src/sync/clock.js';

describe('SYNC-5: the cloud clock estimate', () => {
  it('SYNC-5: uses the raw clock until a signed message was seen', () => {
    let local = 1_000_000;
    const c = new CloudClock(() => local);
    expect(c.offsetMs).toBeNull();
    expect(c.now()).toBe(1_000_000);
    local += 5;
    expect(c.now()).toBe(1_000_005);
  });

  it('SYNC-5: corrects an edge clock five minutes ahead or behind to within a second', () => {
    for (const skew of [300_000, -300_000]) {
      let cloud = 1_800_000_000_000;
      const c = new CloudClock(() => cloud + skew);
      // Transit of 0–40 ms, jittered, as over a LAN broker.
      for (let i = 0; i < 10; i++) {
        const issuedAt = cloud;
        cloud += (i * 7) % 41;
        c.observe(issuedAt);
        cloud += 1000;
      }
      const error = Math.abs(c.now() - cloud);
      console.log(JSON.stringify({ test: 'clock-estimate', skew, offsetMs: c.offsetMs, errorMs: error }));
      expect(error).toBeLessThan(1000);
      expect(Math.abs((c.offsetMs ?? 0) + skew)).toBeLessThan(1000);
    }
  });

  it('SYNC-5: a single wild sample (a command held in a queue for an hour) does not swing it', () => {
    let local = 2_000_000;
    const c = new CloudClock(() => local);
    for (let i = 0; i < 5; i++) {
      c.observe(local + 60_000, local);
      local += 500;
    }
    const before = c.offsetMs ?? 0;
    c.observe(local - 3_600_000, local);
    c.observe(local + 9_000_000_000, local);
    expect(Math.abs((c.offsetMs ?? 0) - before)).toBeLessThan(100);
    expect(Math.abs((c.offsetMs ?? 0) - 60_000)).toBeLessThan(100);
  });

  it('SYNC-5: follows a real change of the offset once most recent samples agree', () => {
    const local = 0;
    const c = new CloudClock(() => local);
    for (let i = 0; i < 15; i++) c.observe(local + 10_000, local);
    for (let i = 0; i < 8; i++) c.observe(local - 10_000, local);
    expect(Math.abs((c.offsetMs ?? 0) + 10_000)).toBeLessThan(100);
    c.observe(Number.NaN, local);
    expect(Math.abs((c.offsetMs ?? 0) + 10_000)).toBeLessThan(100);
  });
});
