/**
 * Text the database cannot store is refused at the door, once for every
 * route: a NUL character (PostgreSQL text and jsonb refuse it), a lone UTF-16
 * surrogate (it has no UTF-8), or a document nested deeper than any route's
 * schema goes, anywhere in a request's params, query string or JSON body,
 * keys included. Runs before schema validation, so no route, field or schema
 * has to remember it.
 */
import fp from 'fastify-plugin';
import { HttpError } from '../../lib/errors.js';

/** Deeper than any route's schema goes (the deepest today is 3). */
export const MAX_DEPTH = 32;

/** A UTF-16 surrogate without its other half: such a string has no UTF-8 and no PostgreSQL text. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const storableText = (s: string) => !s.includes('\u0000') && !LONE_SURROGATE.test(s);

/** Why `value` cannot be stored, with where in it; null when it can. */
export function unstorable(value: unknown, where: string): string | null {
  const stack: [unknown, string, number][] = [[value, where, 0]];
  for (;;) {
    const top = stack.pop();
    if (!top) return null;
    const [v, at, depth] = top;
    if (typeof v === 'string') {
      if (!storableText(v)) return `${at}: must be valid Unicode text with no NUL character`;
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_DEPTH) return `${at}: nested deeper than ${MAX_DEPTH}`;
      for (const [k, item] of Object.entries(v)) {
        if (!storableText(k)) return `${at}: a key must be valid Unicode with no NUL character`;
        stack.push([item, `${at}/${k}`, depth + 1]);
      }
    }
  }
}

export default fp(
  async (app) => {
    app.addHook('preValidation', async (req) => {
      const why = unstorable(req.params, 'params') ?? unstorable(req.query, 'querystring') ?? unstorable(req.body, 'body');
      if (why) throw new HttpError(400, 'validation', why);
    });
  },
  { name: 'input-guard', dependencies: ['errors'] },
);
