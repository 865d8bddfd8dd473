import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { crudRoutes } from '../../lib/crud-routes.js';
import { IdParams } from '../../lib/pagination.js';
import { CommandBody, CommandResult, Enrollment, Gate, GateBody, GateList, GatePatch } from './schema.js';
import { createCommand, createEnrollment, createGate, deleteGate, getGate, listGates, updateGate } from './service.js';

export const gateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['gates'];
  crudRoutes(app, {
    path: '/gates',
    tags,
    read: 'gates:read',
    write: 'gates:write',
    item: Gate,
    create: {
      summary: 'Create a gate',
      body: GateBody,
      errors: { 404: 'siteId or zoneId names nothing in this organisation', 422: 'the zone is not in that site' },
      run: createGate,
    },
    list: { summary: 'List gates with their link status', querystring: GateList, run: listGates },
    get: { summary: 'One gate', run: getGate },
    update: { summary: 'Change a gate', body: GatePatch, run: updateGate },
    remove: { summary: 'Remove a gate (soft)', run: deleteGate },
  });
  app.post(
    '/gates/:id/enrollment',
    {
      config: { permission: 'gates:enroll' },
      schema: { tags, summary: 'A one-time code to enroll a controller as this gate', params: IdParams, response: { 201: Enrollment } },
    },
    async (req, reply) => reply.code(201).send(await createEnrollment(ctx, actorOf(req), req.params.id)),
  );
  app.post(
    '/gates/:id/commands',
    {
      config: { permission: 'gates:command' },
      schema: { tags, summary: 'Open, lock down or release a gate', params: IdParams, body: CommandBody, response: { 202: CommandResult } },
    },
    async (req, reply) => reply.code(202).send(await createCommand(ctx, actorOf(req), req.params.id, req.body)),
  );
};
