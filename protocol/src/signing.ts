/**
 * Ed25519 signing of cloud→edge messages (SPEC SIGN-1..SIGN-6).
 *
 * An envelope is `{kid, payload, sig}`: payload is the message's bytes in
 * base64, sig the Ed25519 signature of a domain tag followed by those bytes.
 * The edge keeps the org's public key(s) from enrollment and applies nothing
 * whose signature, org, device or sequence does not check, so a compromised
 * broker cannot add a pass.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { type DownMessage, type Envelope, validators } from './messages.js';

const ENVELOPE_TAG = Buffer.from('gatehouse/envelope/v1\n');
// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface SigningKey {
  readonly kid: string;
  /** Raw 32-byte public key, base64. */
  readonly publicKey: string;
  sign(data: Uint8Array): Buffer;
}

export interface KeyPair {
  kid: string;
  /** Raw 32-byte Ed25519 public key, base64 — what edges are given. */
  publicKey: string;
  /** PKCS#8 DER, base64 — what the cloud keeps (encrypted). */
  privateKey: string;
}

/** SIGN-1: the key id is the first 4 bytes of SHA-256 over the raw public key, in hex. */
export function keyId(rawPublicKey: Uint8Array): string {
  return createHash('sha256').update(rawPublicKey).digest('hex').slice(0, 8);
}

/**
 * SIGN-7: what a person compares to notice a man in the middle at enrollment:
 * SHA-256 over the raw public key, upper-case hex in groups of four
 * (`AB12-CD34-…`, 16 groups). The edge prints it; the console shows it.
 */
export function keyFingerprint(rawPublicKeyB64: string): string {
  const hex = createHash('sha256').update(Buffer.from(rawPublicKeyB64, 'base64')).digest('hex').toUpperCase();
  return hex.match(/.{4}/g)!.join('-');
}

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  return {
    kid: keyId(raw),
    publicKey: raw.toString('base64'),
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  };
}

export function signingKey(privateKeyB64: string): SigningKey {
  const key = createPrivateKey({ key: Buffer.from(privateKeyB64, 'base64'), format: 'der', type: 'pkcs8' });
  const raw = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  return {
    kid: keyId(raw),
    publicKey: raw.toString('base64'),
    sign: (data) => sign(null, data, key),
  };
}

function publicKeyObject(rawB64: string): KeyObject {
  const raw = Buffer.from(rawB64, 'base64');
  if (raw.length !== 32) throw new TypeError('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The public keys an edge trusts, by kid (more than one during a key rotation). */
export class KeyRing {
  readonly #keys = new Map<string, KeyObject>();

  constructor(publicKeys: Iterable<string> = []) {
    for (const k of publicKeys) this.add(k);
  }

  add(rawPublicKeyB64: string): string {
    const kid = keyId(Buffer.from(rawPublicKeyB64, 'base64'));
    this.#keys.set(kid, publicKeyObject(rawPublicKeyB64));
    return kid;
  }

  get size(): number {
    return this.#keys.size;
  }

  /** Ed25519 verify of `data` under key `kid`; false for an unknown kid. */
  verify(kid: string, data: Uint8Array, sig: Uint8Array): boolean {
    const key = this.#keys.get(kid);
    if (!key || sig.length !== 64) return false;
    try {
      return verify(null, data, key, sig);
    } catch {
      return false;
    }
  }

  has(kid: string): boolean {
    return this.#keys.has(kid);
  }
}

export function signEnvelope(payload: Uint8Array, key: SigningKey): Envelope {
  const sig = key.sign(Buffer.concat([ENVELOPE_TAG, payload]));
  return { kid: key.kid, payload: Buffer.from(payload).toString('base64'), sig: sig.toString('base64') };
}

export type VerifyError = 'malformed' | 'unknown_key' | 'bad_signature';

/** SIGN-2/3: checks an envelope's shape and signature; returns the signed bytes. Never throws. */
export function verifyEnvelope(
  input: unknown,
  ring: KeyRing,
): { ok: true; kid: string; payload: Buffer } | { ok: false; error: VerifyError } {
  let env: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const parsed = validators.envelope.parse(input);
    if (!parsed.ok) return { ok: false, error: 'malformed' };
    env = parsed.value;
  }
  if (!validators.envelope.check(env)) return { ok: false, error: 'malformed' };
  if (!ring.has(env.kid)) return { ok: false, error: 'unknown_key' };
  const payload = Buffer.from(env.payload, 'base64');
  const sig = Buffer.from(env.sig, 'base64');
  if (!ring.verify(env.kid, Buffer.concat([ENVELOPE_TAG, payload]), sig)) return { ok: false, error: 'bad_signature' };
  return { ok: true, kid: env.kid, payload };
}

/** Serialises and signs a cloud→edge message; the result is the MQTT payload. */
export function sealMessage(message: DownMessage, key: SigningKey): string {
  return JSON.stringify(signEnvelope(Buffer.from(JSON.stringify(message)), key));
}

export type OpenError = VerifyError | 'invalid' | 'wrong_org' | 'wrong_device' | 'stale';

export interface OpenExpectations {
  orgId: string;
  deviceId: string;
  /** SIGN-4: a message whose `seq` is not above this is a replay or stale and is rejected. */
  lastSeq?: number;
}

/**
 * Verifies, parses and checks a signed cloud→edge message against what this
 * edge expects. The order matters: nothing of the payload is trusted before
 * the signature checks.
 */
export function openMessage(
  input: unknown,
  ring: KeyRing,
  expect: OpenExpectations,
): { ok: true; message: DownMessage } | { ok: false; error: OpenError } {
  const verified = verifyEnvelope(input, ring);
  if (!verified.ok) return verified;
  const parsed = validators.downMessage.parse(verified.payload);
  if (!parsed.ok) return { ok: false, error: 'invalid' };
  const message = parsed.value;
  if (message.orgId !== expect.orgId) return { ok: false, error: 'wrong_org' };
  if (message.deviceId !== expect.deviceId) return { ok: false, error: 'wrong_device' };
  if (expect.lastSeq !== undefined && message.seq <= expect.lastSeq) return { ok: false, error: 'stale' };
  return { ok: true, message };
}
