/**
 * Every HTTP module, registered here and nowhere else: a new module is a
 * folder `modules/<name>/` (routes, service, schema) plus one line below.
 * Modules under /api/admin must declare a permission on every route (the
 * route guard refuses to start otherwise); the RBAC test walks them all.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { accessRuleRoutes } from './modules/access-rules/routes.js';
import { alarmRoutes } from './modules/alarms/routes.js';
import { appointmentRoutes } from './modules/appointments/routes.js';
import { auditRoutes } from './modules/audit/routes.js';
import { authRoutes } from './modules/auth/routes.js';
import { checkinRoutes } from './modules/checkins/routes.js';
import { serveConsole } from './modules/console/routes.js';
import { applicationRoutes } from './modules/devconsole/routes.js';
import { usageRoutes } from './modules/devconsole/usage-routes.js';
import { edgeRoutes } from './modules/edge/routes.js';
import { fleetRoutes } from './modules/fleet/routes.js';
import { gateRoutes } from './modules/gates/routes.js';
import { guestRoutes } from './modules/guest/routes.js';
import { holidayRoutes } from './modules/holidays/routes.js';
import { preferenceRoutes } from './modules/host/preferences.js';
import { pushRoutes } from './modules/host/push-routes.js';
import { hostVisitRoutes } from './modules/host/routes.js';
import { telegramRoutes } from './modules/host/telegram-routes.js';
import { internalRoutes } from './modules/internal/routes.js';
import { jobRoutes } from './modules/jobs/routes.js';
import { liveFeed } from './modules/live/socket.js';
import { notificationRoutes } from './modules/notifications/routes.js';
import { orgSettingsRoutes } from './modules/orgs/settings-routes.js';
import { osdpRoutes } from './modules/osdp/routes.js';
import { passRoutes } from './modules/passes/routes.js';
import { presenceRoutes } from './modules/presence/routes.js';
import { sandboxRoutes } from './modules/sandbox/routes.js';
import { siteRoutes } from './modules/sites/routes.js';
import { releaseDownloadRoutes, updateRoutes } from './modules/updates/routes.js';
import { userRoutes } from './modules/users/routes.js';
import { visitorRoutes } from './modules/visitors/routes.js';
import { webhookRoutes } from './modules/webhooks/routes.js';
import { zoneRoutes } from './modules/zones/routes.js';

export interface RoutesOptions {
  /** How long a live-feed socket may stay silent before its auth message. */
  liveAuthTimeoutMs?: number;
}

export async function routes(app: FastifyInstance, opts: RoutesOptions): Promise<void> {
  await app.register(internalRoutes);
  await app.register(authRoutes, { prefix: '/api/auth' });
  await app.register(guestRoutes, { prefix: '/api/guest' });
  await app.register(edgeRoutes, { prefix: '/api/edge' });
  await app.register(releaseDownloadRoutes, { prefix: '/api/edge' });
  await app.register(adminRoutes, { prefix: '/api/admin' });
  await app.register(hostRoutes, { prefix: '/api/host' });
  await app.register(devconsoleRoutes, { prefix: '/api/devconsole' });
  await app.register(liveFeed, { authTimeoutMs: opts.liveAuthTimeoutMs });
  // The console is served when it has been built (npm install builds it); the API works without it.
  const { config } = app.ctx;
  const consoleDir = config.consoleDir ?? fileURLToPath(new URL('../console/dist/', import.meta.url));
  if (existsSync(join(consoleDir, 'index.html')))
    await serveConsole(app, { root: consoleDir, frameAncestors: () => config.frameAncestors });
}

/** The host portal, under /api/host: every route needs `host:portal` and acts on the caller's own visits. */
async function hostRoutes(host: FastifyInstance): Promise<void> {
  await host.register(hostVisitRoutes);
  await host.register(preferenceRoutes);
  await host.register(telegramRoutes);
  await host.register(pushRoutes);
}

/** The developer console's API, under /api/devconsole: every route needs `devconsole:manage`; API keys are refused here. */
async function devconsoleRoutes(dev: FastifyInstance): Promise<void> {
  await dev.register(applicationRoutes);
  await dev.register(webhookRoutes);
  await dev.register(usageRoutes);
}

/** The organisation's administration API, under /api/admin. */
async function adminRoutes(admin: FastifyInstance): Promise<void> {
  await admin.register(siteRoutes);
  await admin.register(zoneRoutes);
  await admin.register(gateRoutes);
  await admin.register(fleetRoutes);
  await admin.register(osdpRoutes);
  await admin.register(accessRuleRoutes);
  await admin.register(holidayRoutes);
  await admin.register(userRoutes);
  await admin.register(visitorRoutes);
  await admin.register(appointmentRoutes);
  await admin.register(passRoutes);
  await admin.register(checkinRoutes);
  await admin.register(alarmRoutes);
  await admin.register(presenceRoutes);
  await admin.register(auditRoutes);
  await admin.register(jobRoutes);
  await admin.register(notificationRoutes);
  await admin.register(orgSettingsRoutes);
  await admin.register(sandboxRoutes);
  await admin.register(updateRoutes);
}
