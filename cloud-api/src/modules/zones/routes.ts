import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { crudRoutes } from '../../lib/crud-routes.js';
import { Zone, ZoneBody, ZoneList, ZonePatch } from './schema.js';
import { createZone, deleteZone, getZone, listZones, updateZone } from './service.js';

export const zoneRoutes: FastifyPluginAsyncTypebox = async (app) => {
  crudRoutes(app, {
    path: '/zones',
    tags: ['zones'],
    read: 'zones:read',
    write: 'zones:write',
    item: Zone,
    create: {
      summary: 'Create a zone in a site',
      body: ZoneBody,
      errors: { 404: 'siteId names no site of this organisation' },
      run: createZone,
    },
    list: { summary: 'List zones', querystring: ZoneList, run: listZones },
    get: { summary: 'One zone', run: getZone },
    update: { summary: 'Rename a zone', body: ZonePatch, run: updateZone },
    remove: { summary: 'Remove a zone (soft; refused while it has gates)', errors: { 409: 'the zone still has gates' }, run: deleteZone },
  });
};
