import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { crudRoutes } from '../../lib/crud-routes.js';
import { Visitor, VisitorBody, VisitorList, VisitorPatch } from './schema.js';
import { createVisitor, deleteVisitor, getVisitor, listVisitors, updateVisitor, visitorAccess } from './service.js';

export const visitorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  /** A Host reaches only the visitors of their own meetings; phone and document number need visitors:pii. */
  const accessOf = (req: FastifyRequest) => visitorAccess(ctx.db, req.principal!);
  crudRoutes(app, {
    path: '/visitors',
    tags: ['visitors'],
    read: 'visitors:read',
    write: 'visitors:write',
    item: Visitor,
    create: {
      summary: 'Register a visitor',
      body: VisitorBody,
      run: async (ctx, actor, body, req) => createVisitor(ctx, actor, await accessOf(req), body),
    },
    list: {
      summary: 'List visitors',
      querystring: VisitorList,
      run: async (ctx, orgId, query, req) => listVisitors(ctx, orgId, await accessOf(req), query),
    },
    get: { summary: 'One visitor', run: async (ctx, orgId, id, req) => getVisitor(ctx, orgId, await accessOf(req), id) },
    update: {
      summary: 'Change a visitor',
      body: VisitorPatch,
      run: async (ctx, actor, id, patch, req) => updateVisitor(ctx, actor, await accessOf(req), id, patch),
    },
    remove: {
      summary: 'Remove a visitor (soft; personal data erased)',
      run: async (ctx, actor, id, req) => deleteVisitor(ctx, actor, await accessOf(req), id),
    },
  });
};
