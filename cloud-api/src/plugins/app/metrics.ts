import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { registerJobMetrics } from '../../jobs/metrics.js';
import { registerBreakerMetrics } from '../../lib/breaker.js';
import { processFaults } from '../../lib/process-faults.js';
import { registerAlarmMetrics } from '../../modules/alarms/service.js';
import { registerUsageMetrics } from '../../modules/devconsole/usage.js';
import { registerFleetMetrics } from '../../modules/fleet/metrics.js';
import { registerNotificationMetrics } from '../../modules/notifications/sender.js';
import { registerWebhookMetrics } from '../../modules/webhooks/deliver.js';
import { registerSyncLagMetrics } from '../../sync/lag.js';

/** Prometheus at /metrics: process metrics, the job queue, messages by channel and outcome, and a request histogram labelled by route pattern (not raw URL, to bound cardinality). */
export default fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'gatehouse_cloud_' });
    registerJobMetrics(registry, app.ctx.jobs);
    registerNotificationMetrics(registry, app.ctx);
    registerWebhookMetrics(registry, app.ctx);
    registerBreakerMetrics(registry, app.ctx);
    registerUsageMetrics(registry, app.ctx);
    registerAlarmMetrics(registry, app.ctx);
    registerFleetMetrics(registry, app.ctx.db);
    const syncLag = registerSyncLagMetrics(registry, app.ctx.db, app.log, {
      alertS: app.ctx.config.alarms.syncLagAlertSeconds,
      ready: () => app.ctx.startup.ready,
    });
    app.addHook('onClose', async () => syncLag.stop());
    const database = app.ctx.database;
    const BREAKER = { closed: 0, half_open: 1, open: 2 } as const;
    new Gauge({
      name: 'gatehouse_db_breaker_state',
      help: 'Database connection breaker: 0 closed, 1 half-open (probing), 2 open (failing fast)',
      registers: [registry],
      collect() {
        this.set(BREAKER[database.health().breaker]);
      },
    });
    new Counter({
      name: 'gatehouse_db_breaker_opened_total',
      help: 'Times the database connection breaker opened',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(database.health().breakerOpened);
      },
    });
    new Counter({
      name: 'gatehouse_db_pool_errors_total',
      help: 'Errors the PostgreSQL pool reported on idle connections',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(database.health().poolErrors);
      },
    });
    new Counter({
      name: 'gatehouse_process_faults_total',
      help: 'Unhandled promise rejections and uncaught exceptions',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ kind: 'unhandled_rejection' }, processFaults.unhandledRejections);
        this.inc({ kind: 'uncaught_exception' }, processFaults.uncaughtExceptions);
      },
    });
    const duration = new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    app.addHook('onResponse', async (req, reply) => {
      duration.observe(
        { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'metrics' },
);
