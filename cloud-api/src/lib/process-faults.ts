/**
 * The cloud's policy for faults nothing else caught (installed by `serve`):
 * - an unhandled promise rejection is logged and counted, and the process goes
 *   on serving — one forgotten `.catch` in a background task must not take every
 *   site's API down;
 * - an uncaught exception is logged, counted, and the process exits non-zero once
 *   the log is flushed — its state may be broken, and systemd (Restart=on-failure)
 *   starts a clean one.
 */
import type { FastifyBaseLogger } from 'fastify';

export const processFaults = { unhandledRejections: 0, uncaughtExceptions: 0 };

/** Only the error's kind, message, code and stack: a rejection's value could be anything (a request, a row with secrets). */
function describe(reason: unknown): Record<string, unknown> {
  if (reason instanceof Error) {
    return { type: reason.name, message: reason.message, code: (reason as { code?: unknown }).code, stack: reason.stack };
  }
  return { type: typeof reason };
}

export function installProcessHandlers(log: FastifyBaseLogger, exit: (code: number) => void = process.exit): () => void {
  const onRejection = (reason: unknown) => {
    processFaults.unhandledRejections++;
    log.error({ fault: describe(reason) }, 'unhandled promise rejection (logged, not fatal)');
  };
  const onException = (err: Error, origin: string) => {
    processFaults.uncaughtExceptions++;
    log.fatal({ fault: describe(err), origin }, 'uncaught exception: exiting');
    // pino writes synchronously to stdout by default; flush covers an async destination too.
    const flush = (log as { flush?: (cb?: (err?: Error) => void) => void }).flush;
    if (typeof flush === 'function') flush.call(log, () => exit(1));
    else exit(1);
    setTimeout(() => exit(1), 1000).unref();
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
