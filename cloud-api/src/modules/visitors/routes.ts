import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { Visitor, VisitorBody, VisitorList, VisitorPatch } from './schema.js';
import { createVisitor, deleteVisitor, getVisitor, listVisitors, updateVisitor } from './service.js';

export const visitorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['visitors'];
  app.post(
    '/visitors',
    {
      config: { permission: 'visitors:write' },
      schema: { tags, summary: 'Register a visitor', body: VisitorBody, response: { 201: Visitor } },
    },
    async (req, reply) => reply.code(201).send(await createVisitor(ctx, actorOf(req), req.body)),
  );
  app.get(
    '/visitors',
    {
      config: { permission: 'visitors:read' },
      schema: { tags, summary: 'List visitors', querystring: VisitorList, response: { 200: Page(Visitor) } },
    },
    async (req) => listVisitors(ctx, req.principal!.orgId, req.query),
  );
  app.get(
    '/visitors/:id',
    { config: { permission: 'visitors:read' }, schema: { tags, summary: 'One visitor', params: IdParams, response: { 200: Visitor } } },
    async (req) => getVisitor(ctx, req.principal!.orgId, req.params.id),
  );
  app.patch(
    '/visitors/:id',
    {
      config: { permission: 'visitors:write' },
      schema: { tags, summary: 'Change a visitor', params: IdParams, body: VisitorPatch, response: { 200: Visitor } },
    },
    async (req) => updateVisitor(ctx, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/visitors/:id',
    {
      config: { permission: 'visitors:write' },
      schema: { tags, summary: 'Remove a visitor (soft; personal data erased)', params: IdParams },
    },
    async (req, reply) => {
      await deleteVisitor(ctx, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
};
