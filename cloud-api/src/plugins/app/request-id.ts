import fp from 'fastify-plugin';

/** Every answer names its request id (the caller's `x-request-id` when it is sane, else a UUIDv7: see `genReqId`). */
export default fp(
  async (app) => {
    app.addHook('onRequest', async (req, reply) => {
      reply.header('x-request-id', req.id);
    });
  },
  { name: 'request-id' },
);
