/**
 * What the OpenAPI document says about each route beyond its own schema,
 * derived once here from what the route declares, so a route added later (by
 * any module) is documented without anyone remembering to:
 * - the error statuses it can really answer, each with the shared
 *   ErrorResponse body and a description: 400 when it takes a body, query or
 *   params; 413/415 when it takes a body; 401 and 403 when it is guarded; 404
 *   when it has path params; 429 everywhere (rate limits); 5XX everywhere; plus
 *   what the route itself declares in `config.errors` (409, 422... thrown by
 *   its service, which no hook can see);
 * - who may call it: an access JWT, and on /api/admin an application's API
 *   key as well; public routes say they need nothing;
 * - a 204 for a DELETE that declares no success answer;
 * - an example of its request body and success answers: the schema's own
 *   (`examples` on the shared schemas), else one composed from its parts (lib/examples.ts).
 * Registered after the route guard, so its word on security is the last.
 */
import type { FastifySchema, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import Type from 'typebox';
import { exampleOf } from '../../lib/examples.js';
import { ERROR_REF } from './errors.js';

/** Error statuses a route answers beyond those derived from its declaration, each with when. */
export type ErrorDocs = Partial<Record<400 | 401 | 403 | 404 | 409 | 410 | 422 | 429 | 502 | 503, string>>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Statuses the route's service answers that the docs cannot derive (409, 422...), each with when. */
    errors?: ErrorDocs;
  }
}

/** The success answer of a route that answers 204 without a body. */
export const NoContent = Type.Null({ description: 'Done; no body' });

/** The security scheme names of the OpenAPI document (swagger.ts declares them). */
export const SECURITY = { jwt: 'bearer', apiKey: 'apiKey' } as const;

/** Routes where an application's API key is accepted (spec 13: /api/admin only). */
const KEY_ROUTES = /^\/api\/admin(\/|$)/;

const RATE_HEADERS = {
  'Retry-After': { type: 'integer', description: 'seconds until a request may succeed' },
  'RateLimit-Limit': { type: 'integer', description: 'requests allowed in the window' },
  'RateLimit-Remaining': { type: 'integer', description: 'requests left in the window' },
  'RateLimit-Reset': { type: 'integer', description: 'seconds until the window resets' },
};

const error = (description: string, extra: Record<string, unknown> = {}) => ({ ...ERROR_REF, description, ...extra });

/** Path params that name a record (`id`, `visitorId`): a miss is a 404; a fixed key or language is a 400. */
const namesSomething = (params: unknown) =>
  Object.keys((params as { properties?: object } | undefined)?.properties ?? {}).some((k) => k === 'id' || k.endsWith('Id'));

/** The documented answers of one route, from what it declares; exported for the docs test. */
export function documentedResponses(route: Pick<RouteOptions, 'url' | 'method' | 'schema' | 'config'>): Record<string, unknown> {
  const schema = (route.schema ?? {}) as FastifySchema;
  const cfg = (route.config ?? {}) as { permission?: string; authenticated?: boolean; errors?: ErrorDocs };
  const declared = { ...(schema.response as Record<string, unknown> | undefined) };
  // The runtime catch-alls of the errors plugin stay out of the document: the statuses below replace them.
  delete declared['4xx'];
  delete declared['5xx'];
  const out: Record<string, unknown> = {};
  const methods = [route.method].flat();
  const hasBody = !!schema.body;
  const keys = KEY_ROUTES.test(route.url);
  if (!Object.keys(declared).some((s) => /^2/.test(s)) && methods.includes('DELETE')) out['204'] = NoContent;
  if (hasBody || schema.querystring || schema.params)
    out['400'] = error('The request does not match its schema (`validation`), or holds a value that cannot be stored.');
  if (cfg.permission || cfg.authenticated)
    out['401'] = error(
      keys
        ? 'No bearer token, or an invalid or expired one: an ended session, an unknown, revoked or expired API key, a deleted application (`unauthorized`).'
        : 'No bearer token, or an invalid or expired one (`unauthorized`); an API key is not accepted here (`api_key_not_allowed_here`).',
    );
  else if (route.url.startsWith('/api/'))
    out['401'] = error('An API key is not accepted here (`api_key_not_allowed_here`); this route needs no credentials.');
  if (cfg.permission) out['403'] = error(`The caller (a user's roles or a key's scopes) lacks \`${cfg.permission}\` (\`forbidden\`).`);
  if (namesSomething(schema.params))
    out['404'] = error("Nothing with that id in the caller's organisation (`not_found`); another organisation's is not found either.");
  if (hasBody) {
    out['413'] = error('The body is larger than 1 MiB.');
    out['415'] = error('The body is not `application/json`.');
  }
  out['429'] = error('Too many requests (`rate_limited`); retry after `Retry-After` seconds.', { headers: RATE_HEADERS });
  for (const [status, when] of Object.entries(cfg.errors ?? {}))
    out[status] = error(when, status === '429' ? { headers: RATE_HEADERS } : {});
  out['5xx'] = error('The server failed (`internal`); the body never says more than "internal error".');
  for (const status of Object.keys(declared)) if (/^2/.test(status)) declared[status] = described(status, withExample(declared[status]));
  // What the route declares itself wins (a health check's own 503 body, a 2xx).
  return { ...out, ...declared };
}

/** `schema` with an example, unless it has one or none can be made (a `$ref`, a body that is not JSON). */
function withExample<T>(schema: T): T {
  if (!schema || typeof schema !== 'object' || 'examples' in schema || 'content' in schema || '$ref' in schema) return schema;
  if ((schema as { type?: unknown }).type === 'null') return schema;
  const example = exampleOf(schema);
  return example === undefined ? schema : { ...schema, examples: [example] };
}

const SUCCESS: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted: it happens in the background' };

/** A success answer with a description (@fastify/swagger's `x-response-description`), unless it has one. */
function described<T>(status: string, schema: T): T {
  if (!schema || typeof schema !== 'object' || 'description' in schema || 'x-response-description' in schema || !SUCCESS[status])
    return schema;
  return { ...schema, 'x-response-description': SUCCESS[status] };
}

/** The security requirement of one route: none when public, the JWT, and on /api/admin an API key too. */
export function documentedSecurity(route: Pick<RouteOptions, 'url' | 'config'>): Record<string, string[]>[] {
  const cfg = (route.config ?? {}) as { permission?: string; authenticated?: boolean };
  if (!cfg.permission && !cfg.authenticated) return [];
  return KEY_ROUTES.test(route.url) ? [{ [SECURITY.jwt]: [] }, { [SECURITY.apiKey]: [] }] : [{ [SECURITY.jwt]: [] }];
}

export default fp(
  async (app) => {
    app.addHook('onRoute', (route) => {
      if (route.schema?.hide) return;
      const body = route.schema?.body ? { body: withExample(route.schema.body) } : {};
      route.schema = { ...route.schema, ...body, response: documentedResponses(route), security: documentedSecurity(route) };
    });
  },
  { name: 'api-docs', dependencies: ['errors', 'route-guard'] },
);
