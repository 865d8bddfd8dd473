import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { X25519KeySchema } from '@gatehouse/protocol';
import Type from 'typebox';
import { enroll } from './service.js';

export const edgeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.post(
    '/enroll',
    {
      config: {
        errors: {
          401: 'unknown, used or expired enrollment code, or its gate is gone (`invalid_code`)',
          409: 'the gate of this code is disabled (`gate_disabled`)',
          503: "the broker did not take the new controller's login (`broker_unavailable`)",
        },
      },
      schema: {
        tags: ['edge'],
        summary: 'A controller trades a one-time enrollment code for its identity and broker credentials',
        body: Type.Object(
          {
            code: Type.String({ minLength: 4, maxLength: 64 }),
            /** The controller's X25519 public key (SPEC SEAL-1): TOTP secrets are sealed to it. Without one, no secret is sent. */
            sealKey: Type.Optional(X25519KeySchema),
          },
          { additionalProperties: false },
        ),
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
    async (req) => enroll(ctx, req.body.code, req.ip, req.body.sealKey ?? null),
  );
};
