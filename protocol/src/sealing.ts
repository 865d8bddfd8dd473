/**
 * Secrets sealed to one controller (SPEC SEAL-1..SEAL-6).
 *
 * Each controller makes an X25519 key pair at enrollment and keeps the
 * private key; the cloud holds its public key. A sync message that carries
 * TOTP secrets carries one fresh ephemeral public key (`epk`): the message
 * key is HKDF-SHA256 over the X25519 shared secret, and each secret is sealed
 * under it with AES-256-GCM, its own nonce, and the pass id as associated
 * data. One ECDH per message, one AES-GCM per secret: cheap for a snapshot of
 * 100k passes. The message stays signed outside (SIGN-2): the seal keeps the
 * broker from reading, the signature keeps it from changing.
 *
 * Keys are raw 32-byte X25519 keys in base64, both halves.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import type { PassRecord, SealedPassRecord } from './messages.js';

/** HKDF info: names the construction and its version. */
export const SEAL_INFO = 'gatehouse/seal/v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
// DER prefixes of an X25519 SubjectPublicKeyInfo and PKCS#8 private key; the raw 32 bytes follow.
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface DeviceKeyPair {
  /** Raw 32-byte X25519 public key, base64: what the cloud is given at enrollment. */
  publicKey: string;
  /** Raw 32-byte X25519 private key, base64: never leaves the controller. */
  privateKey: string;
}

function raw32(b64: string, what: string): Buffer {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== b64) throw new TypeError(`${what} is not a 32-byte X25519 key in base64`);
  return raw;
}

const publicKeyObject = (b64: string): KeyObject =>
  createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw32(b64, 'public key')]), format: 'der', type: 'spki' });
const privateKeyObject = (b64: string): KeyObject =>
  createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw32(b64, 'private key')]), format: 'der', type: 'pkcs8' });
const rawPublic = (k: KeyObject): string => k.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length).toString('base64');

/** SEAL-1: a controller's key pair, made on the controller. */
export function generateDeviceKeyPair(): DeviceKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    publicKey: rawPublic(publicKey),
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length).toString('base64'),
  };
}

/** The public half of a raw private key (throws on a key that is not one). */
export function devicePublicKey(privateKey: string): string {
  return rawPublic(createPublicKey(privateKeyObject(privateKey)));
}

/** Whether a string is a usable X25519 public key. */
export function isDevicePublicKey(b64: string): boolean {
  try {
    publicKeyObject(b64);
    return true;
  } catch {
    return false;
  }
}

/** SEAL-2: the message key: HKDF-SHA256(X25519 shared secret, salt = epk ‖ recipient public key, info = SEAL_INFO). */
function messageKey(shared: Buffer, epk: string, recipient: string): Buffer {
  const salt = Buffer.concat([Buffer.from(epk, 'base64'), Buffer.from(recipient, 'base64')]);
  return Buffer.from(hkdfSync('sha256', shared, salt, SEAL_INFO, 32));
}

export interface SecretSealer {
  /** The message's ephemeral public key (base64), sent as the message's `epk`. */
  readonly epk: string;
  /** SEAL-3: base64(nonce ‖ AES-256-GCM ciphertext ‖ tag) of the text, bound to `aad`. */
  seal(plaintext: string, aad: string, nonce?: Uint8Array): string;
}

/**
 * A sealer for one message to one recipient: one ephemeral key, one ECDH.
 * `ephemeralPrivateKey` and the per-call nonce are for test vectors only.
 */
export function secretSealer(recipientPublicKey: string, opts: { ephemeralPrivateKey?: string } = {}): SecretSealer {
  const recipient = publicKeyObject(recipientPublicKey);
  const eph = opts.ephemeralPrivateKey ? privateKeyObject(opts.ephemeralPrivateKey) : generateKeyPairSync('x25519').privateKey;
  const epk = rawPublic(createPublicKey(eph));
  const key = messageKey(diffieHellman({ privateKey: eph, publicKey: recipient }), epk, recipientPublicKey);
  // The key is this message's alone (a fresh ephemeral key), so a counter is a nonce that never repeats under it.
  let counter = 0n;
  return {
    epk,
    seal(plaintext, aad, nonce) {
      if (nonce === undefined) {
        const n = Buffer.alloc(NONCE_BYTES);
        n.writeBigUInt64BE(++counter, 4);
        nonce = n;
      }
      if (nonce.length !== NONCE_BYTES) throw new TypeError('a nonce is 12 bytes');
      const c = createCipheriv('aes-256-gcm', key, nonce);
      c.setAAD(Buffer.from(aad, 'utf8'));
      const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64');
    },
  };
}

