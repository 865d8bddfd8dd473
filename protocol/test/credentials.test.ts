import { createPublicKey, verify } from 'node:crypto';
import fc from 'fast-check';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  cardKey,
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
  it('CRED-1, CRED-4: round-trips any bytes (RFC 4648, no padding), reads lower case, and refuses non-canonical or foreign text', () => {
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

describe('reader input (SPEC CRED-1)', () => {
  const text = dynamicQrAt(uuidv7(), newTotpSecret(), Date.UTC(2026, 0, 1));
  const parsed = parseCredential(text);

  it('CRED-1: surrounding whitespace and line endings are ignored; the prefix and base32 are read in any case', () => {
    expect(parsed.kind).toBe('dynamic');
    expect(parseCredential(` \t${text}\r\n`)).toEqual(parsed);
    expect(parseCredential(Buffer.from(`${text}\r\n`))).toEqual(parsed);
    expect(parseCredential(text.toLowerCase())).toEqual(parsed);
    expect(parseCredential(`gHd1${text.slice(4)}`)).toEqual(parsed);
    expect(parseCredential('card:42')).toEqual({ kind: 'card', format: 'raw', number: '42' });
  });

  it('CRED-1: at most 512 bytes of printable ASCII, tab, CR and LF; anything else is malformed', () => {
    const padded = text + ' '.repeat(MAX_CREDENTIAL_LENGTH - text.length);
    expect(MAX_CREDENTIAL_LENGTH).toBe(512);
    expect(parseCredential(padded)).toEqual(parsed);
    expect(parseCredential(Buffer.from(padded))).toEqual(parsed);
    expect(parseCredential(`${padded} `).kind).toBe('malformed');
    expect(parseCredential(Buffer.from(`${padded} `)).kind).toBe('malformed');
    for (const b of [0x00, 0x07, 0x0b, 0x1b, 0x7f, 0x80, 0xa0, 0xff]) {
      expect(parseCredential(Uint8Array.from([...Buffer.from(text), b])).kind, `byte ${b}`).toBe('malformed');
      expect(parseCredential(Uint8Array.from([b, ...Buffer.from(text)])).kind, `byte ${b}`).toBe('malformed');
    }
  });
});

describe('dynamic QR (SPEC CRED-2, CRED-3)', () => {
  it('CRED-2: encodes pass id + 8-digit TOTP and parses back', () => {
    const id = uuidv7();
    const secret = newTotpSecret();
    const now = Date.now();
    const text = dynamicQrAt(id, secret, now);
    expect(text).toMatch(/^GHD1:[A-Z2-7]{26}:[0-9]{8}$/);
    expect(parseCredential(text)).toEqual({ kind: 'dynamic', passId: id, code: totpCode(secret, now) });
  });

  it('CRED-3: accepts a code within ±1 step only, and reports the step it matched', () => {
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

  it('CRED-2: rejects a code that is not 8 digits at encode time', () => {
    expect(() => encodeDynamicQr(uuidv7(), '123456')).toThrow();
  });
});

describe('static QR (SPEC CRED-4, CRED-5)', () => {
  const pass = { passId: uuidv7(), validFrom: Date.UTC(2026, 0, 1), validTo: Date.UTC(2026, 0, 2) };

  it('CRED-4, CRED-5: round-trips and verifies under the org key only', () => {
    const text = encodeStaticQr(pass, key);
    const c = parseCredential(text);
    expect(c).toMatchObject({ kind: 'static', ...pass, kid: key.kid });
    if (c.kind !== 'static') throw new Error('unreachable');
    expect(verifyStatic(c, ring)).toBe(true);
    expect(verifyStatic(c, new KeyRing([generateKeyPair().publicKey]))).toBe(false);
  });

  it('CRED-4: fits a QR code of version <= 10 at error correction M (version 6–7: alphanumeric and numeric segments)', () => {
    const text = encodeStaticQr(pass, key);
    expect(text.length).toBe(154);
    const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
    expect(qr.version).toBeLessThanOrEqual(10);
    expect(qr.version).toBeLessThanOrEqual(7);
    expect(QRCode.create(dynamicQrAt(pass.passId, newTotpSecret(), Date.now()), { errorCorrectionLevel: 'M' }).version).toBeLessThanOrEqual(
      3,
    );
  });

  it('CRED-4, CRED-5: any single changed character breaks either the format or the signature', () => {
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

describe('static QR bytes (SPEC CRED-4)', () => {
  const passId = uuidv7();
  const validFrom = Date.UTC(2026, 0, 1) + 1_500; // floored to the second
  const validTo = Date.UTC(2026, 0, 2) + 1; // ceiled to the second
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key.publicKey, 'base64').toString('base64url') },
    format: 'jwk',
  });

  it('CRED-4: version, kid, pass id, validity in whole seconds, then Ed25519 over the tag and bytes 0–28', () => {
    const text = encodeStaticQr({ passId, validFrom, validTo }, key);
    expect(text).toMatch(/^GHS1:[A-Z2-7]{149}$/);
    const bytes = Buffer.from(base32Decode(text.slice(5)) ?? new Uint8Array());
    expect(bytes.length).toBe(93);
    expect(bytes[0]).toBe(0x01);
    expect(bytes.subarray(1, 5).toString('hex')).toBe(key.kid);
    expect(bytes.subarray(5, 21).toString('hex')).toBe(passId.replaceAll('-', ''));
    expect(bytes.readUInt32BE(21)).toBe(Math.floor(validFrom / 1000));
    expect(bytes.readUInt32BE(25)).toBe(Math.ceil(validTo / 1000));
    const tagged = Buffer.concat([Buffer.from('gatehouse/static-qr/v1\n'), bytes.subarray(0, 29)]);
    expect(verify(null, tagged, publicKey, bytes.subarray(29))).toBe(true);
    expect(verify(null, bytes.subarray(0, 29), publicKey, bytes.subarray(29))).toBe(false);
    expect(parseCredential(text)).toMatchObject({
      kind: 'static',
      passId,
      kid: key.kid,
      validFrom: Math.floor(validFrom / 1000) * 1000,
      validTo: Math.ceil(validTo / 1000) * 1000,
    });
  });

  it('CRED-4: a well-signed QR whose validity ends at or before its start, or of another version, is malformed', () => {
    const build = (version: number, from: number, to: number) => {
      const body = Buffer.alloc(29);
      body[0] = version;
      body.write(key.kid, 1, 'hex');
      Buffer.from(passId.replaceAll('-', ''), 'hex').copy(body, 5);
      body.writeUInt32BE(from, 21);
      body.writeUInt32BE(to, 25);
      const sig = key.sign(Buffer.concat([Buffer.from('gatehouse/static-qr/v1\n'), body]));
      return `GHS1:${base32Encode(Buffer.concat([body, sig]))}`;
    };
    expect(parseCredential(build(1, 1_800_000_000, 1_800_000_001)).kind).toBe('static');
    expect(parseCredential(build(1, 1_800_000_000, 1_800_000_000)).kind).toBe('malformed');
    expect(parseCredential(build(1, 1_800_000_000, 1_700_000_000)).kind).toBe('malformed');
    expect(parseCredential(build(2, 1_800_000_000, 1_800_000_001)).kind).toBe('malformed');
  });
});

describe('Wiegand (SPEC CRED-6, CRED-7)', () => {
  it('CRED-6, CRED-7: round-trips every facility/card through the bit frame', () => {
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

  it('CRED-6: detects every single-bit error by parity', () => {
    const bits = encodeWiegand('w26', 200, 31337);
    for (let i = 0; i < bits.length; i++) {
      const flipped = bits.slice(0, i) + (bits[i] === '1' ? '0' : '1') + bits.slice(i + 1);
      expect(parseWiegandBits(flipped).kind, `bit ${i}`).toBe('malformed');
    }
  });

  it('CRED-7: takes bit arrays as the GPIO driver delivers them; a bit count of neither format is malformed', () => {
    const bits = [...encodeWiegand('w34', 1, 2)].map(Number);
    expect(parseWiegandBits(bits)).toMatchObject({ format: 'w34', facility: 1, cardNumber: 2 });
    expect(parseWiegandBits([1, 0, 1]).kind).toBe('malformed');
  });
});

describe('card keys (SPEC CRED-8)', () => {
  it('CRED-8: a card is keyed {format}:{number}, the number being the data bits in decimal or the card text without leading zeros', () => {
    const w26 = parseCredential(`W26:${encodeWiegand('w26', 123, 4567)}`);
    expect(w26).toMatchObject({ kind: 'card', format: 'w26', number: '8065495', facility: 123, cardNumber: 4567 });
    if (w26.kind === 'card') expect(cardKey(w26)).toBe('w26:8065495');
    const w34 = parseCredential(`W34:${encodeWiegand('w34', 65535, 65535)}`);
    expect(w34).toMatchObject({ kind: 'card', format: 'w34', number: String(2 ** 32 - 1) });
    expect(parseCredential('CARD:000123')).toEqual({ kind: 'card', format: 'raw', number: '123' });
    expect(cardKey({ format: 'raw', number: '123' })).toBe('raw:123');
    expect(parseCredential(`CARD:${'9'.repeat(20)}`)).toMatchObject({ kind: 'card', number: '9'.repeat(20) });
    expect(parseCredential(`CARD:${'9'.repeat(21)}`).kind).toBe('malformed');
    expect(parseCredential('CARD:').kind).toBe('malformed');
  });
});

describe('parseCredential never throws (SPEC CRED-9)', () => {
  it('CRED-1, CRED-9: maps random bytes to a credential or malformed, and anything over 512 bytes to malformed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (b) => {
        const r = parseCredential(b);
        expect(['dynamic', 'static', 'card', 'malformed']).toContain(r.kind);
        if (b.length > MAX_CREDENTIAL_LENGTH) expect(r.kind).toBe('malformed');
      }),
      { numRuns: 3000 },
    );
  });

  it('CRED-9: maps random strings, including near-misses of every format, to a credential or malformed', () => {
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
