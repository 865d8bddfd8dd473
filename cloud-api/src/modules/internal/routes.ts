import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';

const Ready = Type.Object({
  status: Type.String(),
  database: Type.String(),
  jobs: Type.Union([Type.Literal('started'), Type.Literal('stopped')], { description: 'the background job queue' }),
});

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
        summary: 'Readiness: the database answers and the job queue runs (the broker joins this check with the sync link)',
        response: {
          200: Ready,
          503: Ready,
        },
      },
    },
    async (_req, reply) => {
      const jobs = ctx.jobs.started ? ('started' as const) : ('stopped' as const);
      try {
        await ctx.database.ping();
      } catch {
        return reply.code(503).send({ status: 'not_ready', database: 'unreachable', jobs });
      }
      // Not ready without workers: messages and reminders would wait unseen (it starts with the app, stops on close).
      if (!ctx.jobs.started) return reply.code(503).send({ status: 'not_ready', database: ctx.database.kind, jobs });
      return { status: 'ready', database: ctx.database.kind, jobs };
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
