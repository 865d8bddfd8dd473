/**
 * The message log, the development mailbox and the organisation's templates,
 * under /api/admin. Registering this plugin also declares the `notify.send`
 * queue (sender.ts), so messages are delivered wherever the admin API runs.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { HttpError, notFound } from '../../lib/errors.js';
import { IdParams, Page } from '../../lib/pagination.js';
import { mailboxOf } from './channels/email.js';
import {
  MailboxList,
  MailMessageSchema,
  MailParams,
  NotificationItem,
  NotificationList,
  Preview,
  PreviewBody,
  TemplateBody,
  TemplateItem,
  TemplateList,
  TemplateParams,
  TestBody,
} from './schema.js';
import { defineNotifyQueue } from './sender.js';
import { listNotifications, listTemplates, previewTemplate, resetTemplate, retryNotification, saveTemplate, sendTest } from './service.js';

export const notificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  await defineNotifyQueue(ctx);
  const tags = ['notifications'];

  app.get(
    '/notifications',
    {
      config: { permission: 'notifications:read' },
      schema: {
        tags,
        summary: 'The message log (addresses masked)',
        querystring: NotificationList,
        response: { 200: Page(NotificationItem) },
      },
    },
    async (req) => listNotifications(ctx, req.principal!.orgId, req.query),
  );
  app.post(
    '/notifications/:id/retry',
    {
      config: { permission: 'notifications:write', errors: { 409: 'the message is sent or queued already' } },
      schema: { tags, summary: 'Queue a failed or dead message again', params: IdParams, response: { 200: NotificationItem } },
    },
    async (req) => retryNotification(ctx, actorOf(req), req.params.id),
  );
  app.post(
    '/notifications/test',
    {
      config: { permission: 'notifications:write' },
      schema: { tags, summary: 'Send the test message on a channel', body: TestBody, response: { 202: NotificationItem } },
    },
    async (req, reply) => reply.code(202).send(await sendTest(ctx, actorOf(req), req.body)),
  );

  // The development mailbox exists only while no SMTP server is configured.
  const mailbox = () => {
    const m = mailboxOf(ctx);
    if (!m) throw new HttpError(404, 'not_found', 'no development mailbox: SMTP_URL is set, so e-mail is really sent');
    return m;
  };
  app.get(
    '/mailbox',
    {
      config: { permission: 'notifications:read', errors: { 404: 'no development mailbox: SMTP_URL is set' } },
      schema: { tags, summary: 'The development mailbox (only without SMTP_URL)', response: { 200: MailboxList } },
    },
    async (req) => ({ items: await mailbox().list(req.principal!.orgId) }),
  );
  app.get(
    '/mailbox/:id',
    {
      config: { permission: 'notifications:read' },
      schema: { tags, summary: 'One message of the development mailbox', params: MailParams, response: { 200: MailMessageSchema } },
    },
    async (req) => {
      const m = await mailbox().get(req.principal!.orgId, req.params.id);
      if (!m) throw notFound('message');
      return m;
    },
  );

  app.get(
    '/notification-templates',
    {
      config: { permission: 'notifications:read' },
      schema: {
        tags,
        summary: 'Every template in every language, as the organisation’s messages read',
        response: { 200: TemplateList },
      },
    },
    async (req) => listTemplates(ctx, req.principal!.orgId),
  );
  app.put(
    '/notification-templates/:key/:language',
    {
      config: {
        permission: 'notifications:write',
        errors: { 422: 'the template does not parse, or uses a placeholder its key does not know' },
      },
      schema: {
        tags,
        summary: 'The organisation’s own wording of a template',
        params: TemplateParams,
        body: TemplateBody,
        response: { 200: TemplateItem },
      },
    },
    async (req) => saveTemplate(ctx, actorOf(req), req.params.key, req.params.language, req.body),
  );
  app.delete(
    '/notification-templates/:key/:language',
    {
      config: { permission: 'notifications:write' },
      schema: { tags, summary: 'Back to the default wording', params: TemplateParams, response: { 200: TemplateItem } },
    },
    async (req) => resetTemplate(ctx, actorOf(req), req.params.key, req.params.language),
  );
  app.post(
    '/notification-templates/preview',
    {
      config: {
        permission: 'notifications:read',
        errors: { 422: 'the template does not parse, or uses a placeholder its key does not know' },
      },
      schema: {
        tags,
        summary: 'Render a template with example values and the organisation’s branding',
        body: PreviewBody,
        response: { 200: Preview },
      },
    },
    async (req) => previewTemplate(ctx, req.principal!.orgId, req.body),
  );
};
