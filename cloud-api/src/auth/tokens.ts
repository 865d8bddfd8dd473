import { createHmac } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

/**
 * Gatehouse's own JWTs (HS256, key derived from the master key). `typ`
 * keeps purposes apart: an access token is not a guest link and vice versa.
 */
export type TokenPurpose = 'access' | 'guest' | 'guest-session';

export interface AccessClaims {
  sub: string;
  org: string;
  sid: string;
}

export interface GuestClaims {
  /** The pass this link shows. */
  sub: string;
  org: string;
}

/** A guest who proved their address with the one-time code: this pass's credential, until `exp`. */
export interface GuestSessionClaims {
  /** The pass. */
  sub: string;
  org: string;
}

const ISSUER = 'gatehouse';
/**
 * A guest session also names its audience, besides its own `typ`: two
 * independent checks keep a link (which anyone it was forwarded to holds)
 * from ever passing as a proven session, and a session from passing as a link.
 */
const GUEST_SESSION_AUDIENCE = 'gatehouse:guest-session';

export class TokenService {
  /**
   * Access tokens already verified, until their expiry: a console session
   * sends the same token with every request, and verifying it again each
   * time (WebCrypto HMAC, a thread-pool hop) was most of a small request's cost.
   */
  readonly #verified = new Map<string, { claims: AccessClaims; exp: number }>();

  constructor(
    private readonly key: Uint8Array,
    private readonly accessTtlS: number,
  ) {}

  async signAccess(c: AccessClaims): Promise<string> {
    return new SignJWT({ org: c.org, sid: c.sid })
      .setProtectedHeader({ alg: 'HS256', typ: 'access+jwt' })
      .setSubject(c.sub)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.accessTtlS}s`)
      .sign(this.key);
  }

  /**
   * Every issuance signs one, so it is signed here with node:crypto's HMAC, synchronously: jose imports the
   * key into WebCrypto and hops to the thread pool for each signature, which profiled at ~15% of an
   * issuance's CPU. The same HS256 JWT (jose verifies it).
   */
  async signGuest(c: GuestClaims, expiresAt: Date): Promise<string> {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${b64({ alg: 'HS256', typ: 'guest+jwt' })}.${b64({
      org: c.org,
      sub: c.sub,
      iss: ISSUER,
      iat: Math.floor(Date.now() / 1000),
      exp: Math.ceil(expiresAt.getTime() / 1000),
    })}`;
    return `${input}.${createHmac('sha256', this.key).update(input).digest('base64url')}`;
  }

  async signGuestSession(c: GuestSessionClaims, expiresAt: Date): Promise<string> {
    return new SignJWT({ org: c.org })
      .setProtectedHeader({ alg: 'HS256', typ: 'guest-session+jwt' })
      .setSubject(c.sub)
      .setIssuer(ISSUER)
      .setAudience(GUEST_SESSION_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.ceil(expiresAt.getTime() / 1000))
      .sign(this.key);
  }

  async verifyAccess(token: string): Promise<AccessClaims | null> {
    const now = Date.now();
    const hit = this.#verified.get(token);
    if (hit) {
      if (hit.exp > now) return hit.claims;
      this.#verified.delete(token);
    }
    const p = await this.#verify(token, 'access+jwt');
    if (!p || typeof p.org !== 'string' || typeof p.sid !== 'string' || typeof p.sub !== 'string' || typeof p.exp !== 'number') return null;
    const claims = { sub: p.sub, org: p.org, sid: p.sid };
    if (this.#verified.size >= 10_000) this.#verified.clear();
    this.#verified.set(token, { claims, exp: p.exp * 1000 });
    return claims;
  }

  async verifyGuest(token: string): Promise<GuestClaims | null> {
    const p = await this.#verify(token, 'guest+jwt');
    if (!p || typeof p.org !== 'string' || typeof p.sub !== 'string') return null;
    return { sub: p.sub, org: p.org };
  }

  async verifyGuestSession(token: string): Promise<GuestSessionClaims | null> {
    const p = await this.#verify(token, 'guest-session+jwt', GUEST_SESSION_AUDIENCE);
    if (!p || typeof p.org !== 'string' || typeof p.sub !== 'string') return null;
    return { sub: p.sub, org: p.org };
  }

  /** True when the text is one of ours (so the OIDC path is not tried on it). */
  static isOwn(token: string): boolean {
    try {
      const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { typ?: unknown };
      return header.typ === 'access+jwt' || header.typ === 'guest+jwt' || header.typ === 'guest-session+jwt';
    } catch {
      return false;
    }
  }

  async #verify(token: string, typ: string, audience?: string) {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        typ,
        algorithms: ['HS256'],
        ...(audience ? { audience } : {}),
      });
      // Only a guest session carries an audience: a token with one is no link and no access token.
      if (!audience && payload.aud !== undefined) return null;
      return payload;
    } catch (e) {
      if (e instanceof errors.JOSEError) return null;
      throw e;
    }
  }
}