export interface SecretOpener {
  /** SEAL-4: the text, or null when it does not open (another device's key, changed bytes, another `aad`). Never throws. */
  open(sealed: string, aad: string): string | null;
}

/** An opener for one message: the recipient's private key and the message's `epk`. A bad `epk` gives an opener that opens nothing. */
export function secretOpener(recipientPrivateKey: string, epk: string): SecretOpener {
  let key: Buffer;
  try {
    const priv = privateKeyObject(recipientPrivateKey);
    const shared = diffieHellman({ privateKey: priv, publicKey: publicKeyObject(epk) });
    key = messageKey(shared, epk, rawPublic(createPublicKey(priv)));
  } catch {
    return { open: () => null };
  }
  return {
    open(sealed, aad) {
      const buf = Buffer.from(sealed, 'base64');
      if (buf.length < NONCE_BYTES + TAG_BYTES + 1) return null;
      try {
        const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, NONCE_BYTES));
        d.setAAD(Buffer.from(aad, 'utf8'));
        d.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
        return Buffer.concat([d.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES)), d.final()]).toString('utf8');
      } catch {
        return null;
      }
    },
  };
}

/** SEAL-3: the associated data of a pass's sealed secret: the pass id, so a sealed secret cannot be moved to another pass. */
export const passAad = (passId: string): string => `pass:${passId}`;

/** SEAL-3/SEAL-5: a cached pass as a sync carries it: its TOTP secret sealed, or null without a sealer (never in the clear). */
export function sealPassRecord(p: PassRecord, sealer: SecretSealer | null): SealedPassRecord {
  const { totpSecret, ...rest } = p;
  return { ...rest, totpSealed: totpSecret && sealer ? sealer.seal(totpSecret, passAad(p.id)) : null };
}

/** SEAL-4: a synced pass as the edge caches it; `opened` is false when a sealed secret did not open (the pass keeps no secret). */
export function openPassRecord(p: SealedPassRecord, opener: SecretOpener | null): { pass: PassRecord; opened: boolean } {
  const { totpSealed, ...rest } = p;
  if (totpSealed === null) return { pass: { ...rest, totpSecret: null }, opened: true };
  const secret = opener?.open(totpSealed, passAad(p.id)) ?? null;
  const valid = secret !== null && /^[A-Z2-7]{16,128}$/.test(secret);
  return { pass: { ...rest, totpSecret: valid ? secret : null }, opened: valid };
}

/** CMD-5: the associated data of an OSDP reader key: device and reader, so a sealed key cannot be moved to another reader. */
export const osdpKeyAad = (deviceId: string, reader: string): string => `osdp:${deviceId}:${reader}`;

/** CMD-5: names an OSDP Secure Channel base key in a status or a list: the first 8 hex digits of its SHA-256. */
export function osdpKeyId(scbk: Uint8Array): string {
  return createHash('sha256').update(scbk).digest('hex').slice(0, 8);
}

/** CMD-5: a new 16-byte SCBK sealed to one controller for one of its readers: the command's `epk` and `secret`. */
export function sealOsdpKey(devicePublicKey: string, deviceId: string, reader: string, scbk: Uint8Array): { epk: string; secret: string } {
  if (scbk.length !== 16) throw new TypeError('an SCBK is 16 bytes');
  const sealer = secretSealer(devicePublicKey);
  return { epk: sealer.epk, secret: sealer.seal(Buffer.from(scbk).toString('hex'), osdpKeyAad(deviceId, reader)) };
}

/** CMD-5: the SCBK of a keyset command, or null when it does not open for this device and reader or is not 16 bytes. Never throws. */
export function openOsdpKey(devicePrivateKey: string, deviceId: string, c: { reader: string; epk: string; secret: string }): Buffer | null {
  const hex = secretOpener(devicePrivateKey, c.epk).open(c.secret, osdpKeyAad(deviceId, c.reader));
  return hex !== null && /^[0-9a-f]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : null;
}
