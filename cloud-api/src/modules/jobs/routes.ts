/**
 * Background jobs for an organisation's admins: its dead jobs (failed their last attempt), running
 * one again, and its queues' depths. Every query is scoped by `data->>'orgId'`; another
 * organisation's job is as absent as an unknown id.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf, writeAudit } from '../../lib/audit.js';
import { notFound } from '../../lib/errors.js';
import { IdParams } from '../../lib/pagination.js';
import { DeadJobs, DeadList, JobStats, RetriedJob } from './schema.js';
import { publicDeadJob } from './service.js';

export const jobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['jobs'];
  app.get(
    '/jobs/dead',
    {
      config: { permission: 'jobs:read' },
      schema: {
        tags,
        summary: 'The organisation’s dead jobs, newest first (ids they refer to, never their data)',
        querystring: DeadList,
        response: { 200: DeadJobs },
      },
    },
    async (req) => ({
      items: (await ctx.jobs.dead(req.principal!.orgId, req.query.limit ?? 100)).map(publicDeadJob),
    }),
  );
  app.post(
    '/jobs/dead/:id/retry',
    {
      config: { permission: 'jobs:retry' },
      schema: {
        tags,
        summary: 'Run a dead job again with a fresh set of attempts (its handler re-reads what it refers to)',
        params: IdParams,
        response: { 200: RetriedJob },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const job = await ctx.jobs.retryDead(actor.orgId, req.params.id);
      if (!job) throw notFound('dead job');
      await writeAudit(ctx.db, actor, {
        action: 'job.retry',
        entityType: 'job',
        entityId: job.id,
        data: { queue: job.queue, attempts: job.attempts, refs: publicDeadJob(job).refs },
      });
      return { id: job.id, queue: job.queue, state: 'retry' as const };
    },
  );
  app.get(
    '/jobs/stats',
    {
      config: { permission: 'jobs:read' },
      schema: { tags, summary: 'Per queue: the organisation’s waiting, running and dead jobs', response: { 200: JobStats } },
    },
    async (req) => ({ queues: await ctx.jobs.stats(req.principal!.orgId) }),
  );
};
