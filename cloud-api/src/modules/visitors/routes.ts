import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { crudRoutes } from '../../lib/crud-routes.js';
import { Visitor, VisitorBody, VisitorList, VisitorPatch } from './schema.js';
import { createVisitor, deleteVisitor, getVisitor, listVisitors, updateVisitor } from './service.js';

export const visitorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  crudRoutes(app, {
    path: '/visitors',
    tags: ['visitors'],
    read: 'visitors:read',
    write: 'visitors:write',
    item: Visitor,
    create: { summary: 'Register a visitor', body: VisitorBody, run: createVisitor },
    list: { summary: 'List visitors', querystring: VisitorList, run: listVisitors },
    get: { summary: 'One visitor', run: getVisitor },
    update: { summary: 'Change a visitor', body: VisitorPatch, run: updateVisitor },
    remove: { summary: 'Remove a visitor (soft; personal data erased)', run: deleteVisitor },
  });
};
