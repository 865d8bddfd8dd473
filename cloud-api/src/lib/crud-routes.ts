import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, FastifySchema, FastifyTypeProviderDefault } from 'fastify';
import type { Static, TSchema } from 'typebox';
import type { Permission } from '../auth/rbac.js';
import type { AppContext } from '../context.js';
import type { ErrorDocs } from '../plugins/app/api-docs.js';
import { type Actor, actorOf } from './audit.js';
import { IdParams, Page } from './pagination.js';

type TypeBoxApp = Parameters<FastifyPluginAsyncTypebox>[0];
type PageOf<Item extends TSchema> = Static<ReturnType<typeof Page<Item>>>;

/**
 * The routes of one collection, each declared by a summary, its schema and the
 * service function behind it. The functions take the module's usual arguments
 * (writes the actor, reads the caller's organisation); the request comes last
 * for what a module needs beyond them (the caller's roles, a Host's scope).
 */
export interface CrudRoutes<
  Item extends TSchema,
  Body extends TSchema,
  Patch extends TSchema,
  List extends TSchema,
  Created extends TSchema,
> {
  /** The collection, e.g. `/sites`; one item is `${path}/:id`. */
  path: `/${string}`;
  tags: string[];
  /** Required by list and get. */
  read: Permission;
  /** Required by create, update and remove. */
  write: Permission;
  /** What get and update answer, list pages of and create answers unless `create.response` says otherwise. */
  item: Item;
  /** `POST path` → 201 */
  create?: {
    summary: string;
    body: Body;
    response?: Created;
    /** Statuses the service answers beyond the derived ones (api-docs.ts), each with when. */
    errors?: ErrorDocs;
    run: (ctx: AppContext, actor: Actor, body: Static<Body>, req: FastifyRequest) => Promise<Static<Created>>;
  };
  /** `GET path` → 200 a page */
  list?: {
    summary: string;
    querystring: List;
    run: (ctx: AppContext, orgId: string, query: Static<List>, req: FastifyRequest) => Promise<PageOf<Item>>;
  };
  /** `GET path/:id` → 200 */
  get?: {
    summary: string;
    errors?: ErrorDocs;
    run: (ctx: AppContext, orgId: string, id: string, req: FastifyRequest) => Promise<Static<Item>>;
  };
  /** `PATCH path/:id` → 200 */
  update?: {
    summary: string;
    body: Patch;
    errors?: ErrorDocs;
    run: (ctx: AppContext, actor: Actor, id: string, patch: Static<Patch>, req: FastifyRequest) => Promise<Static<Item>>;
  };
  /** `DELETE path/:id` → 204 */
  remove?: {
    summary: string;
    errors?: ErrorDocs;
    run: (ctx: AppContext, actor: Actor, id: string, req: FastifyRequest) => Promise<unknown>;
  };
}

/** Declares the collection's routes in the order create, list, get, update, remove; a module's other routes follow it. */
export function crudRoutes<
  Item extends TSchema,
  Body extends TSchema,
  Patch extends TSchema,
  List extends TSchema,
  Created extends TSchema = Item,
>(app: TypeBoxApp, spec: CrudRoutes<Item, Body, Patch, List, Created>): void {
  const { ctx } = app;
  const { path, tags, read, write, item, create, list, get, update, remove } = spec;
  const one = `${path}/:id`;
  const orgOf = (req: FastifyRequest) => req.principal!.orgId;
  type Id = { Params: Static<typeof IdParams> };
  // The spec holds the types: its functions are checked against its schemas where it is written.
  // Here the schemas are generic, so the routes take the default provider and the validated
  // body and query are given the types their schemas promise.
  const routes = app.withTypeProvider<FastifyTypeProviderDefault>();
  if (create) {
    // Widened, so the reply's type does not hang on a generic 201 schema.
    const schema: FastifySchema = { tags, summary: create.summary, body: create.body, response: { 201: create.response ?? item } };
    routes.post(path, { config: { permission: write, errors: create.errors }, schema }, async (req, reply) =>
      reply.code(201).send(await create.run(ctx, actorOf(req), req.body as Static<Body>, req)),
    );
  }
  if (list) {
    routes.get(
      path,
      {
        config: { permission: read },
        schema: { tags, summary: list.summary, querystring: list.querystring, response: { 200: Page(item) } },
      },
      async (req) => list.run(ctx, orgOf(req), req.query as Static<List>, req),
    );
  }
  if (get) {
    routes.get<Id>(
      one,
      {
        config: { permission: read, errors: get.errors },
        schema: { tags, summary: get.summary, params: IdParams, response: { 200: item } },
      },
      async (req) => get.run(ctx, orgOf(req), req.params.id, req),
    );
  }
  if (update) {
    routes.patch<Id>(
      one,
      {
        config: { permission: write, errors: update.errors },
        schema: { tags, summary: update.summary, params: IdParams, body: update.body, response: { 200: item } },
      },
      async (req) => update.run(ctx, actorOf(req), req.params.id, req.body as Static<Patch>, req),
    );
  }
  if (remove) {
    routes.delete<Id>(
      one,
      { config: { permission: write, errors: remove.errors }, schema: { tags, summary: remove.summary, params: IdParams } },
      async (req, reply) => {
        await remove.run(ctx, actorOf(req), req.params.id, req);
        return reply.code(204).send();
      },
    );
  }
}
