/**
 * Credential formats (SPEC CRED-1..CRED-9). One parser takes whatever a reader
 * delivered — a QR scanner's line, a card reader's text, raw bytes — to a
 * typed credential or `malformed`. It never throws: a reader is an input from
 * the street.
 *
 *   dynamic QR  GHD1:<base32 pass uuid, 26>:<8-digit TOTP>                 (40 chars)
 *   static QR   GHS1:<base32 of 93 bytes, 149>                              (154 chars)
 *               GHS2:<base32 of 94 + 4n bytes> — with its site scope     (162 chars for 1 site, 175 for 3)
 *   Wiegand     W26:<26 bits as 0/1> | W34:<34 bits as 0/1>
 *   card text   CARD:<decimal card number>
 *
 * The QR texts use only QR alphanumeric-mode characters (upper case, digits,
 * ':'), so the static QR fits version 7 (or less) at error correction M; parsing is
 * case-insensitive because keyboard-wedge scanners may flip case.
 */
import { createHash } from 'node:crypto';
import { base32Decode, base32Encode } from './base32.js';
import { bytesToUuid, isUuid, uuidToBytes } from './ids.js';
import type { KeyRing, SigningKey } from './signing.js';
import { totpCode } from './totp.js';

export const MAX_CREDENTIAL_LENGTH = 512;

export type CardFormat = 'w26' | 'w34' | 'raw';

export type Credential =
  | { kind: 'dynamic'; passId: string; code: string }
  | {
      kind: 'static';
      passId: string;
      kid: string;
      validFrom: number;
      validTo: number;
      /**
       * CRED-10: tags (`siteTag`) of the sites the QR may open when its pass is
       * not in the edge's cache; null for an unscoped `GHS1` QR.
       */
      sites: readonly string[] | null;
      /** The signed bytes and the signature, verified by `verifyStatic`. */
      signed: Uint8Array;
      sig: Uint8Array;
    }
  | { kind: 'card'; format: CardFormat; number: string; facility?: number; cardNumber?: number };

export type Malformed = { kind: 'malformed'; detail: string };
export type ParsedCredential = Credential | Malformed;

const STATIC_TAG = Buffer.from('gatehouse/static-qr/v1\n');
const STATIC_VERSION = 1;
const STATIC_BODY_LEN = 29; // version 1 + kid 4 + pass 16 + validFrom 4 + validTo 4
const STATIC_LEN = STATIC_BODY_LEN + 64;
/** CRED-10: the scoped static QR adds a site count and 4 bytes per site, and signs under its own tag. */
const SCOPED_TAG = Buffer.from('gatehouse/static-qr/v2\n');
const SCOPED_VERSION = 2;
/** At most this many sites in a scoped QR (3 keep it within QR version 7 at M); a pass for more gets an unscoped QR. */
export const MAX_STATIC_SITES = 8;
const SITE_TAG_PREFIX = Buffer.from('gatehouse/site\n');

/** CRED-10: a site's 4-byte tag in a scoped static QR, as 8 hex digits: the first bytes of SHA-256 over a prefix and the lower-case site UUID. */
export function siteTag(siteId: string): string {
  return createHash('sha256').update(SITE_TAG_PREFIX).update(siteId.toLowerCase()).digest().subarray(0, 4).toString('hex');
}

const malformed = (detail: string): Malformed => ({ kind: 'malformed', detail });

// ---------- encoders ----------

export function encodeDynamicQr(passId: string, code: string): string {
  if (!/^[0-9]{8}$/.test(code)) throw new TypeError('a dynamic QR code is 8 digits');
  return `GHD1:${base32Encode(uuidToBytes(passId))}:${code}`;
}

/** The dynamic QR text for `passId` at time `nowMs` (what the guest page draws). */
export function dynamicQrAt(passId: string, totpSecret: string, nowMs: number): string {
  return encodeDynamicQr(passId, totpCode(totpSecret, nowMs));
}

/**
 * CRED-4: times are whole seconds in the QR, so validity is floored/ceiled to seconds.
 * With `siteIds` (CRED-10) the QR is the scoped `GHS2` form naming those sites; without, the unscoped `GHS1`.
 */
