import type { FastifyError, FastifyInstance } from 'fastify';

/** An error whose code and message are safe to show the client. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (what = 'resource') => new HttpError(404, 'not_found', `${what} not found`);
export const badRequest = (message: string) => new HttpError(400, 'bad_request', message);
export const unprocessable = (message: string) => new HttpError(422, 'unprocessable', message);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
export const unauthorized = (message = 'authentication required') => new HttpError(401, 'unauthorized', message);
export const forbidden = (message = 'not allowed') => new HttpError(403, 'forbidden', message);

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

/** Every error leaves as `{error: {code, message}}`; 5xx never say more than "internal error". */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      return reply
        .headers(err.headers)
        .code(err.statusCode)
        .send({ error: { code: err.code, message: err.message } });
    }
    if ((err as FastifyError).validation) {
      return reply.code(400).send({ error: { code: 'validation', message: err.message } });
    }
    const pgErr = pgClientError(err);
    if (pgErr) return reply.code(pgErr.statusCode).send({ error: { code: pgErr.code, message: pgErr.message } });
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
    }
    return reply.code(status).send({ error: { code: CODES[status] ?? 'bad_request', message: err.message } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
}
