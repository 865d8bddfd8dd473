import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { enroll } from './service.js';

export const edgeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.post(
    '/enroll',
    {
      schema: {
        tags: ['edge'],
        summary: 'A controller trades a one-time enrollment code for its identity and broker credentials',
        body: Type.Object({ code: Type.String({ minLength: 4, maxLength: 64 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            deviceId: Type.String(),
            gateId: Type.String(),
            siteId: Type.String(),
            orgId: Type.String(),
            mqtt: Type.Object({ url: Type.String(), username: Type.String(), password: Type.String() }),
            orgPublicKey: Type.String(),
          }),
        },
      },
    },
    async (req) => enroll(ctx, req.body.code, req.ip),
  );
};