export function encodeStaticQr(
  pass: { passId: string; validFrom: number; validTo: number; siteIds?: readonly string[] },
  key: SigningKey,
): string {
  const sites = pass.siteIds ? [...new Set(pass.siteIds.map(siteTag))].sort() : null;
  if (sites && sites.length > MAX_STATIC_SITES) throw new RangeError(`a static QR names at most ${MAX_STATIC_SITES} sites`);
  const body = Buffer.alloc(STATIC_BODY_LEN + (sites ? 1 + 4 * sites.length : 0));
  body[0] = sites ? SCOPED_VERSION : STATIC_VERSION;
  body.write(key.kid, 1, 'hex');
  Buffer.from(uuidToBytes(pass.passId)).copy(body, 5);
  body.writeUInt32BE(Math.floor(pass.validFrom / 1000), 21);
  body.writeUInt32BE(Math.ceil(pass.validTo / 1000), 25);
  if (sites) {
    body[STATIC_BODY_LEN] = sites.length;
    for (const [i, t] of sites.entries()) body.write(t, STATIC_BODY_LEN + 1 + 4 * i, 'hex');
  }
  const sig = key.sign(Buffer.concat([sites ? SCOPED_TAG : STATIC_TAG, body]));
  return `${sites ? 'GHS2' : 'GHS1'}:${base32Encode(Buffer.concat([body, sig]))}`;
}

/** Builds the bit string of a Wiegand frame with its parity bits (for tests, demos and card printing). */
export function encodeWiegand(format: 'w26' | 'w34', facility: number, card: number): string {
  const [fcBits, cnBits] = format === 'w26' ? [8, 16] : [16, 16];
  if (!Number.isInteger(facility) || facility < 0 || facility >= 2 ** fcBits) throw new RangeError('facility out of range');
  if (!Number.isInteger(card) || card < 0 || card >= 2 ** cnBits) throw new RangeError('card number out of range');
  const data = facility.toString(2).padStart(fcBits, '0') + card.toString(2).padStart(cnBits, '0');
  const half = data.length / 2;
  const ones = (s: string) => [...s].filter((c) => c === '1').length;
  const even = ones(data.slice(0, half)) % 2 === 0 ? '0' : '1';
  const odd = ones(data.slice(half)) % 2 === 0 ? '1' : '0';
  return `${even}${data}${odd}`;
}

/** Canonical key of a card in the cache: `format:number`. */
export function cardKey(card: { format: CardFormat; number: string }): string {
  return `${card.format}:${BigInt(card.number).toString()}`;
}

// ---------- parser ----------

