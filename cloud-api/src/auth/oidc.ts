import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';

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
  ) {}

  async #keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.#jwks) return this.#jwks;
    this.#discovery ??= (async () => {
      const res = await fetch(`${this.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`OIDC discovery answered ${res.status}`);
      const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (doc.issuer !== this.issuer) throw new Error('OIDC discovery names another issuer');
      if (typeof doc.jwks_uri !== 'string') throw new Error('OIDC discovery has no jwks_uri');
      this.#jwks = createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: 5000 });
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
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.#keys(), {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
      }));
    } catch (e) {
      if (e instanceof errors.JOSEError || e instanceof TypeError) return null;
      throw e;
    }
    if (payload.email_verified !== true || typeof payload.email !== 'string') return null;
    return payload.email;
  }
}
