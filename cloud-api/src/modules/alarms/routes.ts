import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { AcknowledgeBody, Alarm, AlarmList, ClearBody } from './schema.js';
import { acknowledgeAlarm, clearAlarm, defineAlarmQueues, getAlarm, listAlarms } from './service.js';

export const alarmRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  await defineAlarmQueues(ctx);
  const tags = ['alarms'];
  app.get(
    '/alarms',
    {
      config: { permission: 'alarms:read' },
      schema: {
        tags,
        summary: 'Door, reader and controller alarms, newest first',
        querystring: AlarmList,
        response: { 200: Page(Alarm) },
      },
    },
    async (req) => listAlarms(ctx, req.principal!.orgId, req.query),
  );
  app.get(
    '/alarms/:id',
    { config: { permission: 'alarms:read' }, schema: { tags, summary: 'One alarm', params: IdParams, response: { 200: Alarm } } },
    async (req) => getAlarm(ctx, req.principal!.orgId, req.params.id),
  );
  app.post(
    '/alarms/:id/acknowledge',
    {
      config: { permission: 'alarms:manage', errors: { 409: 'the alarm is acknowledged or cleared already' } },
      schema: {
        tags,
        summary: 'Acknowledge an alarm (a guard has seen it), with an optional note',
        params: IdParams,
        body: AcknowledgeBody,
        response: { 200: Alarm },
      },
      // A POST with no body at all acknowledges without a note, like `{}`.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) (req as { body: unknown }).body = {};
      },
    },
    async (req) => acknowledgeAlarm(ctx, actorOf(req), req.params.id, req.body.note),
  );
  app.post(
    '/alarms/:id/clear',
    {
      config: { permission: 'alarms:manage', errors: { 409: 'the alarm is cleared already' } },
      schema: {
        tags,
        summary: 'Clear an alarm with a note (what it was, what was done)',
        params: IdParams,
        body: ClearBody,
        response: { 200: Alarm },
      },
    },
    async (req) => clearAlarm(ctx, actorOf(req), req.params.id, req.body.note),
  );
};