function decodeInput(input: unknown): string | Malformed {
  if (typeof input === 'string') {
    if (input.length > MAX_CREDENTIAL_LENGTH) return malformed('too long');
    return input;
  }
  if (input instanceof Uint8Array) {
    if (input.length > MAX_CREDENTIAL_LENGTH) return malformed('too long');
    for (const b of input) {
      // Printable ASCII plus the line endings and tab a reader may add.
      if (!((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d)) return malformed('binary data');
    }
    return Buffer.from(input).toString('latin1');
  }
  return malformed('not text');
}

/**
 * Wiegand frame as bits (CRED-6/7): 26 bits = even parity over bits 1–12,
 * 8-bit facility, 16-bit card, odd parity over bits 13–24; 34 bits = even
 * parity over bits 1–16, 16-bit facility, 16-bit card, odd parity over 17–32.
 */
export function parseWiegandBits(bits: ArrayLike<number> | string): ParsedCredential {
  const s = typeof bits === 'string' ? bits : Array.from(bits, (b) => (b ? '1' : '0')).join('');
  if (!/^[01]+$/.test(s)) return malformed('wiegand: not bits');
  if (s.length !== 26 && s.length !== 34) return malformed(`wiegand: ${s.length} bits`);
  const data = s.slice(1, -1);
  const half = data.length / 2;
  const ones = (x: string) => {
    let n = 0;
    for (const c of x) if (c === '1') n++;
    return n;
  };
  const evenOk = (ones(data.slice(0, half)) + (s[0] === '1' ? 1 : 0)) % 2 === 0;
  const oddOk = (ones(data.slice(half)) + (s[s.length - 1] === '1' ? 1 : 0)) % 2 === 1;
  if (!evenOk || !oddOk) return malformed('wiegand: parity');
  const fcBits = s.length === 26 ? 8 : 16;
  const facility = Number.parseInt(data.slice(0, fcBits), 2);
  const cardNumber = Number.parseInt(data.slice(fcBits), 2);
  return {
    kind: 'card',
    format: s.length === 26 ? 'w26' : 'w34',
    number: Number.parseInt(data, 2).toString(),
    facility,
    cardNumber,
  };
}

function parseDynamic(rest: string): ParsedCredential {
  const m = /^([A-Za-z2-7]{26}):([0-9]{8})$/.exec(rest);
  if (!m) return malformed('dynamic: layout');
  const bytes = base32Decode(m[1] ?? '');
  if (!bytes || bytes.length !== 16) return malformed('dynamic: pass id');
  return { kind: 'dynamic', passId: bytesToUuid(bytes), code: m[2] ?? '' };
}

const base32Length = (bytes: number) => Math.ceil((bytes * 8) / 5);

function parseStatic(rest: string, scoped: boolean): ParsedCredential {
  if (scoped ? rest.length < base32Length(STATIC_LEN + 1) : rest.length !== 149) return malformed('static: length');
  const bytes = base32Decode(rest);
  if (!bytes || bytes.length < STATIC_LEN) return malformed('static: encoding');
  const buf = Buffer.from(bytes);
  if (buf[0] !== (scoped ? SCOPED_VERSION : STATIC_VERSION)) return malformed('static: version');
  let bodyLen = STATIC_BODY_LEN;
  let sites: string[] | null = null;
  if (scoped) {
    const n = buf[STATIC_BODY_LEN] ?? 0;
    bodyLen = STATIC_BODY_LEN + 1 + 4 * n;
    if (n > MAX_STATIC_SITES || buf.length !== bodyLen + 64 || rest.length !== base32Length(bodyLen + 64))
      return malformed('static: length');
    sites = [];
    for (let i = 0; i < n; i++) sites.push(buf.subarray(STATIC_BODY_LEN + 1 + 4 * i, STATIC_BODY_LEN + 5 + 4 * i).toString('hex'));
  } else if (buf.length !== STATIC_LEN) return malformed('static: encoding');
  const validFrom = buf.readUInt32BE(21) * 1000;
  const validTo = buf.readUInt32BE(25) * 1000;
  if (validTo <= validFrom) return malformed('static: validity');
  return {
    kind: 'static',
    passId: bytesToUuid(buf.subarray(5, 21)),
    kid: buf.subarray(1, 5).toString('hex'),
    validFrom,
    validTo,
    sites,
    signed: buf.subarray(0, bodyLen),
    sig: buf.subarray(bodyLen),
  };
}

/** Any reader input → a credential or `malformed`. Never throws. */
export function parseCredential(input: unknown): ParsedCredential {
  const decoded = decodeInput(input);
  if (typeof decoded !== 'string') return decoded;
  const text = decoded.trim();
  if (text.length === 0) return malformed('empty');
  const colon = text.indexOf(':');
  if (colon < 0) return malformed('no prefix');
  const prefix = text.slice(0, colon).toUpperCase();
  const rest = text.slice(colon + 1);
  switch (prefix) {
    case 'GHD1':
      return parseDynamic(rest);
    case 'GHS1':
      return parseStatic(rest, false);
    case 'GHS2':
      return parseStatic(rest, true);
    case 'W26':
    case 'W34': {
      const r = parseWiegandBits(rest);
      if (r.kind === 'card' && r.format !== prefix.toLowerCase()) return malformed('wiegand: length does not match prefix');
      return r;
    }
    case 'CARD': {
      if (!/^[0-9]{1,20}$/.test(rest)) return malformed('card: number');
      return { kind: 'card', format: 'raw', number: BigInt(rest).toString() };
    }
    default:
      return malformed('unknown prefix');
  }
}

/** CRED-5: verifies a static QR's signature against the org's key ring (each format under its own tag). */
export function verifyStatic(cred: Extract<Credential, { kind: 'static' }>, ring: KeyRing): boolean {
  const tag = cred.signed[0] === SCOPED_VERSION ? SCOPED_TAG : STATIC_TAG;
  return ring.verify(cred.kid, Buffer.concat([tag, cred.signed]), cred.sig);
}

export function isPassId(s: unknown): s is string {
  return isUuid(s);
}
