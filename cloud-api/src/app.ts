/**
 * The app factory, laid out as fastify/demo: the context (one composition
 * root, `createContext`), then external plugins (security headers, OpenAPI),
 * then the app's own (request ids, errors, metrics, the route guard), then
 * the routes of every module (`routes.ts`).
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { uuidv7 } from '@gatehouse/protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createContext } from './context.js';
import type { Database } from './db/client.js';
import { defineSystemJobs } from './jobs/system.js';
import { errSerializer } from './lib/log.js';
import apiDocs from './plugins/app/api-docs.js';
import databaseGate from './plugins/app/database-gate.js';
import errors, { frameworkErrors } from './plugins/app/errors.js';
import inputGuard from './plugins/app/input-guard.js';
import metrics from './plugins/app/metrics.js';
import requestId from './plugins/app/request-id.js';
import routeGuard from './plugins/app/route-guard.js';
import usage from './plugins/app/usage.js';
import helmet from './plugins/external/helmet.js';
import rateLimit from './plugins/external/rate-limit.js';
import swagger from './plugins/external/swagger.js';
import { routes } from './routes.js';
import { startSync } from './sync/service.js';

export type { RouteEntry } from './plugins/app/route-guard.js';
export type App = FastifyInstance;

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
  /** Start while the database cannot be reached, and finish the start when it can (serve does; db/startup.ts). */
  waitForDatabase?: boolean;
}

/** A hop count as Fastify's own handling of a number does (its types accept only the function). */
const trustHops = (hops: number) => (_address: string, i: number) => i < hops;

export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<App> {
  const ctx = await createContext(config, {
    database: opts.database,
    migrate: opts.migrate,
    waitForDatabase: opts.waitForDatabase,
  });

  const loggerOpt = opts.logger ?? {
    level: config.logLevel,
    ...(opts.logStream ? { stream: opts.logStream } : {}),
    // Credentials never reach the log: headers that carry them and any body field that could.
    serializers: {
      // Errors keep their message, stack and cause, never the values of a failed statement (lib/log.ts).
      err: errSerializer,
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
    // Behind a proxy (TRUST_PROXY), the client address is taken from X-Forwarded-For; never by default.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    // A badly encoded URL or an over-long path parameter answers in the contract's shape too.
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('ctx', ctx);
  app.decorateRequest('principal', null);
  ctx.jobs.log = app.log as unknown as Logger;
  ctx.database.log = app.log;
  ctx.startup.log = app.log;
  if (!ctx.startup.ready) {
    app.log.warn(
      { err: { message: ctx.startup.lastError } },
      'database not reachable at start: serving liveness and the console, retrying in the background',
    );
  }
  await defineSystemJobs(ctx);
  // Workers start once every module has defined its queues (and the database is there), and stop before it closes.
  let jobsStarting: Promise<void> | null = null;
  app.addHook('onReady', async () => {
    if (ctx.startup.ready) {
      await ctx.jobs.start();
      return;
    }
    jobsStarting = ctx.startup.whenReady.then(
      () => ctx.jobs.start().catch((err: unknown) => app.log.error({ err }, 'job queue did not start')),
      () => undefined,
    );
  });
  app.addHook('onClose', async () => {
    ctx.startup.stop();
    await jobsStarting;
    await ctx.jobs.stop();
    await ctx.sync?.close();
    if (!opts.database) await ctx.database.close();
  });

  // External plugins.
  await app.register(helmet);
  await app.register(swagger, { version: config.version });
  await app.register(rateLimit, { limits: config.rateLimits });
  // App plugins.
  await app.register(requestId);
  await app.register(errors);
  await app.register(databaseGate);
  await app.register(inputGuard);
  await app.register(metrics);
  await app.register(usage);
  await app.register(routeGuard);
  await app.register(apiDocs);
  // Routes.
  await app.register(routes, { liveAuthTimeoutMs: opts.liveAuthTimeoutMs });

  if (opts.sync) ctx.sync = await startSync(ctx, app.log as unknown as Logger);
  return app;
}
