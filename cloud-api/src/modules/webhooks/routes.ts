/**
 * Webhook endpoints and their delivery log (issue 13), under /api/devconsole.
 * Registering this plugin also declares the `webhook.fanout` and
 * `webhook.deliver` queues (emit.ts, deliver.ts) and starts this instance's subscription cache (emit.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../lib/audit.js';
import { defineWebhookQueues } from './deliver.js';
import { subscriptionsOf } from './emit.js';
import { CATALOGUE } from './events.js';
import {
  AppParams,
  DeliveryDetail,
  DeliveryItem,
  DeliveryList,
  DeliveryPage,
  DeliveryParams,
  EventCatalogue,
  TestSent,
  WebhookCreate,
  WebhookCreated,
  WebhookItem,
  WebhookList,
  WebhookParams,
  WebhookPatch,
  WebhookSecret,
} from './schema.js';
import {
  createWebhook,
  deleteWebhook,
  getDelivery,
  getWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
  rotateSecret,
  sendTestEvent,
  updateWebhook,
} from './service.js';

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  await defineWebhookQueues(ctx);
  const subscriptions = subscriptionsOf(ctx);
  app.addHook('onReady', async () => subscriptions.start());
  app.addHook('onClose', async () => subscriptions.stop());
  const tags = ['webhooks'];
  const config = { permission: 'devconsole:manage' as const };
  const URL_REFUSED = 'the URL is not https, carries credentials, does not resolve, or resolves to a non-public address';
  const DISABLED = 'the endpoint is disabled: enable it first';

  app.get(
    '/events',
    {
      config,
      schema: { tags, summary: 'The webhook event catalogue, with an example payload of each', response: { 200: EventCatalogue } },
    },
    async () => ({ items: CATALOGUE }),
  );
  app.post(
    '/apps/:id/webhooks',
    {
      config: { ...config, errors: { 422: URL_REFUSED } },
      schema: {
        tags,
        summary: 'Add a webhook endpoint to an application (the signing secret is shown only here)',
        params: AppParams,
        body: WebhookCreate,
        response: { 201: WebhookCreated },
      },
    },
    async (req, reply) => reply.code(201).send(await createWebhook(ctx, actorOf(req), req.params.id, req.body)),
  );
  app.get(
    '/apps/:id/webhooks',
    { config, schema: { tags, summary: 'The webhook endpoints of an application', params: AppParams, response: { 200: WebhookList } } },
    async (req) => listWebhooks(ctx, req.principal!.orgId, req.params.id),
  );
  app.get(
    '/webhooks/:id',
    { config, schema: { tags, summary: 'A webhook endpoint', params: WebhookParams, response: { 200: WebhookItem } } },
    async (req) => getWebhook(ctx, req.principal!.orgId, req.params.id),
  );
  app.patch(
    '/webhooks/:id',
    {
      config: { ...config, errors: { 422: URL_REFUSED } },
      schema: {
        tags,
        summary: 'Change a webhook endpoint’s URL, events or description, or disable / enable it',
        params: WebhookParams,
        body: WebhookPatch,
        response: { 200: WebhookItem },
      },
    },
    async (req) => updateWebhook(ctx, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/webhooks/:id',
    { config, schema: { tags, summary: 'Delete a webhook endpoint', params: WebhookParams } },
    async (req, reply) => {
      await deleteWebhook(ctx, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
  app.post(
    '/webhooks/:id/rotate-secret',
    {
      config,
      schema: {
        tags,
        summary: 'Replace the signing secret at once (the new one is shown only here)',
        params: WebhookParams,
        response: { 200: WebhookSecret },
      },
    },
    async (req) => rotateSecret(ctx, actorOf(req), req.params.id),
  );
  app.post(
    '/webhooks/:id/test',
    {
      config: { ...config, errors: { 409: DISABLED } },
      schema: { tags, summary: 'Send a webhook.test event to the endpoint', params: WebhookParams, response: { 202: TestSent } },
    },
    async (req, reply) => reply.code(202).send(await sendTestEvent(ctx, actorOf(req), req.params.id)),
  );
  app.get(
    '/webhooks/:id/deliveries',
    {
      config,
      schema: {
        tags,
        summary: 'The endpoint’s delivery log, newest first',
        params: WebhookParams,
        querystring: DeliveryList,
        response: { 200: DeliveryPage },
      },
    },
    async (req) => listDeliveries(ctx, req.principal!.orgId, req.params.id, req.query),
  );
  app.get(
    '/webhooks/:id/deliveries/:deliveryId',
    { config, schema: { tags, summary: 'One delivery, with the body sent', params: DeliveryParams, response: { 200: DeliveryDetail } } },
    async (req) => getDelivery(ctx, req.principal!.orgId, req.params.id, req.params.deliveryId),
  );
  app.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      config: { ...config, errors: { 409: DISABLED } },
      schema: {
        tags,
        summary: 'Send a delivery again (same body and webhook-id, a fresh set of retries)',
        params: DeliveryParams,
        response: { 202: DeliveryItem },
      },
    },
    async (req, reply) => reply.code(202).send(await redeliver(ctx, actorOf(req), req.params.id, req.params.deliveryId)),
  );
};
