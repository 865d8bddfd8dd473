import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { totpRemainingMs } from '@gatehouse/protocol';
import { eq } from 'drizzle-orm';
import Type from 'typebox';
import { bearer } from '../../auth/authenticate.js';
import { visitors } from '../../db/schema.js';
import { unauthorized } from '../../lib/errors.js';
import { Timestamp } from '../../lib/pagination.js';
import { PassStatus } from '../passes/schema.js';
import { credentialOf, effectiveStatus, requirePass } from '../passes/service.js';

const GuestPass = Type.Object({
  pass: Type.Object({
    id: Type.String(),
    type: Type.String(),
    status: PassStatus,
    validFrom: Timestamp(),
    validTo: Timestamp(),
    visitorName: Type.Union([Type.String(), Type.Null()]),
  }),
  payload: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Timestamp(), Type.Null()]),
  secondsUntilChange: Type.Union([Type.Integer(), Type.Null()]),
});

export const guestRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.get(
    '/pass',
    {
      schema: {
        tags: ['guest'],
        summary: 'The guest’s pass and its current QR text (guest token as Bearer, or ?token= from the magic link)',
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 2048 })) }),
        response: { 200: GuestPass },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const token = bearer(req) ?? req.query.token;
      const claims = token ? await ctx.tokens.verifyGuest(token) : null;
      if (!claims) throw unauthorized('invalid or expired guest link');
      const row = await requirePass(ctx.db, claims.org, claims.sub);
      const [v] = await ctx.db.select({ fullName: visitors.fullName }).from(visitors).where(eq(visitors.id, row.visitorId));
      const status = effectiveStatus(row);
      const now = Date.now();
      const live = status === 'active';
      const cred = live ? await credentialOf(ctx, row, 'dynamic', now) : null;
      return {
        pass: {
          id: row.id,
          type: row.type,
          status,
          validFrom: row.validFrom.toISOString(),
          validTo: row.validTo.toISOString(),
          visitorName: v?.fullName ?? null,
        },
        payload: cred?.payload ?? null,
        expiresAt: cred?.expiresAt ?? null,
        secondsUntilChange: live ? Math.ceil(totpRemainingMs(now) / 1000) : null,
      };
    },
  );
};
