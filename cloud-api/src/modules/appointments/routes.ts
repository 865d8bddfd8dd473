import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { crudRoutes } from '../../lib/crud-routes.js';
import { Appointment, AppointmentBody, AppointmentList, AppointmentPatch } from './schema.js';
import { createAppointment, getAppointment, hostScope, listAppointments, updateAppointment } from './service.js';

export const appointmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  /** A Host sees and books only their own appointments. */
  const scopeOf = (req: FastifyRequest) => hostScope(ctx.db, req.principal!);
  crudRoutes(app, {
    path: '/appointments',
    tags: ['appointments'],
    read: 'appointments:read',
    write: 'appointments:write',
    item: Appointment,
    create: {
      summary: 'Schedule a visit',
      body: AppointmentBody,
      errors: { 422: 'hostId, siteId or visitorIds names nothing in this organisation, or endsAt is not after startsAt' },
      run: async (ctx, actor, body, req) => createAppointment(ctx, actor, await scopeOf(req), body),
    },
    list: {
      summary: 'List appointments',
      querystring: AppointmentList,
      run: async (ctx, orgId, query, req) => listAppointments(ctx, orgId, await scopeOf(req), query),
    },
    get: { summary: 'One appointment', run: async (ctx, orgId, id, req) => getAppointment(ctx, orgId, await scopeOf(req), id) },
    update: {
      summary: 'Change an appointment',
      body: AppointmentPatch,
      errors: { 422: 'hostId, siteId or visitorIds names nothing in this organisation, or endsAt is not after startsAt' },
      run: async (ctx, actor, id, patch, req) => updateAppointment(ctx, actor, await scopeOf(req), id, patch),
    },
  });
};
