import fp from 'fastify-plugin';
import { UsageMeter } from '../../modules/devconsole/usage.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Per-application API usage, counted in memory and flushed to api_usage (modules/devconsole/usage.ts). */
    usage: UsageMeter;
  }
}

export interface UsageOptions {
  /** How often the counts are written (default 5 s); they are written on close too. */
  flushMs?: number;
}

/** Counts every response to a request made with an application's API key (a rejected key has no application: not counted). */
export default fp<UsageOptions>(
  async (app, opts) => {
    const meter = new UsageMeter(app.ctx, app.log);
    app.decorate('usage', meter);
    app.addHook('onResponse', async (req, reply) => {
      const a = req.principal?.app;
      if (a) meter.count(a.id, reply.statusCode);
    });
    app.addHook('onReady', async () => meter.start(opts.flushMs ?? 5000));
    // Added after the app's own onClose (which may close the database), so it runs before it.
    app.addHook('onClose', async () => meter.stop());
  },
  { name: 'usage' },
);
