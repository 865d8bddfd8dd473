import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import { HttpError } from '../lib/errors.js';

/** How long discovery or one key-set fetch may take before the provider counts as down, unless configured (OIDC_TIMEOUT_S). */
export const OIDC_TIMEOUT_MS = 5000;

/**
 * The provider could not be reached (down, refusing, timing out): a 503 the client may retry, never a 401 that
 * would send a signed-in user back to a login that cannot work either. Tokens whose key is already cached keep
 * validating meanwhile (jose keeps the fetched key set, `cacheMaxAge`, ten minutes by default).
 */
export const oidcUnavailable = () =>
  new HttpError(503, 'oidc_unavailable', 'the identity provider cannot be reached; sign in with a password or retry shortly', {
    'retry-after': '10',
  });

/** A failure to fetch the key set, as jose reports it: a timeout, a network error (fetch's TypeError), a non-200. */
function providerDown(e: unknown): boolean {
  if (e instanceof errors.JWKSTimeout) return true;
  if (e instanceof TypeError && e.message === 'fetch failed') return true;
  return e instanceof errors.JOSEError && /JSON Web Key Set HTTP response/.test(e.message);
}

/**
 * Bearer tokens from an external OpenID provider (Keycloak, …): the keys come
 * from the JWKS its discovery document names; the token must carry our
 * audience and a verified e-mail. Who the user is and what they may do is
 * decided by our users table, never by claims in the token.
 */
export class OidcVerifier {
  #jwks: ReturnType<typeof createRemoteJWKSet> | null = null;
  #discovery: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;

  constructor(
    readonly issuer: string,
    readonly audience: string,
    /** Bounds discovery and each key-set fetch: a provider that accepts connections and never answers is down after this. */
    readonly timeoutMs: number = OIDC_TIMEOUT_MS,
  ) {}

  async #keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.#jwks) return this.#jwks;
    this.#discovery ??= (async () => {
      const res = await fetch(`${this.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!res.ok) throw new Error(`OIDC discovery answered ${res.status}`);
      const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (doc.issuer !== this.issuer) throw new Error('OIDC discovery names another issuer');
      if (typeof doc.jwks_uri !== 'string') throw new Error('OIDC discovery has no jwks_uri');
      this.#jwks = createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: this.timeoutMs });
      return this.#jwks;
    })();
    try {
      return await this.#discovery;
    } catch (e) {
      // Let the next request retry discovery rather than caching a failure forever.
      this.#discovery = null;
      throw e;
    }
  }

  /** The verified e-mail of a valid token, or null for any token that does not check. */
  async verifiedEmail(token: string): Promise<string | null> {
    let keys: ReturnType<typeof createRemoteJWKSet>;
    try {
      keys = await this.#keys();
    } catch {
      throw oidcUnavailable();
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
      }));
    } catch (e) {
      if (providerDown(e)) throw oidcUnavailable();
      if (e instanceof errors.JOSEError || e instanceof TypeError) return null;
      throw e;
    }
    if (payload.email_verified !== true || typeof payload.email !== 'string') return null;
    return payload.email;
  }
}
