import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { Site, SiteBody, SiteList, SitePatch } from './schema.js';
import { createSite, deleteSite, getSite, listSites, updateSite } from './service.js';

export const siteRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['sites'];
  app.post(
    '/sites',
    { config: { permission: 'sites:write' }, schema: { tags, summary: 'Create a site', body: SiteBody, response: { 201: Site } } },
    async (req, reply) => reply.code(201).send(await createSite(ctx, actorOf(req), req.body)),
  );
  app.get(
    '/sites',
    { config: { permission: 'sites:read' }, schema: { tags, summary: 'List sites', querystring: SiteList, response: { 200: Page(Site) } } },
    async (req) => listSites(ctx, req.principal!.orgId, req.query),
  );
  app.get(
    '/sites/:id',
    { config: { permission: 'sites:read' }, schema: { tags, summary: 'One site', params: IdParams, response: { 200: Site } } },
    async (req) => getSite(ctx, req.principal!.orgId, req.params.id),
  );
  app.patch(
    '/sites/:id',
    {
      config: { permission: 'sites:write' },
      schema: { tags, summary: 'Rename a site or change its time zone', params: IdParams, body: SitePatch, response: { 200: Site } },
    },
    async (req) => updateSite(ctx, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/sites/:id',
    {
      config: { permission: 'sites:write' },
      schema: { tags, summary: 'Remove a site (soft; refused while it has gates)', params: IdParams },
    },
    async (req, reply) => {
      await deleteSite(ctx, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
};
