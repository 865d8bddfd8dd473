/**
 * The API key format, after GitHub's token format: a prefix a secret scanner
 * can match (`ghk_live_` for a real organisation, `ghk_test_` for a sandbox),
 * 32 random base62 characters (~190 bits), and a 6-character base62 CRC32 of
 * everything before it. The checksum lets a scanner tell a real key from a
 * look-alike without asking us, and lets the cloud refuse a mistyped or
 * made-up key without a database lookup. Pure: no I/O.
 */
import { createHash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 32;
const CHECKSUM_CHARS = 6;
/** What lists show of a key: enough to recognise it (`ghk_live_` + 4 random characters), far too little to use it. */
export const KEY_PREFIX_CHARS = 13;

export type ApiKeyKind = 'live' | 'test';
const HEADS: Record<ApiKeyKind, string> = { live: 'ghk_live_', test: 'ghk_test_' };
/** Anything that starts like this is meant as an API key (and is refused, not tried as a JWT, when malformed). */
export const API_KEY_MARK = 'ghk_';
export const API_KEY_LENGTH = HEADS.live.length + RANDOM_CHARS + CHECKSUM_CHARS;
const SHAPE = /^ghk_(live|test)_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

/** CRC32 of `s` in base62, left-padded to 6 characters (62^6 > 2^32). */
export function checksum(s: string): string {
  let n = crc32(s);
  let out = '';
  do {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(CHECKSUM_CHARS, '0');
}

/** A fresh key; shown to its creator once, stored only as `apiKeyHash`. */
export function newApiKey(kind: ApiKeyKind): string {
  let body = HEADS[kind];
  // randomInt is uniform over the range (no modulo bias).
  for (let i = 0; i < RANDOM_CHARS; i++) body += ALPHABET[randomInt(62)];
  return body + checksum(body);
}

/** The key's kind when it is well formed and its checksum matches, else null. */
export function parseApiKey(key: string): { kind: ApiKeyKind } | null {
  const m = SHAPE.exec(key);
  if (!m) return null;
  const body = key.slice(0, -CHECKSUM_CHARS);
  if (checksum(body) !== m[3]) return null;
  return { kind: m[1] as ApiKeyKind };
}

/** What is stored and looked up: SHA-256 hex of the whole key (random enough that a slow hash would add nothing). */
export const apiKeyHash = (key: string): string => createHash('sha256').update(key).digest('hex');

export const apiKeyPrefix = (key: string): string => key.slice(0, KEY_PREFIX_CHARS);

export const looksLikeApiKey = (token: string): boolean => token.startsWith(API_KEY_MARK);
