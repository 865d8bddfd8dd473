import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WindowLimiter } from '../../auth/rate-limit.js';
import { HttpError } from '../../lib/errors.js';
import { LoginBody, RefreshBody, TokenPair, UserSummary } from './schema.js';
import { login, logout, refresh } from './service.js';

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const perAccount = new WindowLimiter(ctx.config.loginRateLimit, 60_000);
  const perIp = new WindowLimiter(ctx.config.loginRateLimit, 60_000);
  const client = (req: { ip: string; headers: Record<string, string | string[] | undefined> }) => ({
    ip: req.ip ?? null,
    userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 500) : null,
  });

  app.post(
    '/login',
    { schema: { tags: ['auth'], summary: 'Sign in with e-mail and password', body: LoginBody, response: { 200: TokenPair } } },
    async (req) => {
      // Failed attempts count, per address and per account: after 5 a minute on either, the next is refused
      // before the password is even checked, so neither one address nor one account can be hammered.
      const account = req.body.email.toLowerCase();
      const wait = Math.max(perIp.blockedFor(req.ip), perAccount.blockedFor(account));
      if (wait > 0) {
        throw new HttpError(429, 'rate_limited', 'too many login attempts; try again later', {
          'retry-after': String(Math.ceil(wait / 1000)),
        });
      }
      try {
        return await login(ctx, req.body.email, req.body.password, client(req), req.body.organizationId);
      } catch (e) {
        if (e instanceof HttpError && e.statusCode === 401) {
          perIp.hit(req.ip);
          perAccount.hit(account);
        }
        throw e;
      }
    },
  );

  app.post(
    '/refresh',
    {
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
    { config: { authenticated: true }, schema: { tags: ['auth'], summary: 'Revoke the current session' } },
    async (req, reply) => {
      const body = req.body as { refreshToken?: unknown } | undefined;
      await logout(ctx, req.principal?.sessionId ?? null, typeof body?.refreshToken === 'string' ? body.refreshToken : undefined);
      return reply.code(204).send();
    },
  );

  app.get(
    '/me',
    { config: { authenticated: true }, schema: { tags: ['auth'], summary: 'The signed-in user', response: { 200: UserSummary } } },
    async (req) => {
      const p = req.principal!;
      return { id: p.userId, orgId: p.orgId, email: p.email, roles: p.roles };
    },
  );
};
