import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';

/** Security headers on every answer (the console's HTML sets its own CSP). */
export default fp(
  async (app) => {
    await app.register(helmet, { contentSecurityPolicy: false, global: true });
  },
  { name: 'security-headers' },
);
