import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Page } from '../../lib/pagination.js';
import { FleetController, FleetList } from './schema.js';
import { listFleet } from './service.js';

/**
 * GET /fleet under `gates:read`: the same people who watch the gates' link status (guards, security officers,
 * admins, developers) see their health; nothing here changes a gate or shows a person.
 */
export const fleetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.get(
    '/fleet',
    {
      config: { permission: 'gates:read' },
      schema: {
        tags: ['fleet'],
        summary: "Every controller's health: version, last contact, sync lag, outbox, hardware, clock, update state, open alarms",
        querystring: FleetList,
        response: { 200: Page(FleetController) },
      },
    },
    async (req) => listFleet(ctx, req.principal!.orgId, req.query),
  );
};
