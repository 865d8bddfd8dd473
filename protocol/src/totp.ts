/**
 * TOTP of the dynamic QR (SPEC CRED-2): RFC 6238, HMAC-SHA1, 30 s step,
 * 8 digits, ±1 step tolerance, through otplib's core with Node's crypto.
 */
import { randomBytes } from 'node:crypto';
import { crypto as nodeCrypto } from '@otplib/plugin-crypto-node';
import { generateSync, verifySync } from '@otplib/totp';
import { base32Decode, base32Encode } from './base32.js';

export const TOTP_STEP_S = 30;
export const TOTP_DIGITS = 8;
export const TOTP_TOLERANCE_STEPS = 1;

const secretCache = new Map<string, Uint8Array>();

function secretBytes(secret: string): Uint8Array | null {
  let bytes = secretCache.get(secret);
  if (!bytes) {
    const decoded = base32Decode(secret);
    if (!decoded || decoded.length < 10) return null;
    // Bounded: a controller sees at most its cached passes' secrets.
    if (secretCache.size > 10_000) secretCache.clear();
    secretCache.set(secret, decoded);
    bytes = decoded;
  }
  return bytes;
}

/** A fresh per-pass secret: 20 random bytes (RFC 4226's recommended length), base32. */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_STEP_S);
}

/** Milliseconds until the code shown now changes. */
export function totpRemainingMs(nowMs: number): number {
  return TOTP_STEP_S * 1000 - (nowMs % (TOTP_STEP_S * 1000));
}

export function totpCode(secret: string, nowMs: number): string {
  const bytes = secretBytes(secret);
  if (!bytes) throw new TypeError('invalid TOTP secret');
  return generateSync({ secret: bytes, crypto: nodeCrypto, digits: TOTP_DIGITS, period: TOTP_STEP_S, epoch: Math.floor(nowMs / 1000) });
}

/** Checks a code at `nowMs` with ±1 step; returns the step it matched, or null. Never throws. */
export function totpVerify(secret: string, code: string, nowMs: number): number | null {
  const bytes = secretBytes(secret);
  if (!bytes || !/^[0-9]{8}$/.test(code)) return null;
  try {
    const r = verifySync({
      secret: bytes,
      token: code,
      crypto: nodeCrypto,
      digits: TOTP_DIGITS,
      period: TOTP_STEP_S,
      epoch: Math.floor(nowMs / 1000),
      epochTolerance: TOTP_STEP_S * TOTP_TOLERANCE_STEPS,
    });
    return r.valid ? r.timeStep : null;
  } catch {
    return null;
  }
}
