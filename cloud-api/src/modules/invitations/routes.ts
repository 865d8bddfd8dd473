/**
 * `POST /api/admin/passes/:id/invite` and the reminder queue. Registered by
 * the passes module (the route lives under its path), so the queue exists
 * wherever appointments and passes can be changed.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Uuid } from '../../lib/pagination.js';
import { hostScope } from '../appointments/service.js';
import { invitePass, REMINDER_QUEUE, type ReminderJob, runReminder } from './service.js';

const Channel = Type.Union([Type.Literal('email'), Type.Literal('sms'), Type.Literal('telegram'), Type.Literal('webpush')]);
export const InviteBody = Type.Object(
  {
    channels: Type.Optional(
      Type.Array(Channel, {
        minItems: 1,
        maxItems: 4,
        uniqueItems: true,
        description: "default: e-mail when the visitor has one, else SMS (a visitor's address for each asked channel must be on record)",
      }),
    ),
  },
  { additionalProperties: false },
);
export const InviteResult = Type.Object({
  messages: Type.Array(Type.Object({ id: Uuid(), channel: Channel, to: Type.String({ description: 'masked address' }) })),
});

export const invitationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  await ctx.jobs.define<ReminderJob>(
    REMINDER_QUEUE,
    async (data, { id }) => {
      await runReminder(ctx, data, id);
    },
    { concurrency: 1 },
  );
  app.post(
    '/passes/:id/invite',
    {
      // Whoever issues passes invites their visitors; a Host's own guests are invited through their appointments.
      config: {
        permission: 'passes:issue',
        errors: {
          404: 'no such pass, or another host’s',
          409: 'the pass is revoked, expired or a draft',
          422: 'the visitor has no address for an asked channel',
        },
      },
      schema: {
        tags: ['passes'],
        summary: "Send the pass's visitor an invitation (.ics and guest link)",
        description:
          'Errors: 404 (no such pass, or another host’s), 409 (the pass is revoked, expired or a draft), 422 (the visitor has no address for an asked channel).',
        params: IdParams,
        body: InviteBody,
        response: { 200: InviteResult },
      },
      // A POST with no body at all asks for the defaults, like `{}`.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) (req as { body: unknown }).body = {};
      },
    },
    async (req) =>
      invitePass(ctx, actorOf(req), req.params.id, {
        ...(req.body.channels ? { channels: req.body.channels } : {}),
        scope: await hostScope(ctx.db, req.principal!),
      }),
  );
};
