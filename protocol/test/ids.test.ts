import { describe, expect, it } from 'vitest';
import { bytesToUuid, isUuid, uuidToBytes, uuidv7, uuidv7Time } from '../src/index.js';

describe('UUIDv7', () => {
  it('is a canonical v7 uuid carrying its time, strictly increasing within a process', () => {
    const t = Date.now();
    const ids = Array.from({ length: 10_000 }, () => uuidv7(t));
    for (const id of ids.slice(0, 10)) {
      expect(isUuid(id)).toBe(true);
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19]);
    }
    expect(uuidv7Time(ids[0] ?? '')).toBe(t);
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws a fresh random tail for every id, across refills of the random pool', () => {
    // 62 random bits per id (rand_b); 3,000 ids span several 4 KiB draws. No two tails alike, and not all zero.
    const tails = Array.from({ length: 3_000 }, () => uuidv7().slice(19).replace('-', ''));
    expect(new Set(tails).size).toBe(tails.length);
    expect(tails.filter((t) => /^[89ab]0{15}$/.test(t))).toEqual([]);
  });

  it('round-trips bytes and refuses non-canonical text', () => {
    const id = uuidv7();
    expect(bytesToUuid(uuidToBytes(id))).toBe(id);
    expect(() => uuidToBytes(id.toUpperCase())).toThrow();
    expect(() => bytesToUuid(new Uint8Array(15))).toThrow();
  });
});
