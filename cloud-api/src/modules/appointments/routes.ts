import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { Appointment, AppointmentBody, AppointmentList, AppointmentPatch } from './schema.js';
import { createAppointment, getAppointment, hostScope, listAppointments, updateAppointment } from './service.js';

export const appointmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['appointments'];
  app.post(
    '/appointments',
    {
      config: { permission: 'appointments:write' },
      schema: { tags, summary: 'Schedule a visit', body: AppointmentBody, response: { 201: Appointment } },
    },
    async (req, reply) =>
      reply.code(201).send(await createAppointment(ctx, actorOf(req), await hostScope(ctx.db, req.principal!), req.body)),
  );
  app.get(
    '/appointments',
    {
      config: { permission: 'appointments:read' },
      schema: { tags, summary: 'List appointments', querystring: AppointmentList, response: { 200: Page(Appointment) } },
    },
    async (req) => listAppointments(ctx, req.principal!.orgId, await hostScope(ctx.db, req.principal!), req.query),
  );
  app.get(
    '/appointments/:id',
    {
      config: { permission: 'appointments:read' },
      schema: { tags, summary: 'One appointment', params: IdParams, response: { 200: Appointment } },
    },
    async (req) => getAppointment(ctx, req.principal!.orgId, await hostScope(ctx.db, req.principal!), req.params.id),
  );
  app.patch(
    '/appointments/:id',
    {
      config: { permission: 'appointments:write' },
      schema: { tags, summary: 'Change an appointment', params: IdParams, body: AppointmentPatch, response: { 200: Appointment } },
    },
    async (req) => updateAppointment(ctx, actorOf(req), await hostScope(ctx.db, req.principal!), req.params.id, req.body),
  );
};
