/**
 * Who may call what, decided where each route is registered: a route's
 * `config.permission` (or `config.authenticated`) puts a guard in front of it,
 * an /api/admin, /api/host or /api/devconsole route without a permission refuses to start, and every route
 * lands in `app.routeTable` (the RBAC test walks it). Applications' API keys are accepted on /api/admin
 * only: anywhere else under /api a request bearing one is refused (401 `api_key_not_allowed_here`).
 */
import { sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { looksLikeApiKey } from '../../auth/api-key-format.js';
import { listenForRevocations } from '../../auth/api-keys.js';
import { apiKeyNotAllowed, authenticate, bearer } from '../../auth/authenticate.js';
import { PRINCIPALS_CHANNEL } from '../../auth/principal-cache.js';
import type { Permission } from '../../auth/rbac.js';
import { forbidden, unauthorized } from '../../lib/errors.js';

/** Every route with the permission it requires (null = public or any signed-in user); the RBAC test walks it. */
export interface RouteEntry {
  method: string;
  url: string;
  permission: Permission | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteEntry[];
  }
}

export default fp(
  async (app) => {
    const { ctx } = app;
    const routeTable: RouteEntry[] = [];
    app.decorate('routeTable', routeTable);
    const keysAllowed = (url: string) => /^\/api\/admin(\/|$)/.test(url);
    // Public routes too: a key sent to a route without a guard (sign-in, the guest and edge APIs) is refused, not ignored.
    const refuseKeys = async (req: FastifyRequest) => {
      const token = bearer(req);
      if (token && looksLikeApiKey(token)) throw apiKeyNotAllowed();
    };
    // Every instance drops a revoked key from its cache the moment it is revoked anywhere (auth/api-keys.ts).
    let unlisten: (() => Promise<void>) | null = null;
    // Sessions' principals the same way (auth/principal-cache.ts): a role changed on one instance is enforced on all.
    let unlistenPrincipals: (() => Promise<void>) | null = null;
    app.addHook('onReady', async () => {
      unlisten = await listenForRevocations(ctx.database, ctx.apiKeys);
      unlistenPrincipals = await ctx.database.listen(
        PRINCIPALS_CHANNEL,
        () => ctx.principals.forget(),
        // A lost connection may have missed a message.
        () => ctx.principals.forget(),
      );
      ctx.principals.announceWith(() => {
        ctx.db.execute(sql`select pg_notify(${PRINCIPALS_CHANNEL}, '')`).catch((err: unknown) => {
          // The other instances then see the change within the cache's TTL.
          app.log.warn({ err }, 'could not announce a revoked session to the other instances');
        });
      });
    });
    app.addHook('onClose', async () => {
      ctx.principals.announceWith(null);
      await unlisten?.();
      await unlistenPrincipals?.();
    });
    app.addHook('onRoute', (route) => {
      const cfg = route.config as { permission?: Permission; authenticated?: boolean } | undefined;
      for (const method of [route.method].flat())
        if (method !== 'HEAD') routeTable.push({ method, url: route.url, permission: cfg?.permission ?? null });
      if (/^\/api\/(admin|host|devconsole)(\/|$)/.test(route.url) && !cfg?.permission) {
        throw new Error(`admin, host or devconsole route ${route.method} ${route.url} declares no permission`);
      }
      const existing = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
      if (!cfg?.permission && !cfg?.authenticated) {
        // Decided here, once per route: guarded routes refuse a key in authenticate(), these before their handler.
        if (route.url.startsWith('/api/') && !keysAllowed(route.url)) route.onRequest = [refuseKeys, ...existing];
        return;
      }
      const permission = cfg.permission;
      const apiKeys = keysAllowed(route.url);
      const guard = async (req: FastifyRequest) => {
        const token = bearer(req);
        if (!token) throw unauthorized();
        req.principal = await authenticate(ctx, token, { apiKeys });
        if (permission && !req.principal.permissions.has(permission)) throw forbidden(`needs permission ${permission}`);
      };
      // Checked on request, before the body is validated: a caller without the right learns nothing about the route.
      route.onRequest = [guard, ...existing];
      if (permission)
        // Its security schemes are the docs' business (api-docs.ts: the JWT, and on /api/admin an API key too).
        route.schema = { ...route.schema, description: `${route.schema?.description ?? ''} Requires \`${permission}\`.`.trim() };
    });
  },
  { name: 'route-guard', dependencies: ['errors'] },
);
