/**
 * The app factory. Order as in fastify/demo: external plugins (security
 * headers, OpenAPI), then the app's own (auth, metrics, errors), then routes.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { uuidv7 } from '@gatehouse/protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { authenticate, bearer } from './auth/authenticate.js';
import { OidcVerifier } from './auth/oidc.js';
import { passwordHasher } from './auth/passwords.js';
import { PrincipalCache } from './auth/principal-cache.js';
import type { Permission } from './auth/rbac.js';
import { TokenService } from './auth/tokens.js';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { type Database, openDatabase } from './db/client.js';
import { deriveKey, Sealer } from './lib/crypto.js';
import { forbidden, installErrorHandling, unauthorized } from './lib/errors.js';
import { EventBus } from './lib/events.js';
import { installMetrics } from './lib/metrics.js';
import { accessRuleRoutes } from './modules/access-rules/routes.js';
import { appointmentRoutes } from './modules/appointments/routes.js';
import { auditRoutes } from './modules/audit/routes.js';
import { authRoutes } from './modules/auth/routes.js';
import { checkinRoutes } from './modules/checkins/routes.js';
import { serveConsole } from './modules/console/routes.js';
import { edgeRoutes } from './modules/edge/routes.js';
import { gateRoutes } from './modules/gates/routes.js';
import { guestRoutes } from './modules/guest/routes.js';
import { internalRoutes } from './modules/internal/routes.js';
import { installLiveFeed } from './modules/live/socket.js';
import { passRoutes } from './modules/passes/routes.js';
import { siteRoutes } from './modules/sites/routes.js';
import { userRoutes } from './modules/users/routes.js';
import { visitorRoutes } from './modules/visitors/routes.js';
import { zoneRoutes } from './modules/zones/routes.js';
import { startSync } from './sync/service.js';

export type App = FastifyInstance;

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

export interface BuildOptions {
  /** Use this database instead of opening one from the config (tests share a fresh one per file). */
  database?: Database;
  /** Run migrations on start (serve does; tests with a migrated database need not). */
  migrate?: boolean;
  /** false: no logging (tests, benches). */
  logger?: false;
  /** Where the JSON log lines go (default stdout); tests read them. */
  logStream?: NodeJS.WritableStream;
  /** How long a live-feed socket may stay silent before its auth message (CONTRACT: 5 s). */
  liveAuthTimeoutMs?: number;
  /** Start the broker side: embedded broker or external link, edge sync, commands (serve does). */
  sync?: boolean;
}

export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<App> {
  const database = opts.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
  if (opts.migrate ?? true) await database.migrate();

  const loggerOpt = opts.logger ?? {
    level: config.logLevel,
    ...(opts.logStream ? { stream: opts.logStream } : {}),
    // Credentials never reach the log: headers that carry them and any body field that could.
    serializers: {
      // Only method and path-with-query; a guest link's ?token= is masked so it never reaches the log.
      req: (req: { method: string; url: string; ip?: string; id?: string }) => ({
        method: req.method,
        url: req.url.replace(/([?&](?:token|access_token|code)=)[^&#]*/gi, '$1[redacted]'),
        remoteAddress: req.ip,
      }),
    },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.refreshToken', '*.accessToken'],
      censor: '[redacted]',
    },
  };
  const app = Fastify({
    logger: loggerOpt,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : uuidv7();
    },
    requestIdHeader: false,
    trustProxy: false,
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const ctx: AppContext = {
    config,
    database,
    db: database.db,
    sealer: new Sealer(config.masterKey),
    tokens: new TokenService(deriveKey(config.masterKey, 'jwt/v1'), config.accessTokenTtlS),
    passwords: passwordHasher(config.argon2),
    oidc: config.oidc ? new OidcVerifier(config.oidc.issuer, config.oidc.audience) : null,
    principals: new PrincipalCache(config.authCacheMs),
    events: new EventBus(),
    sync: null,
  };
  app.decorate('ctx', ctx);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onClose', async () => {
    await ctx.sync?.close();
    if (!opts.database) await database.close();
  });

  // External plugins.
  await app.register(helmet, { contentSecurityPolicy: false, global: true });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Gatehouse cloud API', version: config.version },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // App plugins.
  installErrorHandling(app);
  installMetrics(app);
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const cfg = route.config as { permission?: Permission; authenticated?: boolean } | undefined;
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routeTable.push({ method, url: route.url, permission: cfg?.permission ?? null });
    if (route.url.startsWith('/api/admin') && !cfg?.permission) {
      throw new Error(`admin route ${route.method} ${route.url} declares no permission`);
    }
    if (!cfg?.permission && !cfg?.authenticated) return;
    const permission = cfg.permission;
    const guard = async (req: import('fastify').FastifyRequest) => {
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

  // Routes.
  await app.register(internalRoutes);
  await app.register(authRoutes, { prefix: '/api/auth' });
  await app.register(guestRoutes, { prefix: '/api/guest' });
  await app.register(edgeRoutes, { prefix: '/api/edge' });
  await app.register(
    async (admin) => {
      await admin.register(siteRoutes);
      await admin.register(zoneRoutes);
      await admin.register(gateRoutes);
      await admin.register(accessRuleRoutes);
      await admin.register(userRoutes);
      await admin.register(visitorRoutes);
      await admin.register(appointmentRoutes);
      await admin.register(passRoutes);
      await admin.register(checkinRoutes);
      await admin.register(auditRoutes);
    },
    { prefix: '/api/admin' },
  );
  installLiveFeed(app, opts.liveAuthTimeoutMs);
  // The console is served when it has been built (npm install builds it); the API works without it.
  const consoleDir = config.consoleDir ?? fileURLToPath(new URL('../console/dist/', import.meta.url));
  if (existsSync(join(consoleDir, 'index.html')))
    await serveConsole(app, { root: consoleDir, frameAncestors: () => config.frameAncestors });
  if (opts.sync) ctx.sync = await startSync(ctx, app.log as unknown as Logger);
  return app;
}
