import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { Zone, ZoneBody, ZoneList, ZonePatch } from './schema.js';
import { createZone, deleteZone, getZone, listZones, updateZone } from './service.js';

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
  app.patch(
    '/zones/:id',
    {
      config: { permission: 'zones:write' },
      schema: { tags, summary: 'Rename a zone', params: IdParams, body: ZonePatch, response: { 200: Zone } },
    },
    async (req) => updateZone(ctx, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/zones/:id',
    {
      config: { permission: 'zones:write' },
      schema: { tags, summary: 'Remove a zone (soft; refused while it has gates)', params: IdParams },
    },
    async (req, reply) => {
      await deleteZone(ctx, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
};
