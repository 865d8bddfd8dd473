import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { Host, HostList, User, UserBody, UserList, UserPatch } from './schema.js';
import { addUser, deleteUser, getUser, listHosts, listUsers, updateUser } from './service.js';

export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['users'];
  app.post(
    '/users',
    {
      config: { permission: 'users:write' },
      schema: { tags, summary: 'Create a user of this organisation', body: UserBody, response: { 201: User } },
    },
    async (req, reply) => reply.code(201).send(await addUser(ctx, actorOf(req), req.principal!.roles, req.body)),
  );
  app.get(
    '/users',
    { config: { permission: 'users:read' }, schema: { tags, summary: 'List users', querystring: UserList, response: { 200: Page(User) } } },
    async (req) => listUsers(ctx, req.principal!.orgId, req.query),
  );
  app.get(
    '/users/:id',
    { config: { permission: 'users:read' }, schema: { tags, summary: 'One user', params: IdParams, response: { 200: User } } },
    async (req) => getUser(ctx, req.principal!.orgId, req.params.id),
  );
  app.patch(
    '/users/:id',
    {
      config: { permission: 'users:write' },
      schema: { tags, summary: 'Change name, roles, status or password', params: IdParams, body: UserPatch, response: { 200: User } },
    },
    async (req) => updateUser(ctx, actorOf(req), req.principal!.roles, req.params.id, req.body),
  );
  app.delete(
    '/users/:id',
    { config: { permission: 'users:write' }, schema: { tags, summary: 'Remove a user (soft; sessions end)', params: IdParams } },
    async (req, reply) => {
      await deleteUser(ctx, actorOf(req), req.principal!.roles, req.params.id);
      return reply.code(204).send();
    },
  );
  app.get(
    '/hosts',
    {
      config: { permission: 'hosts:read' },
      schema: { tags, summary: 'Hosts (users who receive visitors)', querystring: HostList, response: { 200: Page(Host) } },
    },
    async (req) => listHosts(ctx, req.principal!.orgId, req.query),
  );
};
