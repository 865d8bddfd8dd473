import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Every key the cloud uses is its own HKDF-SHA256 subkey of the master key,
 * one `info` label per purpose: a key for one purpose says nothing about the
 * others, and the master key itself never touches data or tokens.
 */
const HKDF_SALT = Buffer.from('gatehouse/hkdf/v2');
export const SUBKEY_INFO = {
  /** AES-256-GCM for sealed columns (`Sealer`). */
  data: 'gatehouse/data-encryption/v2',
  /** HS256 for the cloud's own JWTs (access tokens, guest links). */
  jwt: 'gatehouse/jwt-signing/v2',
  /** HMAC for keyed lookup hashes of sealed values (a user's e-mail). */
  lookup: 'gatehouse/lookup-hash/v2',
  /** Names the master key in sealed text, so rotation knows what is left to re-seal. */
  kid: 'gatehouse/key-id/v2',
} as const;
export type SubkeyPurpose = keyof typeof SUBKEY_INFO;

export function subkey(masterKey: Buffer, purpose: SubkeyPurpose): Buffer {
  if (masterKey.length !== 32) throw new TypeError('master key must be 32 bytes');
  return Buffer.from(hkdfSync('sha256', masterKey, HKDF_SALT, SUBKEY_INFO[purpose], 32));
}

/** A short public name of a master key (not a secret: an HKDF output of its own label). */
export function keyId(masterKey: Buffer): string {
  return subkey(masterKey, 'kid').subarray(0, 4).toString('hex');
}

interface KeySet {
  kid: string;
  data: Buffer;
  lookup: Buffer;
  /** The pre-HKDF data key (`v1` text), still opened so databases written before keep working. */
  legacy: Buffer;
}

function keySet(masterKey: Buffer): KeySet {
  return {
    kid: keyId(masterKey),
    data: subkey(masterKey, 'data'),
    lookup: subkey(masterKey, 'lookup'),
    legacy: createHmac('sha256', masterKey).update('gatehouse/at-rest/v1').digest(),
  };
}

/**
 * AES-256-GCM for data at rest (personal data, org signing keys, TOTP secrets).
 * Text form: `v2-<key id>.<iv b64url>.<tag b64url>.<ciphertext b64url>`,
 * sealed with the current master key's data subkey. Opens `v2` text of the
 * current or the previous master key (`GATEHOUSE_MASTER_KEY_PREVIOUS`, kept
 * read-only during a rotation) and `v1` text (the HMAC-derived key of before
 * HKDF) of either. `aad` binds a value to its column so a ciphertext copied
 * into another column does not decrypt.
 */
export class Sealer {
  readonly #current: KeySet;
  readonly #previous: KeySet | null;

  constructor(masterKey: Buffer, previousKey: Buffer | null = null) {
    if (masterKey.length !== 32) throw new TypeError('master key must be 32 bytes');
    this.#current = keySet(masterKey);
    this.#previous = previousKey && !previousKey.equals(masterKey) ? keySet(previousKey) : null;
  }

  /** The current master key's id, as sealed text names it. */
  get keyId(): string {
    return this.#current.kid;
  }

  seal(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#current.data, iv);
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `v2-${this.#current.kid}.${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`;
  }

  open(sealed: string, aad: string): string {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v === undefined || iv === undefined || tag === undefined || ct === undefined) throw new Error('unsupported sealed value');
    const keys: Buffer[] = [];
    if (v === 'v1') keys.push(this.#current.legacy, ...(this.#previous ? [this.#previous.legacy] : []));
    else if (v === `v2-${this.#current.kid}`) keys.push(this.#current.data);
    else if (this.#previous && v === `v2-${this.#previous.kid}`) keys.push(this.#previous.data);
    else throw new Error('sealed under an unknown key or version');
    let last: unknown;
    for (const key of keys) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        d.setAAD(Buffer.from(aad));
        d.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  /** Whether `sealed` is already in the current form (`v2` under the current key): rotation skips it. */
  isCurrent(sealed: string | null): boolean {
    return sealed == null || sealed.startsWith(`v2-${this.#current.kid}.`);
  }

  /** The same value sealed under the current key (unchanged when it already is). */
  reseal(sealed: string, aad: string): string {
    return this.isCurrent(sealed) ? sealed : this.seal(this.open(sealed, aad), aad);
  }

  resealNullable(sealed: string | null, aad: string): string | null {
    return sealed == null ? null : this.reseal(sealed, aad);
  }

  sealNullable(plain: string | null | undefined, aad: string): string | null {
    return plain == null ? null : this.seal(plain, aad);
  }

  openNullable(sealed: string | null, aad: string): string | null {
    return sealed == null ? null : this.open(sealed, aad);
  }

  /**
   * Keyed hash for exact lookups of a sealed value (HMAC-SHA256 with the lookup
   * subkey); `label` keeps columns apart. Written with the current key.
   */
  lookupHash(value: string, label: string): string {
    return lookupHmac(this.#current.lookup, value, label);
  }

  /** The hashes a lookup must accept: the current key's, and during a rotation the previous key's. */
  lookupHashes(value: string, label: string): string[] {
    const out = [this.lookupHash(value, label)];
    if (this.#previous) out.push(lookupHmac(this.#previous.lookup, value, label));
    return out;
  }
}

function lookupHmac(key: Buffer, value: string, label: string): string {
  return createHmac('sha256', key).update(label).update('\0').update(value).digest('hex');
}

/** Derives a purpose-specific secret from the master key (login throttle keys, audit digests, …), by HKDF like `subkey`. */
export function deriveKey(masterKey: Buffer, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', masterKey, HKDF_SALT, `gatehouse/${purpose}`, 32));
}

/** Opaque bearer secrets (refresh tokens, enrollment codes) are stored only as this hash. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
