import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { sharedRateLimitStore } from '../../auth/rate-limit-store.js';
import type { RateLimits } from '../../config.js';
import { HttpError } from '../../lib/errors.js';

const MINUTE = 60_000;
/** The client's address, IPv6 grouped by /64 as the plugin does (one host usually owns a whole /64). */
const byAddress = (req: FastifyRequest) => `ip:${normalizeIP(req.ip)}`;

/**
 * Request limits (@fastify/rate-limit): every route
 * gets `api` requests a minute per signed-in user (the route guard runs first
 * and sets the principal), per application API key (its own
 * `rateLimitPerMinute` when it has one), else per address; refresh, enrollment and the guest
 * routes get their own, lower, per-address limits, set here by URL so the
 * policy is in one place. Sign-in has its own throttle, shared through the
 * database (auth/rate-limit.ts). Over the limit: 429 with the contract's error
 * body and the draft-spec `RateLimit-Limit/Remaining/Reset` and `Retry-After`.
 *
 * On PostgreSQL the counts are shared by every instance (auth/rate-limit-store.ts),
 * so the limits hold for a client whatever instance a proxy sends it to; on
 * PGlite (one process) they are counted in memory. A database that cannot
 * count lets the request through (skipOnError): the limit lapses while it is
 * down rather than every route, liveness and the console included, failing.
 */
export default fp<{ limits: RateLimits }>(
  async (app, { limits }) => {
    const perAddress = (max: number) => ({ max, timeWindow: MINUTE, keyGenerator: byAddress });
    // Added before the plugin's own onRoute hook, so the plugin sees these per-route settings.
    app.addHook('onRoute', (route) => {
      const methods = [route.method].flat();
      let policy: ReturnType<typeof perAddress> | null = null;
      if (route.url === '/api/auth/refresh' && methods.includes('POST')) policy = perAddress(limits.refresh);
      else if (route.url === '/api/edge/enroll' && methods.includes('POST')) policy = perAddress(limits.enroll);
      else if (route.url.startsWith('/api/guest/')) policy = perAddress(limits.guest);
      if (policy) route.config = { ...route.config, rateLimit: policy };
    });
    const database = app.ctx.database;
    await app.register(rateLimit, {
      global: true,
      ...(database.kind === 'postgres' ? { store: sharedRateLimitStore(database.db), skipOnError: true } : {}),
      timeWindow: MINUTE,
      hook: 'onRequest',
      // An application's key is counted on its own, against its own limit (rateLimitPerMinute, else the default).
      keyGenerator: (req) =>
        req.principal?.app ? `key:${req.principal.app.keyId}` : req.principal ? `user:${req.principal.userId}` : byAddress(req),
      max: (req) => req.principal?.app?.rateLimitPerMinute ?? limits.api,
      enableDraftSpec: true,
      errorResponseBuilder: (_req, c) => new HttpError(c.statusCode, 'rate_limited', `too many requests; try again in ${c.after}`),
    });
  },
  { name: 'rate-limit' },
);
