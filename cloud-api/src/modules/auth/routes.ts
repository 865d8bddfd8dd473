import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LoginThrottle } from '../../auth/rate-limit.js';
import { actorOf } from '../../lib/audit.js';
import { HttpError } from '../../lib/errors.js';
import { NoContent } from '../../plugins/app/api-docs.js';
import { LoginBody, ProfilePatch, RefreshBody, TokenPair, UserSummary } from './schema.js';
import { login, logout, me, refresh, setOwnLanguage } from './service.js';

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const throttle = new LoginThrottle(ctx.db, ctx.config.masterKey, ctx.config.loginThrottle);
  const client = (req: { ip: string; headers: Record<string, string | string[] | undefined> }) => ({
    ip: req.ip ?? null,
    userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 500) : null,
  });

  app.post(
    '/login',
    {
      config: {
        errors: {
          401: 'wrong e-mail or password (`unauthorized`)',
          409: 'the e-mail and password open accounts in several organisations: sign in again with organizationId (`organization_required`)',
          429: 'too many attempts for this account or address (`rate_limited`); retry after `Retry-After` seconds',
        },
      },
      schema: { tags: ['auth'], summary: 'Sign in with e-mail and password', body: LoginBody, response: { 200: TokenPair } },
    },
    async (req) => {
      // Every attempt is counted in the database before the password is checked, per account+address,
      // per address and per account (auth/rate-limit.ts): past the free attempts each further one waits
      // a growing delay, and the owner signing in from elsewhere is not refused for a stranger's failures.
      const wait = await throttle.attempt(req.body.email, req.ip);
      if (wait > 0) {
        throw new HttpError(429, 'rate_limited', 'too many login attempts; try again later', {
          'retry-after': String(Math.ceil(wait / 1000)),
        });
      }
      const pair = await login(ctx, req.body.email, req.body.password, client(req), req.body.organizationId);
      await throttle.succeeded(req.body.email, req.ip);
      return pair;
    },
  );

  app.post(
    '/refresh',
    {
      config: { errors: { 401: 'unknown, used, revoked or expired refresh token (`unauthorized`)' } },
      schema: {
        tags: ['auth'],
        summary: 'Trade a refresh token for a new pair (the old one stops working)',
        body: RefreshBody,
        response: { 200: TokenPair },
      },
    },
    async (req) => refresh(ctx, req.body.refreshToken, client(req)),
  );

  app.post(
    '/logout',
    // No body schema: `curl -X POST` with just the bearer header must work; a refresh token in the body is optional.
    { config: { authenticated: true }, schema: { tags: ['auth'], summary: 'Revoke the current session', response: { 204: NoContent } } },
    async (req, reply) => {
      const body = req.body as { refreshToken?: unknown } | undefined;
      await logout(ctx, req.principal?.sessionId ?? null, typeof body?.refreshToken === 'string' ? body.refreshToken : undefined);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me',
    { config: { authenticated: true }, schema: { tags: ['auth'], summary: 'The signed-in user', response: { 200: UserSummary } } },
    async (req) => me(ctx, req.principal!),
  );

  app.patch(
    '/me',
    {
      config: { authenticated: true },
      schema: {
        tags: ['auth'],
        summary: "Change the signed-in user's own profile: their language (null: the browser's)",
        body: ProfilePatch,
        response: { 200: UserSummary },
      },
    },
    async (req) => setOwnLanguage(ctx, actorOf(req), req.principal!, req.body.language),
  );
};
