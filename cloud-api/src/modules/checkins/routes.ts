import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams, Page } from '../../lib/pagination.js';
import { occupancy } from '../presence/service.js';
import { Checkin, CheckinList, Dashboard, DashboardQuery, Occupancy } from './schema.js';
import { dashboard, listCheckins, nameAccess } from './service.js';

export const checkinRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.get(
    '/checkins',
    {
      config: { permission: 'checkins:read' },
      schema: { tags: ['checkins'], summary: 'Check-in history, newest first', querystring: CheckinList, response: { 200: Page(Checkin) } },
    },
    async (req) => listCheckins(ctx, req.principal!.orgId, req.query, nameAccess(req.principal!)),
  );
  app.get(
    '/dashboard',
    {
      config: { permission: 'checkins:read' },
      schema: {
        tags: ['checkins'],
        summary: 'Check-ins per hour, allowed and refused, counted in SQL (the console dashboard)',
        querystring: DashboardQuery,
        response: { 200: Dashboard },
      },
    },
    async (req) => dashboard(ctx, req.principal!.orgId, req.query),
  );
  app.get(
    '/sites/:id/occupancy',
    {
      config: { permission: 'checkins:read' },
      schema: { tags: ['checkins'], summary: 'Who is on site now', params: IdParams, response: { 200: Occupancy } },
    },
    async (req) => occupancy(ctx, req.principal!.orgId, req.params.id, nameAccess(req.principal!)),
  );
};
