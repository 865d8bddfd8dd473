/**
 * A host's browsers as Web Push recipients: the cloud's VAPID public key (the
 * browser's `applicationServerKey`), and the subscriptions `PushManager`
 * hands the console, stored sealed (the endpoint is a bearer capability: who
 * knows it and the keys can push to the browser) and found again by a keyed
 * hash of the endpoint. Under /api/host, every route needs `host:portal`.
 */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { uuidv7 } from '@gatehouse/protocol';
import { and, eq, inArray } from 'drizzle-orm';
import Type from 'typebox';
import { pushSubscriptions } from '../../db/schema.js';
import { actorOf, writeAudit } from '../../lib/audit.js';
import { notFound, unprocessable } from '../../lib/errors.js';
import { IdParams } from '../../lib/pagination.js';
import { ENDPOINT_LOOKUP, type StoredSubscription, subscriptionAad, vapidKeys } from '../notifications/channels/webpush.js';

const B64URL = '^[A-Za-z0-9_-]+={0,2}$';

const SubscriptionBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 12, maxLength: 2048, pattern: '^https://', description: "the push service's URL for this browser" }),
    keys: Type.Object(
      {
        p256dh: Type.String({ minLength: 80, maxLength: 100, pattern: B64URL, description: "the browser's P-256 public key" }),
        auth: Type.String({ minLength: 16, maxLength: 32, pattern: B64URL, description: 'the 16-byte auth secret' }),
      },
      { additionalProperties: false },
    ),
    /** What `PushSubscription.toJSON()` also carries; not used. */
    expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  },
  { additionalProperties: false },
);

export const SubscriptionCreated = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const PushKey = Type.Object({ publicKey: Type.String({ description: 'uncompressed P-256 point, base64url' }) });

/** The endpoint must be an https URL that parses, and the keys a P-256 point and a 16-byte secret. */
function validate(s: StoredSubscription): void {
  let url: URL;
  try {
    url = new URL(s.endpoint);
  } catch {
    throw unprocessable('endpoint is not a URL');
  }
  if (url.protocol !== 'https:' || url.username || url.password) throw unprocessable('endpoint must be an https URL');
  const p256dh = Buffer.from(s.keys.p256dh, 'base64url');
  if (p256dh.length !== 65 || p256dh[0] !== 0x04) throw unprocessable('keys.p256dh must be an uncompressed P-256 point');
  if (Buffer.from(s.keys.auth, 'base64url').length !== 16) throw unprocessable('keys.auth must be 16 bytes');
}

export const pushRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['host'];
  const config = { permission: 'host:portal' as const };

  app.get(
    '/push/key',
    {
      config,
      schema: {
        tags,
        summary: "The cloud's VAPID public key (PushManager.subscribe's applicationServerKey)",
        response: { 200: PushKey },
      },
    },
    async () => ({ publicKey: vapidKeys(ctx.config.masterKey).publicKey }),
  );

  app.post(
    '/push/subscriptions',
    {
      config: { ...config, errors: { 422: 'the endpoint is not an https URL, or the keys are not a P-256 point and a 16-byte secret' } },
      schema: {
        tags,
        summary: "Register this browser's push subscription (the same endpoint again replaces it)",
        body: SubscriptionBody,
        response: { 201: SubscriptionCreated },
      },
    },
    async (req, reply) => {
      const p = req.principal!;
      const sub: StoredSubscription = { endpoint: req.body.endpoint, keys: { p256dh: req.body.keys.p256dh, auth: req.body.keys.auth } };
      validate(sub);
      const id = uuidv7();
      await ctx.db.transaction(async (tx) => {
        // One row per endpoint: a browser subscribing again (or another user signing in on it) replaces the old row,
        // so a shared browser never keeps notifying the previous user.
        await tx
          .delete(pushSubscriptions)
          .where(inArray(pushSubscriptions.endpointHash, ctx.sealer.lookupHashes(sub.endpoint, ENDPOINT_LOOKUP)));
        await tx.insert(pushSubscriptions).values({
          id,
          orgId: p.orgId,
          userId: p.userId,
          endpointHash: ctx.sealer.lookupHash(sub.endpoint, ENDPOINT_LOOKUP),
          subscriptionEnc: ctx.sealer.seal(JSON.stringify(sub), subscriptionAad(id)),
        });
        // The push service's host only (which browser vendor), never the endpoint.
        await writeAudit(tx, actorOf(req), {
          action: 'host.push_subscribed',
          entityType: 'push_subscription',
          entityId: id,
          data: { service: new URL(sub.endpoint).host },
        });
      });
      return reply.code(201).send({ id });
    },
  );

  app.delete(
    '/push/subscriptions/:id',
    { config, schema: { tags, summary: 'Remove one of my push subscriptions', params: IdParams } },
    async (req, reply) => {
      const p = req.principal!;
      const gone = await ctx.db.transaction(async (tx) => {
        const rows = await tx
          .delete(pushSubscriptions)
          .where(and(eq(pushSubscriptions.orgId, p.orgId), eq(pushSubscriptions.userId, p.userId), eq(pushSubscriptions.id, req.params.id)))
          .returning({ id: pushSubscriptions.id });
        if (rows.length > 0)
          await writeAudit(tx, actorOf(req), {
            action: 'host.push_unsubscribed',
            entityType: 'push_subscription',
            entityId: req.params.id,
          });
        return rows.length > 0;
      });
      if (!gone) throw notFound('push subscription');
      return reply.code(204).send();
    },
  );
};
