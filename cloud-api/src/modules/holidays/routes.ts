import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { crudRoutes } from '../../lib/crud-routes.js';
import { Holiday, HolidayBody, HolidayImport, HolidayImported, HolidayList, HolidayPatch } from './schema.js';
import { createHoliday, deleteHoliday, getHoliday, importHolidays, listHolidays, updateHoliday } from './service.js';

const dayErrors = {
  409: 'the site has a calendar entry for that date already',
  422: 'not a date; special without windows; closed with windows',
};

export const holidayRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['holidays'];
  crudRoutes(app, {
    path: '/holidays',
    tags,
    read: 'rules:read',
    write: 'rules:write',
    item: Holiday,
    create: {
      summary: 'Add a day to a site’s holiday calendar (closed, or special hours)',
      body: HolidayBody,
      errors: { 404: 'siteId names no site of this organisation', ...dayErrors },
      run: createHoliday,
    },
    list: { summary: 'A site’s holiday calendar, in date order', querystring: HolidayList, run: listHolidays },
    get: { summary: 'One calendar day', run: getHoliday },
    update: { summary: 'Change a calendar day', body: HolidayPatch, errors: dayErrors, run: updateHoliday },
    remove: { summary: 'Remove a calendar day', run: deleteHoliday },
  });
  app.post(
    '/holidays/import',
    {
      config: {
        permission: 'rules:write',
        errors: { 404: 'siteId names no site of this organisation', 422: 'a day is not valid, or a date is listed twice' },
      },
      schema: {
        tags,
        summary: 'Import many days at once; days already in the calendar are replaced',
        body: HolidayImport,
        response: { 200: HolidayImported },
      },
    },
    async (req) => importHolidays(ctx, actorOf(req), req.body),
  );
};
