import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for data at rest (personal data, org signing keys, TOTP secrets).
 * Text form: `v1.<iv b64url>.<tag b64url>.<ciphertext b64url>`; the version
 * prefix leaves room for key rotation. `aad` binds a value to its column so a
 * ciphertext copied into another column does not decrypt.
 */
export class Sealer {
  readonly #key: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new TypeError('master key must be 32 bytes');
    // Separate subkeys per purpose, so the master key itself never touches data.
    this.#key = createHmac('sha256', masterKey).update('gatehouse/at-rest/v1').digest();
  }

  seal(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `v1.${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`;
  }

  open(sealed: string, aad: string): string {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v !== 'v1' || iv === undefined || tag === undefined || ct === undefined) throw new Error('unsupported sealed value');
    const d = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
  }

  sealNullable(plain: string | null | undefined, aad: string): string | null {
    return plain == null ? null : this.seal(plain, aad);
  }

  openNullable(sealed: string | null, aad: string): string | null {
    return sealed == null ? null : this.open(sealed, aad);
  }
}

/** Derives a purpose-specific secret from the master key (JWT signing, etc.). */
export function deriveKey(masterKey: Buffer, purpose: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', masterKey).update(`gatehouse/${purpose}`).digest());
}

/** Opaque bearer secrets (refresh tokens, enrollment codes) are stored only as this hash. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
