import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { CommandBody, CommandResult, Enrollment, Gate, GateBody, GateList, GatePatch } from './schema.js';
import { createCommand, createEnrollment, createGate, deleteGate, getGate, listGates, updateGate } from './service.js';

export const gateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['gates'];
  app.post(
    '/gates',
    { config: { permission: 'gates:write' }, schema: { tags, summary: 'Create a gate', body: GateBody, response: { 201: Gate } } },
    async (req, reply) => reply.code(201).send(await createGate(ctx, actorOf(req), req.body)),
  );
  app.get(
    '/gates',
    {
      config: { permission: 'gates:read' },
      schema: { tags, summary: 'List gates with their link status', querystring: GateList, response: { 200: Page(Gate) } },
    },
    async (req) => listGates(ctx, req.principal!.orgId, req.query),
  );
  app.get(
    '/gates/:id',
    { config: { permission: 'gates:read' }, schema: { tags, summary: 'One gate', params: IdParams, response: { 200: Gate } } },
    async (req) => getGate(ctx, req.principal!.orgId, req.params.id),
  );
  app.patch(
    '/gates/:id',
    {
      config: { permission: 'gates:write' },
      schema: { tags, summary: 'Change a gate', params: IdParams, body: GatePatch, response: { 200: Gate } },
    },
    async (req) => updateGate(ctx, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/gates/:id',
    { config: { permission: 'gates:write' }, schema: { tags, summary: 'Remove a gate (soft)', params: IdParams } },
    async (req, reply) => {
      await deleteGate(ctx, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
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
