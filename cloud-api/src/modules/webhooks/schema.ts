import { Nullable } from '@gatehouse/protocol';
import Type, { type Static } from 'typebox';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_ENDPOINT_STATUSES } from '../../db/schema.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';
import { EVENT_TYPES, TEST_EVENT } from './events.js';

export const EventTypeSchema = Type.Enum(EVENT_TYPES, {
  description: 'A webhook event type (GET /api/devconsole/events lists them with examples)',
});

const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  description:
    'https URL the events are POSTed to; it must resolve to public addresses only (loopback, private, link-local… are refused unless the operator set WEBHOOK_ALLOW_PRIVATE_URLS=1, which also allows http)',
});
const Events = Type.Array(EventTypeSchema, { minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true });
const Description = Type.String({ maxLength: 500 });

export const AppParams = Type.Object({ id: Uuid({ description: 'the application' }) });
export const WebhookParams = Type.Object({ id: Uuid({ description: 'the webhook endpoint' }) });
export const DeliveryParams = Type.Object({ id: Uuid({ description: 'the webhook endpoint' }), deliveryId: Uuid() });

export const WebhookCreate = Type.Object(
  { url: Url, events: Events, description: Type.Optional(Nullable(Description)) },
  { additionalProperties: false },
);
export const WebhookPatch = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Nullable(Description)),
    enabled: Type.Optional(Type.Boolean({ description: 'false disables the endpoint; true enables it again and forgets its failures' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const WebhookItem = Type.Object({
  id: Uuid(),
  appId: Uuid(),
  url: Type.String(),
  events: Type.Array(EventTypeSchema),
  description: Nullable(Type.String()),
  status: Type.Enum(WEBHOOK_ENDPOINT_STATUSES),
  /** Set while every delivery since then has failed. */
  failingSince: Nullable(Timestamp({ description: 'every delivery since then has failed (null: the endpoint answers)' })),
  disabledAt: Nullable(Timestamp()),
  disabledReason: Nullable(Type.String()),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type WebhookItem = Static<typeof WebhookItem>;

const Secret = Type.String({
  pattern: '^whsec_[A-Za-z0-9+/]+=*$',
  description: 'the signing secret (Standard Webhooks format); shown only in this answer',
});
export const WebhookCreated = Type.Object({ ...WebhookItem.properties, secret: Secret });
export const WebhookSecret = Type.Object({ secret: Secret });
export const WebhookList = Type.Object({ items: Type.Array(WebhookItem) });

const DeliveryStatus = Type.Enum(WEBHOOK_DELIVERY_STATUSES);
export const DeliveryItem = Type.Object({
  id: Uuid(),
  webhookId: Type.String({ description: 'the webhook-id header: the same on every attempt and redelivery' }),
  event: Type.String({ description: `the event type (or ${TEST_EVENT})` }),
  status: DeliveryStatus,
  attempts: Type.Integer({ minimum: 0 }),
  responseCode: Nullable(Type.Integer()),
  durationMs: Nullable(Type.Integer({ minimum: 0 })),
  error: Nullable(Type.String()),
  createdAt: Timestamp(),
  deliveredAt: Nullable(Timestamp()),
});
export type DeliveryItem = Static<typeof DeliveryItem>;
export const DeliveryDetail = Type.Object({
  ...DeliveryItem.properties,
  payload: Type.Object(
    { type: Type.String(), timestamp: Timestamp(), data: Type.Record(Type.String(), Type.Unknown()) },
    { description: 'the body sent' },
  ),
});
export const DeliveryList = Type.Object({ ...PageQuery, status: Type.Optional(DeliveryStatus) });
export const DeliveryPage = Type.Object({ items: Type.Array(DeliveryItem), nextCursor: Nullable(Type.String()) });
export const TestSent = Type.Object({ deliveryId: Uuid() });

export const EventCatalogue = Type.Object({
  items: Type.Array(
    Type.Object({
      type: EventTypeSchema,
      description: Type.String(),
      example: Type.Object({ type: EventTypeSchema, timestamp: Timestamp(), data: Type.Record(Type.String(), Type.Unknown()) }),
    }),
  ),
});
