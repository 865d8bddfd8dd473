import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { crudRoutes } from '../../lib/crud-routes.js';
import { IdParams } from '../../lib/pagination.js';
import { type SiteMode, setSiteMode } from './modes.js';
import { Site, SiteBody, SiteList, SiteModeBody, SiteModeResult, SitePatch } from './schema.js';
import { createSite, deleteSite, getSite, listSites, updateSite } from './service.js';

export const siteRoutes: FastifyPluginAsyncTypebox = async (app) => {
  crudRoutes(app, {
    path: '/sites',
    tags: ['sites'],
    read: 'sites:read',
    write: 'sites:write',
    item: Site,
    create: { summary: 'Create a site', body: SiteBody, errors: { 422: 'unknown time zone' }, run: createSite },
    list: { summary: 'List sites', querystring: SiteList, run: listSites },
    get: { summary: 'One site', run: getSite },
    update: {
      summary: 'Rename a site, change its time zone or address',
      body: SitePatch,
      errors: { 422: 'unknown time zone' },
      run: updateSite,
    },
    remove: { summary: 'Remove a site (soft; refused while it has gates)', errors: { 409: 'the site still has gates' }, run: deleteSite },
  });
  // CMD-4. Ending a mode (`normal`) needs the permission of the mode being ended: the route asks for the one every
  // guard who may end anything holds (sites:emergency), and setSiteMode checks sites:lockdown when it is a lockdown.
  const modes: { mode: SiteMode; permission: 'sites:lockdown' | 'sites:emergency'; summary: string }[] = [
    { mode: 'lockdown', permission: 'sites:lockdown', summary: 'Lock down every gate of the site (every attempt denied) until normal' },
    {
      mode: 'emergency',
      permission: 'sites:emergency',
      summary: 'Release every gate of the site for evacuation (held open) until normal',
    },
    {
      mode: 'normal',
      permission: 'sites:emergency',
      summary: 'End a lockdown or an emergency release (needs the permission of the mode it ends)',
    },
  ];
  for (const m of modes)
    app.post(
      `/sites/:id/${m.mode}`,
      {
        config: { permission: m.permission },
        schema: { tags: ['sites'], summary: m.summary, params: IdParams, body: SiteModeBody, response: { 200: SiteModeResult } },
      },
      async (req) => setSiteMode(app.ctx, actorOf(req), req.params.id, m.mode, req.body.reason, (p) => req.principal!.permissions.has(p)),
    );
};
