import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { csvResponse, sendCsv } from '../../lib/csv.js';
import { IdParams } from '../../lib/pagination.js';
import { nameAccess } from '../checkins/service.js';
import { ForgiveBody, ForgiveResult, Muster, MusterQuery } from './schema.js';
import { forgivePass, muster, musterCsv } from './service.js';

export const presenceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.post(
    '/passes/:id/forgive',
    {
      config: { permission: 'passback:forgive' },
      schema: {
        tags: ['passes'],
        summary: "Forgive a pass's anti-passback state: it counts as outside, at one site or every site",
        params: IdParams,
        body: ForgiveBody,
        response: { 200: ForgiveResult },
      },
    },
    async (req) => forgivePass(ctx, actorOf(req), req.params.id, req.body),
  );
  app.get(
    '/muster',
    {
      config: { permission: 'muster:read' },
      schema: {
        tags: ['muster'],
        summary: 'Who is inside each site and zone now (roll call)',
        querystring: MusterQuery,
        response: { 200: Muster },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return muster(ctx, req.principal!.orgId, req.query, nameAccess(req.principal!));
    },
  );
  app.get(
    '/muster.csv',
    {
      config: { permission: 'muster:read' },
      schema: {
        tags: ['muster'],
        summary: 'The muster as CSV (UTF-8 with BOM), for printing and spreadsheets',
        querystring: MusterQuery,
        response: { 200: csvResponse('CSV, one row per pass inside') },
      },
    },
    async (req, reply) => {
      const m = await muster(ctx, req.principal!.orgId, req.query, nameAccess(req.principal!));
      const stamp = m.generatedAt.slice(0, 16).replace(/[-:T]/g, '');
      return sendCsv(reply, `muster-${stamp}`, musterCsv(m));
    },
  );
};
