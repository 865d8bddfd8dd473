import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';

/** A CSV route's 200 answer in the OpenAPI document. */
export const csvResponse = (description: string) => ({ description, content: { 'text/csv': { schema: Type.String() } } });

/**
 * Sends a CSV file as a download (`<name>.csv`), never cached: the muster's, the check-in history's. The body is
 * the file's text or a stream of it; the typed reply knows only the string the schema names.
 */
export function sendCsv(reply: FastifyReply, name: string, body: string | Readable) {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.csv"`)
    .header('cache-control', 'no-store')
    .send(body);
}
