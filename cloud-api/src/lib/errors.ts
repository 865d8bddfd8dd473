import Type, { type Static } from 'typebox';

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

/**
 * The body of every 4xx/5xx answer (CONTRACT: `{error: {code, message}}`).
 * Declared once for every route's 4xx and 5xx by the errors plugin; the
 * objects stay open so the serializer never drops a field an error carries.
 */
export const ERROR_RESPONSE_ID = 'ErrorResponse';
export const ErrorResponse = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'stable, machine-readable: not_found, forbidden, validation, conflict, internal…' }),
        message: Type.String({ description: 'for people; 5xx never say more than "internal error"' }),
      },
      { additionalProperties: true },
    ),
  },
  { $id: ERROR_RESPONSE_ID, additionalProperties: true, description: 'Error' },
);
export type ErrorBody = Static<typeof ErrorResponse>;

export const errorBody = (code: string, message: string): ErrorBody => ({ error: { code, message } });
