/**
 * Who may call what, decided where each route is registered: a route's
 * `config.permission` (or `config.authenticated`) puts a guard in front of it,
 * an /api/admin or /api/host route without a permission refuses to start, and every route
 * lands in `app.routeTable` (the RBAC test walks it).
 */
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { authenticate, bearer } from '../../auth/authenticate.js';
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
    app.addHook('onRoute', (route) => {
      const cfg = route.config as { permission?: Permission; authenticated?: boolean } | undefined;
      for (const method of [route.method].flat())
        if (method !== 'HEAD') routeTable.push({ method, url: route.url, permission: cfg?.permission ?? null });
      if (/^\/api\/(admin|host|devconsole)(\/|$)/.test(route.url) && !cfg?.permission) {
        throw new Error(`admin, host or devconsole route ${route.method} ${route.url} declares no permission`);
      }
      if (!cfg?.permission && !cfg?.authenticated) return;
      const permission = cfg.permission;
      const guard = async (req: FastifyRequest) => {
        const token = bearer(req);
        if (!token) throw unauthorized();
        req.principal = await authenticate(ctx, token);
        if (permission && !req.principal.permissions.has(permission)) throw forbidden(`needs permission ${permission}`);
      };
      // Checked on request, before the body is validated: a caller without the right learns nothing about the route.
      const existing = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
      route.onRequest = [guard, ...existing];
      if (permission)
        route.schema = {
          ...route.schema,
          security: [{ bearer: [] }],
          description: `${route.schema?.description ?? ''} Requires \`${permission}\`.`.trim(),
        };
    });
  },
  { name: 'route-guard', dependencies: ['errors'] },
);
