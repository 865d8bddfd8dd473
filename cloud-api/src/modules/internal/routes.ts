import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';

const Ready = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  database: Type.String({
    description:
      "the database's kind ('postgres' or 'pglite') when it answers and is migrated, 'starting' while it answers but the start (migrations) is not done, else 'unavailable'",
  }),
  broker: Type.Union([Type.Literal('ok'), Type.Literal('connecting'), Type.Literal('unavailable'), Type.Literal('off')], {
    description: "the MQTT link: 'connecting' until first reached, 'unavailable' once lost, 'off' when this instance runs without sync",
  }),
  jobs: Type.Union([Type.Literal('started'), Type.Literal('stopped')], { description: 'the background job queue' }),
});

/** How long readiness waits for the database before calling it unavailable: a probe must not hang. */
const PING_TIMEOUT_MS = 2000;

export const internalRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['internal'];
  app.get(
    '/api/internal/health',
    { schema: { tags, summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({
      status: 'ok' as const,
    }),
  );
  app.get(
    '/api/internal/ready',
    {
      schema: {
        tags,
        summary:
          'Readiness of each dependency: the database answers, the broker is connected (with sync), the job queue runs; 503 when any is not',
        response: {
          200: Ready,
          503: Ready,
        },
      },
    },
    async (_req, reply) => {
      const jobs = ctx.jobs.started ? ('started' as const) : ('stopped' as const);
      const broker = ctx.sync ? ctx.sync.link.brokerState : ('off' as const);
      let timer: NodeJS.Timeout | undefined;
      const database = await Promise.race([
        ctx.database.ping().then(() => (ctx.startup.ready ? ctx.database.kind : 'starting')),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve('unavailable'), PING_TIMEOUT_MS);
        }),
      ]).catch(() => 'unavailable');
      clearTimeout(timer);
      // Not ready without workers (messages and reminders would wait unseen) nor with a lost broker (no sync, no ingestion).
      const ready = database !== 'unavailable' && jobs === 'started' && (broker === 'ok' || broker === 'off');
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', database, broker, jobs });
    },
  );
  app.get(
    '/api/internal/version',
    {
      schema: {
        tags,
        summary: 'Build version',
        response: { 200: Type.Object({ name: Type.String(), version: Type.String(), node: Type.String() }) },
      },
    },
    async () => ({ name: '@gatehouse/cloud-api', version: ctx.config.version, node: process.version }),
  );
};
