import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Nullable, PassStatusSchema, PassTypeSchema, totpRemainingMs } from '@gatehouse/protocol';
import { and, eq } from 'drizzle-orm';
import Type from 'typebox';
import { bearer } from '../../auth/authenticate.js';
import { appointments, hosts, users, visitors } from '../../db/schema.js';
import { unauthorized } from '../../lib/errors.js';
import { Timestamp } from '../../lib/pagination.js';
import { openUser, openVisitorName, userPersonalColumns, visitorNameColumns } from '../orgs/personal-data.js';
import { credentialOf, effectiveStatus, passRecord, requirePass } from '../passes/service.js';

export const GuestPass = Type.Object({
  pass: Type.Object({
    id: Type.String(),
    type: PassTypeSchema,
    status: PassStatusSchema,
    validFrom: Timestamp(),
    validTo: Timestamp(),
    visitorName: Nullable(Type.String()),
  }),
  payload: Nullable(Type.String()),
  expiresAt: Nullable(Timestamp()),
  secondsUntilChange: Nullable(Type.Integer()),
  /**
   * The pass's own TOTP secret while it is active, so the guest page keeps drawing
   * fresh codes with no network until the pass ends. It admits nothing without
   * the phone that holds it, and a revocation still reaches the gates.
   */
  totpSecret: Nullable(Type.String()),
  /** The signed static QR, offered for printing. */
  staticPayload: Nullable(Type.String()),
  appointment: Nullable(
    Type.Object({
      startsAt: Timestamp(),
      endsAt: Timestamp(),
      room: Nullable(Type.String()),
      hostName: Nullable(Type.String()),
    }),
  ),
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
      const [v] = await ctx.db.select(visitorNameColumns).from(visitors).where(eq(visitors.id, row.visitorId));
      const status = effectiveStatus(row);
      const now = Date.now();
      const live = status === 'active';
      const cred = live ? await credentialOf(ctx, row, 'dynamic', now) : null;
      const badge = live ? await credentialOf(ctx, row, 'static', now) : null;
      const [appt] = row.appointmentId
        ? await ctx.db
            .select({
              startsAt: appointments.startsAt,
              endsAt: appointments.endsAt,
              room: appointments.room,
              hostUserId: users.id,
              ...userPersonalColumns,
            })
            .from(appointments)
            .leftJoin(hosts, eq(hosts.id, appointments.hostId))
            .leftJoin(users, eq(users.id, hosts.userId))
            .where(and(eq(appointments.id, row.appointmentId), eq(appointments.orgId, row.orgId)))
        : [];
      return {
        pass: {
          id: row.id,
          type: row.type,
          status,
          validFrom: row.validFrom.toISOString(),
          validTo: row.validTo.toISOString(),
          visitorName: v ? openVisitorName(ctx.sealer, row.visitorId, v) : null,
        },
        payload: cred?.payload ?? null,
        expiresAt: cred?.expiresAt ?? null,
        secondsUntilChange: live ? Math.ceil(totpRemainingMs(now) / 1000) : null,
        totpSecret: live ? passRecord(ctx, row).totpSecret : null,
        staticPayload: badge?.payload ?? null,
        appointment: appt
          ? {
              startsAt: appt.startsAt.toISOString(),
              endsAt: appt.endsAt.toISOString(),
              room: appt.room,
              hostName: appt.hostUserId ? openUser(ctx.sealer, appt.hostUserId, appt).fullName : null,
            }
          : null,
      };
    },
  );
};
