import type { FastifyError } from 'fastify';
import fp from 'fastify-plugin';
import { badRequest, conflict, ERROR_RESPONSE_ID, ErrorResponse, errorBody, HttpError, unprocessable } from '../../lib/errors.js';

/** How a route schema names the shared error body (registered with `addSchema`). */
export const ERROR_REF = { $ref: `${ERROR_RESPONSE_ID}#` } as const;

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
};

/** PostgreSQL SQLSTATEs that are the client's fault, not the server's. */
function pgClientError(err: unknown): HttpError | null {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  const code = (err as { code?: unknown }).code ?? cause?.code;
  if (code === '23505') return conflict('already exists');
  if (code === '23503') return unprocessable('refers to something that does not exist');
  if (code === '22P02' || code === '22007' || code === '22008') return badRequest('invalid value');
  return null;
}

/**
 * Every error leaves as `{error: {code, message}}` (`ErrorResponse`, shared
 * here so every route can reference it); 5xx never say more than "internal error".
 */
export default fp(
  async (app) => {
    app.addSchema(ErrorResponse);
    app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
      if (err instanceof HttpError) {
        return reply.headers(err.headers).code(err.statusCode).send(errorBody(err.code, err.message));
      }
      if ((err as FastifyError).validation) {
        return reply.code(400).send(errorBody('validation', err.message));
      }
      const pgErr = pgClientError(err);
      if (pgErr) return reply.code(pgErr.statusCode).send(errorBody(pgErr.code, pgErr.message));
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status >= 500) {
        req.log.error({ err }, 'request failed');
        return reply.code(500).send(errorBody('internal', 'internal error'));
      }
      return reply.code(status).send(errorBody(CODES[status] ?? 'bad_request', err.message));
    });
    // Every documented route answers its 4xx and 5xx with this body: said once here, not in each route.
    app.addHook('onRoute', (route) => {
      if (route.schema?.hide) return;
      const response: Record<string, unknown> = { ...(route.schema?.response as Record<string, unknown> | undefined) };
      response['4xx'] ??= ERROR_REF;
      response['5xx'] ??= ERROR_REF;
      route.schema = { ...route.schema, response };
    });
    app.setNotFoundHandler((req, reply) => {
      reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`));
    });
  },
  { name: 'errors' },
);
