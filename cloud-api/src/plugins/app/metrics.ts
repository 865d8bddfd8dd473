import fp from 'fastify-plugin';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { registerJobMetrics } from '../../jobs/metrics.js';
import { registerAlarmMetrics } from '../../modules/alarms/service.js';
import { registerUsageMetrics } from '../../modules/devconsole/usage.js';
import { registerNotificationMetrics } from '../../modules/notifications/sender.js';
import { registerWebhookMetrics } from '../../modules/webhooks/deliver.js';

/** Prometheus at /metrics: process metrics, the job queue, messages by channel and outcome, and a request histogram labelled by route pattern (not raw URL, to bound cardinality). */
export default fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'gatehouse_cloud_' });
    registerJobMetrics(registry, app.ctx.jobs);
    registerNotificationMetrics(registry, app.ctx);
    registerWebhookMetrics(registry, app.ctx);
    registerUsageMetrics(registry, app.ctx);
    registerAlarmMetrics(registry, app.ctx);
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
