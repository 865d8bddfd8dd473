/** The sandbox organisation's simulated gate (issue 13). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DirectionSchema, ReasonSchema } from '@gatehouse/protocol';
import Type from 'typebox';
import { actorOf, writeAudit } from '../../lib/audit.js';
import { Uuid } from '../../lib/pagination.js';
import { simulateScan } from './service.js';

const ScanBody = Type.Object(
  {
    passId: Uuid(),
    gateId: Type.Optional(Uuid({ description: 'default: the sandbox’s simulated gate' })),
    direction: Type.Optional(DirectionSchema),
  },
  { additionalProperties: false },
);
const ScanResult = Type.Object({
  allow: Type.Boolean(),
  reason: ReasonSchema,
  checkinId: Uuid({ description: 'the check-in stored, as GET /checkins lists it' }),
});

export const sandboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.post(
    '/sandbox/scan',
    {
      config: {
        permission: 'passes:check',
        errors: {
          403: 'The caller lacks `passes:check` (`forbidden`), or its organisation is a real one, not a sandbox (`not_sandbox`).',
          404: 'No such pass or gate in the sandbox (`not_found`).',
          422: 'No `gateId` given and the sandbox has no gate left (`unprocessable`).',
        },
      },
      schema: {
        tags: ['sandbox'],
        summary: 'Present a pass at a sandbox gate: decided as an edge decides, recorded as its check-in (sandbox organisations only)',
        description:
          'The pass’s current credential is decided at the gate (the simulated gate unless `gateId` names another) and stored as a check-in through the edges’ own ingestion: the live feed, arrival notices and `visitpass.checked_in` webhooks follow. 403 `not_sandbox` in a real organisation.',
        body: ScanBody,
        response: { 200: ScanResult },
      },
    },
    async (req) => {
      const r = await simulateScan(ctx, req.principal!.orgId, req.body, req.log);
      // After the check-in (the ingestion has its own statements): who simulated what, as every admin action.
      await writeAudit(ctx.db, actorOf(req), {
        action: 'sandbox.scan',
        entityType: 'checkin',
        entityId: r.checkinId,
        data: { passId: req.body.passId, allow: r.allow, reason: r.reason },
      });
      return { allow: r.allow, reason: r.reason, checkinId: r.checkinId };
    },
  );
};
