/**
 * The `err` serializer of every log line: errors keep their type, message,
 * stack, code and cause chain, but never the values of the statement that
 * failed. Drizzle's `DrizzleQueryError` carries the query's parameters (names,
 * e-mails, password hashes…) in `params` and at the end of its message;
 * PostgreSQL's own errors carry row values in `detail` ("Key (email)=(…)
 * already exists", "Failing row contains (…)"), `where`, `internalQuery`, and
 * for a few codes in the message itself (`invalid input syntax for type uuid: "…"`).
 */

/** Fields that may hold row or parameter values: dropped whatever the error. */
const VALUE_FIELDS = new Set(['params', 'parameters', 'detail', 'where', 'internalQuery', 'raw']);
const MAX_DEPTH = 5;

type ErrorLike = { message: string; stack?: unknown; name?: unknown; cause?: unknown; errors?: unknown } & Record<string, unknown>;

function isErrorLike(v: unknown): v is ErrorLike {
  return typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string';
}

/** A PostgreSQL error (node-postgres or PGlite): a five-character SQLSTATE and a severity. */
function isPgError(e: ErrorLike): boolean {
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string';
}

/** The message without the values it quotes. */
export function scrubMessage(message: string, pg = false): string {
  // DrizzleQueryError: `Failed query: <sql with $n placeholders>\nparams: <values>`.
  let m = message.replace(/\nparams: [\s\S]*$/, '\nparams: [redacted]');
  // PostgreSQL quotes the offending input at the end: `…for type uuid: "xyz"`, `malformed array literal: "…"`.
  if (pg) m = m.replace(/: ".*"$/s, ': "[redacted]"');
  return m;
}

function typeOf(e: ErrorLike): string {
  const ctor = (e as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== 'Object' ? ctor.name : String(e.name ?? 'Error');
}

/** The stack's frames under the scrubbed message (the first lines of a stack repeat the message). */
function scrubStack(e: ErrorLike, message: string): string | undefined {
  if (typeof e.stack !== 'string') return undefined;
  const frames = e.stack.split('\n').filter((l) => /^\s+at /.test(l));
  return [`${String(e.name ?? typeOf(e))}: ${message}`, ...frames].join('\n');
}

export function serializeError(err: unknown, depth = 0): unknown {
  if (!isErrorLike(err)) return err;
  const message = scrubMessage(err.message, isPgError(err));
  const out: Record<string, unknown> = { type: typeOf(err), message };
  const stack = scrubStack(err, message);
  if (stack !== undefined) out.stack = stack;
  for (const key of Object.keys(err)) {
    if (key in out || key === 'cause' || key === 'errors' || VALUE_FIELDS.has(key)) continue;
    const v = err[key];
    if (isErrorLike(v)) {
      if (depth < MAX_DEPTH) out[key] = serializeError(v, depth + 1);
    } else out[key] = v;
  }
  if (err.cause !== undefined && depth < MAX_DEPTH) out.cause = serializeError(err.cause, depth + 1);
  if (Array.isArray(err.errors) && depth < MAX_DEPTH) out.aggregateErrors = err.errors.map((e) => serializeError(e, depth + 1));
  return out;
}

/** The shape pino and Fastify expect of an `err` serializer. */
export interface SerializedError {
  type: string;
  message: string;
  stack: string;
  [key: string]: unknown;
}

/** `serializers.err` of the app's logger. */
export function errSerializer(err: Error): SerializedError {
  return serializeError(err) as SerializedError;
}
