import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams } from '../../lib/pagination.js';
import { GuestParams, HostVisit, HostVisitPage, HostVisitQuery, InvitationBody } from './schema.js';
import { cancelHostVisit, inviteGuests, listHostVisits, resendInvitation } from './service.js';

/**
 * The host portal's visits and invitations, under /api/host. Every route needs
 * `host:portal` and acts on the caller's own host record only.
 */
export const hostVisitRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['host'];
  const config = { permission: 'host:portal' as const };
  app.get(
    '/visits',
    {
      config,
      schema: {
        tags,
        summary: 'My visits and each guest’s state (invited, link opened, signed in, arrived, left)',
        querystring: HostVisitQuery,
        response: { 200: HostVisitPage },
      },
    },
    async (req) => listHostVisits(ctx, req.principal!, req.query),
  );
  app.post(
    '/invitations',
    {
      config: {
        ...config,
        errors: {
          422: 'a guest has neither e-mail nor phone, endsAt is not after startsAt, siteId names no site, or the caller is no host / no invitation rule is chosen',
        },
      },
      schema: {
        tags,
        summary: 'Invite guests to a new visit (each guest needs an email or a phone)',
        body: InvitationBody,
        response: { 201: HostVisit },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const visit = await inviteGuests(ctx, { ...actor, userId: req.principal!.userId }, req.principal!, req.body);
      return reply.code(201).send(visit);
    },
  );
  app.post(
    '/visits/:id/cancel',
    {
      config: { ...config, errors: { 409: 'the visit is cancelled already' } },
      schema: { tags, summary: 'Cancel my visit (the invited guests are told)', params: IdParams, response: { 200: HostVisit } },
    },
    async (req) => cancelHostVisit(ctx, actorOf(req), req.principal!, req.params.id),
  );
  app.post(
    '/visits/:id/guests/:visitorId/resend',
    {
      config: { ...config, errors: { 409: 'the visit is cancelled, or the guest has no pass or a revoked one' } },
      schema: { tags, summary: 'Send a guest’s invitation again', params: GuestParams, response: { 200: HostVisit } },
    },
    async (req) => resendInvitation(ctx, actorOf(req), req.principal!, req.params.id, req.params.visitorId),
  );
};
