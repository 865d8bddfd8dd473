/** The API key format (auth/api-key-format.ts): pure functions, no app. */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { API_KEY_LENGTH, apiKeyHash, apiKeyPrefix, checksum, looksLikeApiKey, newApiKey, parseApiKey } from '../src/auth/api-key-format.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Base62 decoding written out independently of the module. */
const decode62 = (s: string) => [...s].reduce((n, c) => n * 62 + BASE62.indexOf(c), 0);

describe('API key format', () => {
  it('is ghk_live_/ghk_test_, 32 base62 characters and a 6-character base62 CRC32 of everything before it', () => {
    for (const kind of ['live', 'test'] as const) {
      const key = newApiKey(kind);
      expect(key).toMatch(new RegExp(`^ghk_${kind}_[0-9A-Za-z]{38}$`));
      expect(key).toHaveLength(API_KEY_LENGTH);
      expect(API_KEY_LENGTH).toBe(47);
      // A secret scanner's check, from the published rule alone.
      expect(decode62(key.slice(-6))).toBe(crc32(key.slice(0, -6)));
      expect(parseApiKey(key)).toEqual({ kind });
    }
  });

  it('the checksum is padded to 6 characters, also for small CRCs', () => {
    expect(checksum('')).toBe('000000'); // crc32('') is 0
    for (const s of ['a', 'ghk_live_x', 'zzzzzzzz']) {
      expect(checksum(s)).toHaveLength(6);
      expect(decode62(checksum(s))).toBe(crc32(s));
    }
  });

  it('refuses anything not of its shape or whose checksum does not match: a typo, a swapped kind, a look-alike', () => {
    const key = newApiKey('live');
    const typo = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21);
    expect(parseApiKey(typo)).toBeNull();
    // The kind is under the checksum too: a live key relabelled as a test key is not a key.
    expect(parseApiKey(key.replace('ghk_live_', 'ghk_test_'))).toBeNull();
    expect(parseApiKey(`${key}x`)).toBeNull();
    expect(parseApiKey(key.slice(0, -1))).toBeNull();
    expect(parseApiKey(`ghk_prod_${key.slice(9)}`)).toBeNull();
    expect(parseApiKey(key.replace(/[0-9A-Za-z]$/, '-'))).toBeNull();
    expect(parseApiKey('')).toBeNull();
  });

  it('keys are random (no two alike in many) and every base62 character turns up', () => {
    const keys = Array.from({ length: 2000 }, () => newApiKey('test'));
    expect(new Set(keys).size).toBe(keys.length);
    const seen = new Set(keys.flatMap((k) => [...k.slice(9, 41)]));
    expect(seen.size).toBe(62);
  });

  it('stores a SHA-256 hex of the whole key; lists show its first 13 characters', () => {
    const key = newApiKey('live');
    expect(apiKeyHash(key)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(apiKeyHash(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(apiKeyPrefix(key)).toBe(key.slice(0, 13));
    expect(apiKeyPrefix(key)).toMatch(/^ghk_live_[0-9A-Za-z]{4}$/);
  });

  it('anything starting ghk_ is treated as a key (and refused as one), never tried as a JWT', () => {
    expect(looksLikeApiKey('ghk_anything')).toBe(true);
    expect(looksLikeApiKey('eyJhbGciOi')).toBe(false);
  });
});
