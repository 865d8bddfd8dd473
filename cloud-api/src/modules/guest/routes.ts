import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Nullable, PassStatusSchema, PassTypeSchema, totpRemainingMs } from '@gatehouse/protocol';
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { bearer } from '../../auth/authenticate.js';
import type { AppContext } from '../../context.js';
import { accessRules, appointments, hosts, LANGUAGES, sites, users, visitors, type visitPasses, zones } from '../../db/schema.js';
import { unauthorized } from '../../lib/errors.js';
import { Timestamp } from '../../lib/pagination.js';
import { guestAuthRoutes } from '../guest-auth/routes.js';
import { markLinkOpened, passLanguage } from '../guest-auth/service.js';
import { openUser, openVisitorName, userPersonalColumns, visitorNameColumns } from '../orgs/personal-data.js';
import { getOrgSettings } from '../orgs/settings.js';
import { credentialOf, effectiveStatus, passRecord, requirePass } from '../passes/service.js';

export const GuestPass = Type.Object({
  pass: Type.Object({
    id: Type.String(),
    type: PassTypeSchema,
    status: PassStatusSchema,
    validFrom: Timestamp(),
    validTo: Timestamp(),
    /** The visitor's first name only: the link may have been forwarded. */
    visitorName: Nullable(Type.String()),
  }),
  /** The invitation's language (the pass's, else its appointment's, else the organisation's): the page speaks it. */
  language: Type.Enum(LANGUAGES),
  /** Whether this answer was asked with a guest session (so it may carry the credential), not the link alone. */
  signedIn: Type.Boolean(),
  org: Type.Object({
    name: Type.String(),
    logoUrl: Nullable(Type.String()),
    brandColor: Nullable(Type.String()),
  }),
  /** Where the visit is; dates on the page are shown at this site's clock. */
  site: Nullable(
    Type.Object({
      name: Type.String(),
      address: Nullable(Type.String()),
      timezone: Type.String(),
    }),
  ),
  /** The rotating QR text now: with a guest session and an active pass only. */
  payload: Nullable(Type.String()),
  expiresAt: Nullable(Timestamp()),
  secondsUntilChange: Nullable(Type.Integer()),
  /**
   * The pass's own TOTP secret, to a guest session while the pass is active,
   * so the guest page keeps drawing fresh codes with no network until the pass
   * ends. It admits nothing without the phone that holds it, and a revocation
   * still reaches the gates.
   */
  totpSecret: Nullable(Type.String()),
  /** The signed static QR, to a guest session only when the organisation turned `guestStaticQr` on. */
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

type PassRow = typeof visitPasses.$inferSelect;

/**
 * Who asks: a guest session (Authorization: Bearer, never the query string:
 * it would land in logs) sees the credential; the link's token (Bearer or
 * `?token=`) sees the visit only.
 */
async function caller(ctx: AppContext, req: FastifyRequest, queryToken: string | undefined) {
  const auth = bearer(req);
  if (auth) {
    const session = await ctx.tokens.verifyGuestSession(auth);
    if (session) return { claims: session, signedIn: true };
  }
  const link = auth ?? queryToken;
  const claims = link ? await ctx.tokens.verifyGuest(link) : null;
  if (!claims) throw unauthorized('invalid or expired guest link');
  return { claims, signedIn: false };
}

/** The site of the visit: the appointment's, else the first site of a zone the pass's rule opens. */
async function siteOf(ctx: AppContext, row: PassRow, appointmentSiteId: string | null) {
  const cols = { name: sites.name, address: sites.address, timezone: sites.timezone };
  if (appointmentSiteId) {
    const [s] = await ctx.db
      .select(cols)
      .from(sites)
      .where(and(eq(sites.id, appointmentSiteId), eq(sites.orgId, row.orgId)));
    if (s) return s;
  }
  const [rule] = await ctx.db
    .select({ zoneIds: accessRules.zoneIds })
    .from(accessRules)
    .where(and(eq(accessRules.id, row.accessRuleId), eq(accessRules.orgId, row.orgId)));
  if (!rule?.zoneIds.length) return null;
  const [s] = await ctx.db
    .select(cols)
    .from(zones)
    .innerJoin(sites, eq(sites.id, zones.siteId))
    .where(and(eq(zones.orgId, row.orgId), inArray(zones.id, rule.zoneIds), isNull(sites.deletedAt)))
    .orderBy(asc(sites.id))
    .limit(1);
  return s ?? null;
}

export const guestRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  await app.register(guestAuthRoutes);
  app.get(
    '/pass',
    {
      config: { errors: { 401: 'no token, or an invalid or expired guest link or session (`unauthorized`)' } },
      schema: {
        tags: ['guest'],
        summary: 'The guest’s visit; with a guest session (Bearer) also its rotating QR while the pass is active',
        description:
          'The link’s token (Bearer, or ?token= from the link) shows the visit only; `Authorization: Bearer <guestSession>` (POST /api/guest/auth/verify) also the credential.',
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 2048 })) }),
        response: { 200: GuestPass },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const { claims, signedIn } = await caller(ctx, req, req.query.token);
      const row = await requirePass(ctx.db, claims.org, claims.sub);
      if (!signedIn && !row.linkOpenedAt) await markLinkOpened(ctx.db, row);
      const settings = await getOrgSettings(ctx.db, row.orgId);
      const [v] = await ctx.db.select(visitorNameColumns).from(visitors).where(eq(visitors.id, row.visitorId));
      const status = effectiveStatus(row);
      const now = Date.now();
      // The credential only to a proven guest, and only while the pass is active.
      const live = signedIn && status === 'active';
      const cred = live ? await credentialOf(ctx, row, 'dynamic', now) : null;
      const badge = live && settings.guestStaticQr ? await credentialOf(ctx, row, 'static', now) : null;
      const [appt] = row.appointmentId
        ? await ctx.db
            .select({
              startsAt: appointments.startsAt,
              endsAt: appointments.endsAt,
              room: appointments.room,
              siteId: appointments.siteId,
              hostUserId: users.id,
              ...userPersonalColumns,
            })
            .from(appointments)
            .leftJoin(hosts, eq(hosts.id, appointments.hostId))
            .leftJoin(users, eq(users.id, hosts.userId))
            .where(and(eq(appointments.id, row.appointmentId), eq(appointments.orgId, row.orgId)))
        : [];
      const fullName = v ? openVisitorName(ctx.sealer, row.visitorId, v).trim() : '';
      return {
        pass: {
          id: row.id,
          type: row.type,
          status,
          validFrom: row.validFrom.toISOString(),
          validTo: row.validTo.toISOString(),
          visitorName: fullName ? (fullName.split(/\s+/)[0] ?? null) : null,
        },
        language: await passLanguage(ctx.db, row, settings.defaultLanguage),
        signedIn,
        org: { name: settings.orgName, logoUrl: settings.logoUrl, brandColor: settings.brandColor },
        site: await siteOf(ctx, row, appt?.siteId ?? null),
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
