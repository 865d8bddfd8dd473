import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { Zone, ZoneBody, ZoneList } from './schema.js';
import { createZone, getZone, listZones } from './service.js';

export const zoneRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['zones'];
  app.post(
    '/zones',
    {
      config: { permission: 'zones:write' },
      schema: { tags, summary: 'Create a zone in a site', body: ZoneBody, response: { 201: Zone } },
    },
    async (req, reply) => reply.code(201).send(await createZone(ctx, actorOf(req), req.body)),
  );
  app.get(
    '/zones',
    { config: { permission: 'zones:read' }, schema: { tags, summary: 'List zones', querystring: ZoneList, response: { 200: Page(Zone) } } },
    async (req) => listZones(ctx, req.principal!.orgId, req.query),
  );
  app.get(
    '/zones/:id',
    { config: { permission: 'zones:read' }, schema: { tags, summary: 'One zone', params: IdParams, response: { 200: Zone } } },
    async (req) => getZone(ctx, req.principal!.orgId, req.params.id),
  );
};
