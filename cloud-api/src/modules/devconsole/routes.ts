/** Applications and their API keys, under /api/devconsole (issue 13): people only, every route `devconsole:manage`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { crudRoutes } from '../../lib/crud-routes.js';
import { IdParams } from '../../lib/pagination.js';
import { App, AppBody, AppKeyParams, AppList, AppPatch, KeyBody, KeyList, NewKey, RotateBody } from './schema.js';
import {
  createApplication,
  createKey,
  deleteApplication,
  getApplication,
  listApplications,
  listKeys,
  revokeKey,
  rotateKey,
  updateApplication,
} from './service.js';

const tags = ['devconsole'];
const permission = 'devconsole:manage' as const;

export const applicationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  crudRoutes(app, {
    path: '/apps',
    tags,
    read: permission,
    write: permission,
    item: App,
    create: {
      summary: 'Create an application (sandbox: true also creates its sandbox organisation)',
      body: AppBody,
      run: createApplication,
    },
    list: { summary: "List the organisation's applications", querystring: AppList, run: listApplications },
    get: { summary: 'One application', run: getApplication },
    update: { summary: 'Rename an application or change its description', body: AppPatch, run: updateApplication },
    remove: { summary: 'Delete an application: its keys are revoked at once and its webhooks disabled', run: deleteApplication },
  });

  app.post(
    '/apps/:id/keys',
    {
      config: {
        permission,
        errors: {
          403: 'without `devconsole:manage` (`forbidden`), or a scope the caller does not hold, outside a sandbox (`scope_not_held`)',
        },
      },
      schema: {
        tags,
        summary: 'Create an API key: the answer is the only time the key is shown',
        description:
          'A key is a bearer token (`Authorization: Bearer ghk_…`) on the /api/admin routes its scopes allow, in the organisation ' +
          'the application acts in. For a real organisation every scope must be one the caller holds (403 `scope_not_held`).',
        params: IdParams,
        body: KeyBody,
        response: { 201: NewKey },
      },
    },
    async (req, reply) => reply.code(201).send(await createKey(ctx, actorOf(req), req.principal!.permissions, req.params.id, req.body)),
  );

  app.get(
    '/apps/:id/keys',
    {
      config: { permission },
      schema: {
        tags,
        summary: "An application's keys (prefix, scopes, last use, status; never the key)",
        params: IdParams,
        response: { 200: KeyList },
      },
    },
    async (req) => listKeys(ctx, req.principal!.orgId, req.params.id),
  );

  app.delete(
    '/apps/:id/keys/:keyId',
    {
      config: { permission },
      schema: { tags, summary: 'Revoke a key: refused from the next request on, on every instance', params: AppKeyParams },
    },
    async (req, reply) => {
      await revokeKey(ctx, actorOf(req), req.params.id, req.params.keyId);
      return reply.code(204).send();
    },
  );

  app.post(
    '/apps/:id/keys/:keyId/rotate',
    {
      config: {
        permission,
        errors: {
          403: 'without `devconsole:manage` (`forbidden`), or the key has a scope the caller does not hold, outside a sandbox (`scope_not_held`)',
          409: 'the key is revoked, or was rotated already (rotate the key that replaced it)',
        },
      },
      schema: {
        tags,
        summary: 'Rotate a key: a new key (shown once) with the same scopes; the old one works until the grace period ends',
        params: AppKeyParams,
        body: RotateBody,
        response: { 201: NewKey },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(
          await rotateKey(ctx, actorOf(req), req.principal!.permissions, req.params.id, req.params.keyId, req.body.graceSeconds ?? 86_400),
        ),
  );
};
