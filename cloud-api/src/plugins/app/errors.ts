import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../../db/breaker.js';
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
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
};

/**
 * PostgreSQL SQLSTATEs that are the client's fault, not the server's: a value
 * the database refuses (class 22, data exception: out of range, bad encoding,
 * bad date...), a constraint it breaks (class 23), a value too big to index (54000).
 */
function pgClientError(err: unknown): HttpError | null {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  const code = (err as { code?: unknown }).code ?? cause?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return null;
  if (code === '23505') return conflict('already exists');
  if (code === '23503') return unprocessable('refers to something that does not exist');
  if (code.startsWith('23')) return unprocessable('breaks a rule of the data');
  if (code.startsWith('22')) return badRequest('invalid value');
  if (code === '54000') return badRequest('value too large');
  return null;
}

/**
 * The router's own refusals (a badly encoded URL, a path parameter over
 * `maxParamLength`) in the contract's shape; Fastify's `frameworkErrors`.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : 'the URL is not valid';
  reply.code(status).send(errorBody(CODES[status] ?? 'bad_request', message));
}

/**
 * Every error leaves as `{error: {code, message}}` (`ErrorResponse`, shared
 * here so every route can reference it; api-docs.ts documents, per route, the
 * statuses it answers with it); 5xx never say more than "internal error".
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
      // A database gone, shut down or too slow is not a bug here: 503 and when to retry, never a hang or a 500.
      if (isDatabaseUnavailable(err)) {
        const retryAfter = err instanceof DatabaseUnavailableError ? err.retryAfterS : app.ctx.database.health().retryAfterS;
        req.log.warn({ err }, 'database unavailable');
        return reply
          .code(503)
          .header('retry-after', String(retryAfter))
          .send(errorBody('database_unavailable', 'the database is unavailable; try again shortly'));
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
    app.setNotFoundHandler((req, reply) => {
      reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`));
    });
  },
  { name: 'errors' },
);
