import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { crudRoutes } from '../../lib/crud-routes.js';
import { nameAccess } from '../checkins/service.js';
import { Appointment, AppointmentBody, AppointmentList, AppointmentPatch } from './schema.js';
import { createAppointment, getAppointment, hostScope, listAppointments, nameAppointments, updateAppointment } from './service.js';

export const appointmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  /** A Host sees and books only their own appointments. */
  const scopeOf = (req: FastifyRequest) => hostScope(ctx.db, req.principal!);
  /** With the names the caller may read. */
  const named = async <T extends Parameters<typeof nameAppointments>[2][number]>(req: FastifyRequest, item: T) =>
    (await nameAppointments(ctx, req.principal!.orgId, [item], nameAccess(req.principal!)))[0]!;
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
      run: async (ctx, actor, body, req) => named(req, await createAppointment(ctx, actor, await scopeOf(req), body)),
    },
    list: {
      summary: 'List appointments',
      querystring: AppointmentList,
      run: async (ctx, orgId, query, req) => {
        const p = await listAppointments(ctx, orgId, await scopeOf(req), query);
        return { ...p, items: await nameAppointments(ctx, orgId, p.items, nameAccess(req.principal!)) };
      },
    },
    get: {
      summary: 'One appointment',
      run: async (ctx, orgId, id, req) => named(req, await getAppointment(ctx, orgId, await scopeOf(req), id)),
    },
    update: {
      summary: 'Change an appointment',
      body: AppointmentPatch,
      errors: { 422: 'hostId, siteId or visitorIds names nothing in this organisation, or endsAt is not after startsAt' },
      run: async (ctx, actor, id, patch, req) => named(req, await updateAppointment(ctx, actor, await scopeOf(req), id, patch)),
    },
  });
};
