import fc from 'fast-check';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  dynamicQrAt,
  encodeDynamicQr,
  encodeStaticQr,
  encodeWiegand,
  generateKeyPair,
  KeyRing,
  MAX_CREDENTIAL_LENGTH,
  newTotpSecret,
  parseCredential,
  parseWiegandBits,
  signingKey,
  totpCode,
  totpRemainingMs,
  totpVerify,
  uuidv7,
  verifyStatic,
} from '../src/index.js';

const key = signingKey(generateKeyPair().privateKey);
const ring = new KeyRing([key.publicKey]);

describe('base32', () => {
  it('round-trips any bytes, and refuses non-canonical or foreign text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(base32Decode(base32Encode(b))).toEqual(b);
      }),
    );
    expect(base32Decode('A')).toBeNull(); // 5 bits cannot be a byte
    expect(base32Decode('AB')).toBeNull(); // non-zero padding bits
    expect(base32Decode('MZXW6===')).toBeNull();
    expect(base32Decode('mzxw6')).toEqual(new Uint8Array(Buffer.from('foo')));
  });
});

describe('dynamic QR (SPEC CRED-2, CRED-3)', () => {
  it('encodes pass id + 8-digit TOTP and parses back', () => {
    const id = uuidv7();
    const secret = newTotpSecret();
    const now = Date.now();
    const text = dynamicQrAt(id, secret, now);
    expect(text).toMatch(/^GHD1:[A-Z2-7]{26}:[0-9]{8}$/);
    expect(parseCredential(text)).toEqual({ kind: 'dynamic', passId: id, code: totpCode(secret, now) });
  });

  it('accepts a code within ±1 step only, and reports the step it matched', () => {
    const secret = newTotpSecret();
    const t = 1_800_000_000_000 - (1_800_000_000_000 % 30_000) + 5_000;
    const code = totpCode(secret, t);
    const step = Math.floor(t / 30_000);
    expect(totpVerify(secret, code, t)).toBe(step);
    expect(totpVerify(secret, code, t + 30_000)).toBe(step);
    expect(totpVerify(secret, code, t - 30_000)).toBe(step);
    expect(totpVerify(secret, code, t + 60_000)).toBeNull();
    expect(totpVerify(secret, '1234567', t)).toBeNull();
    expect(totpVerify('not base32!', code, t)).toBeNull();
    expect(totpRemainingMs(t)).toBe(25_000);
  });

  it('rejects a code that is not 8 digits at encode time', () => {
    expect(() => encodeDynamicQr(uuidv7(), '123456')).toThrow();
  });
});

describe('static QR (SPEC CRED-4, CRED-5)', () => {
  const pass = { passId: uuidv7(), validFrom: Date.UTC(2026, 0, 1), validTo: Date.UTC(2026, 0, 2) };

  it('round-trips and verifies under the org key only', () => {
    const text = encodeStaticQr(pass, key);
    const c = parseCredential(text);
    expect(c).toMatchObject({ kind: 'static', ...pass, kid: key.kid });
    if (c.kind !== 'static') throw new Error('unreachable');
    expect(verifyStatic(c, ring)).toBe(true);
    expect(verifyStatic(c, new KeyRing([generateKeyPair().publicKey]))).toBe(false);
  });

  it('fits a QR code of version <= 10 at error correction M (version 6–7: alphanumeric and numeric segments)', () => {
    const text = encodeStaticQr(pass, key);
    expect(text.length).toBe(154);
    const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
    expect(qr.version).toBeLessThanOrEqual(10);
    expect(qr.version).toBeLessThanOrEqual(7);
    expect(QRCode.create(dynamicQrAt(pass.passId, newTotpSecret(), Date.now()), { errorCorrectionLevel: 'M' }).version).toBeLessThanOrEqual(
      3,
    );
  });

  it('any single changed character breaks either the format or the signature', () => {
    const text = encodeStaticQr(pass, key);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    fc.assert(
      fc.property(fc.integer({ min: 5, max: text.length - 1 }), fc.constantFrom(...alphabet), (i, ch) => {
        fc.pre(text[i] !== ch);
        const changed = text.slice(0, i) + ch + text.slice(i + 1);
        const c = parseCredential(changed);
        if (c.kind === 'static') expect(verifyStatic(c, ring)).toBe(false);
        else expect(c.kind).toBe('malformed');
      }),
      { numRuns: 500 },
    );
  });
});

describe('Wiegand (SPEC CRED-6, CRED-7)', () => {
  it('round-trips every facility/card through the bit frame', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 65535 }), (fcode, card) => {
        const r = parseWiegandBits(encodeWiegand('w26', fcode, card));
        expect(r).toEqual({ kind: 'card', format: 'w26', number: String(fcode * 65536 + card), facility: fcode, cardNumber: card });
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), (fcode, card) => {
        const r = parseWiegandBits(encodeWiegand('w34', fcode, card));
        expect(r).toMatchObject({ kind: 'card', format: 'w34', number: String(fcode * 65536 + card) });
      }),
    );
  });

  it('detects every single-bit error by parity', () => {
    const bits = encodeWiegand('w26', 200, 31337);
    for (let i = 0; i < bits.length; i++) {
      const flipped = bits.slice(0, i) + (bits[i] === '1' ? '0' : '1') + bits.slice(i + 1);
      expect(parseWiegandBits(flipped).kind, `bit ${i}`).toBe('malformed');
    }
  });

  it('takes bit arrays as the GPIO driver delivers them', () => {
    const bits = [...encodeWiegand('w34', 1, 2)].map(Number);
    expect(parseWiegandBits(bits)).toMatchObject({ format: 'w34', facility: 1, cardNumber: 2 });
    expect(parseWiegandBits([1, 0, 1]).kind).toBe('malformed');
  });
});

describe('parseCredential never throws (SPEC CRED-9)', () => {
  it('maps random bytes to a credential or malformed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (b) => {
        const r = parseCredential(b);
        expect(['dynamic', 'static', 'card', 'malformed']).toContain(r.kind);
        if (b.length > MAX_CREDENTIAL_LENGTH) expect(r.kind).toBe('malformed');
      }),
      { numRuns: 3000 },
    );
  });

  it('maps random strings, including near-misses of every format, to a credential or malformed', () => {
    const prefixes = fc.constantFrom('GHD1:', 'GHS1:', 'W26:', 'W34:', 'CARD:', 'ghd1:', '', ':');
    fc.assert(
      fc.property(prefixes, fc.string({ maxLength: 200, unit: 'binary' }), (p, s) => {
        const r = parseCredential(p + s);
        expect(['dynamic', 'static', 'card', 'malformed']).toContain(r.kind);
      }),
      { numRuns: 3000 },
    );
    for (const v of [undefined, null, 42, {}, [], Symbol('x')]) expect(parseCredential(v).kind).toBe('malformed');
  });
});
