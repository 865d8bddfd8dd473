import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';

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
        summary: 'Readiness: the database answers (the broker joins this check with the sync link)',
        response: {
          200: Type.Object({ status: Type.String(), database: Type.String() }),
          503: Type.Object({ status: Type.String(), database: Type.String() }),
        },
      },
    },
    async (_req, reply) => {
      try {
        await ctx.database.ping();
        return { status: 'ready', database: ctx.database.kind };
      } catch {
        return reply.code(503).send({ status: 'not_ready', database: 'unreachable' });
      }
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
