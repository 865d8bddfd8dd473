/** Per-application usage (issue 13): calls and errors per UTC day, webhook deliveries by outcome. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { IdParams } from '../../lib/pagination.js';
import { applicationUsage } from './usage.js';

const UsageQuery = Type.Object(
  { days: Type.Optional(Type.Integer({ minimum: 1, maximum: 90, default: 30, description: 'UTC days back, today included' })) },
  { additionalProperties: false },
);
const Count = Type.Integer({ minimum: 0 });
export const Usage = Type.Object({
  days: Type.Array(
    Type.Object({
      day: Type.String({
        pattern: '^\\d{4}-\\d{2}-\\d{2}$',
        description: 'UTC day, oldest first; a day without calls is listed with zeros',
      }),
      calls: Count,
      errors: Type.Integer({ minimum: 0, description: 'answers with a status of 400 or more' }),
    }),
  ),
  webhooks: Type.Object(
    {
      delivered: Count,
      failed: Type.Integer({ minimum: 0, description: 'failed so far, to be retried' }),
      dead: Count,
      pending: Count,
      successRate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
        description: 'delivered / (delivered + failed + dead); null before any delivery was tried',
      }),
    },
    { description: 'deliveries of the application’s webhooks created in those days' },
  ),
});

export const usageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.get(
    '/apps/:id/usage',
    {
      config: { permission: 'devconsole:manage' },
      schema: {
        tags: ['devconsole'],
        summary: 'An application’s usage: calls and errors per day, webhook success',
        description: 'Counted per request made with one of its keys; the counts reach this answer within a few seconds.',
        params: IdParams,
        querystring: UsageQuery,
        response: { 200: Usage },
      },
    },
    async (req) => applicationUsage(ctx, req.principal!.orgId, req.params.id, req.query.days ?? 30),
  );
};
