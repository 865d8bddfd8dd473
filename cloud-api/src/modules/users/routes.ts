import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { crudRoutes } from '../../lib/crud-routes.js';
import { Page } from '../../lib/pagination.js';
import { Host, HostList, User, UserBody, UserList, UserPatch } from './schema.js';
import { addUser, deleteUser, getUser, listHosts, listUsers, updateUser } from './service.js';

export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['users'];
  crudRoutes(app, {
    path: '/users',
    tags,
    read: 'users:read',
    write: 'users:write',
    item: User,
    create: {
      summary: 'Create a user of this organisation',
      body: UserBody,
      errors: { 409: 'a user with this e-mail exists in this organisation' },
      run: (ctx, actor, body, req) => addUser(ctx, actor, req.principal!.roles, body),
    },
    list: { summary: 'List users', querystring: UserList, run: listUsers },
    get: { summary: 'One user', run: getUser },
    update: {
      summary: 'Change name, roles, status or password',
      body: UserPatch,
      run: (ctx, actor, id, patch, req) => updateUser(ctx, actor, req.principal!.roles, id, patch),
    },
    remove: {
      summary: 'Remove a user (soft; sessions end)',
      errors: { 409: 'you cannot delete your own account' },
      run: (ctx, actor, id, req) => deleteUser(ctx, actor, req.principal!.roles, id),
    },
  });
  app.get(
    '/hosts',
    {
      config: { permission: 'hosts:read' },
      schema: { tags, summary: 'Hosts (users who receive visitors)', querystring: HostList, response: { 200: Page(Host) } },
    },
    async (req) => listHosts(ctx, req.principal!.orgId, req.query),
  );
};
