/**
 * While the database is still being waited for (db/startup.ts), every API
 * route answers 503 `database_unavailable` with Retry-After at once, instead
 * of each one failing its own way against tables that may not exist yet.
 * Liveness, readiness, version, metrics and the console's files need no
 * database and keep answering: a guard sees the console's banner, not a
 * blank page.
 */
import fp from 'fastify-plugin';

const NEEDS_DATABASE = /^\/api\/(?!internal\/)/;

export default fp(
  async (app) => {
    const { startup } = app.ctx;
    app.addHook('onRequest', async (req) => {
      if (!startup.ready && NEEDS_DATABASE.test(req.url)) throw startup.unavailable();
    });
  },
  { name: 'database-gate', dependencies: ['errors'] },
);
