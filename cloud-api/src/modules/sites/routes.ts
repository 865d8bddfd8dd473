import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { crudRoutes } from '../../lib/crud-routes.js';
import { Site, SiteBody, SiteList, SitePatch } from './schema.js';
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
};
