/**
 * The developer console's API (/api/devconsole) as the console calls it. The
 * shapes are the server's route schemas (through lib/types.ts); only the lists
 * the forms offer live here.
 */
import { PERMISSIONS } from '@gatehouse/cloud-api/rbac';
import type {
  ApiKey,
  App,
  AppBody,
  AppPatch,
  DeliveryDetail,
  DeliveryItem,
  EventCatalogue,
  KeyBody,
  NewKey,
  RotateBody,
  TestSent,
  Usage,
  WebhookCreate,
  WebhookCreated,
  WebhookItem,
  WebhookPatch,
  WebhookSecret,
} from '../../lib/types.ts';

export type {
  ApiKey,
  App,
  AppBody,
  AppPatch,
  DeliveryDetail,
  KeyBody,
  RotateBody,
  TestSent,
  Usage,
  WebhookCreate,
  WebhookCreated,
  WebhookPatch,
  WebhookSecret,
};
export type CreatedKey = NewKey;
export type Webhook = WebhookItem;
export type Delivery = DeliveryItem;
export type EventInfo = EventCatalogue['items'][number];
export type EventType = EventInfo['type'];
export type KeyStatus = ApiKey['status'];
export type WebhookStatus = Webhook['status'];
export type DeliveryStatus = Delivery['status'];
export type Scope = KeyBody['scopes'][number];

const BASE = '/api/devconsole';
export const DEV = {
  apps: `${BASE}/apps`,
  app: (id: string) => `${BASE}/apps/${id}`,
  keys: (app: string) => `${BASE}/apps/${app}/keys`,
  key: (app: string, key: string) => `${BASE}/apps/${app}/keys/${key}`,
  rotateKey: (app: string, key: string) => `${BASE}/apps/${app}/keys/${key}/rotate`,
  webhooks: (app: string) => `${BASE}/apps/${app}/webhooks`,
  webhook: (id: string) => `${BASE}/webhooks/${id}`,
  rotateSecret: (id: string) => `${BASE}/webhooks/${id}/rotate-secret`,
  test: (id: string) => `${BASE}/webhooks/${id}/test`,
  deliveries: (id: string) => `${BASE}/webhooks/${id}/deliveries`,
  delivery: (id: string, d: string) => `${BASE}/webhooks/${id}/deliveries/${d}`,
  redeliver: (id: string, d: string) => `${BASE}/webhooks/${id}/deliveries/${d}/redeliver`,
  usage: (app: string) => `${BASE}/apps/${app}/usage`,
  events: `${BASE}/events`,
} as const;

/** Each member of the union `T` once, in the record's order (a Record<T, …> literal must name them all and no other). */
const members = <T extends string>(all: Record<T, true>) => Object.keys(all) as T[];
export const DELIVERY_STATUSES = members<DeliveryStatus>({ pending: true, delivered: true, failed: true, dead: true });

/** What a key may be given: every permission but the console itself and the host portal (both are a person's). */
export const SCOPES = PERMISSIONS.filter((p): p is Scope => p !== 'devconsole:manage' && p !== 'host:portal');

/** Scopes by area ('passes:issue' → 'passes'), in the permission table's order. */
export function scopeAreas(): Array<{ area: string; scopes: Scope[] }> {
  const out: Array<{ area: string; scopes: Scope[] }> = [];
  for (const s of SCOPES) {
    const area = s.split(':')[0] ?? s;
    const last = out[out.length - 1];
    if (last?.area === area) last.scopes.push(s);
    else out.push({ area, scopes: [s] });
  }
  return out;
}

/** The OpenAPI tags the docs group routes by, for the links into /docs. */
export const DOC_GROUPS = ['sites', 'zones', 'gates', 'access-rules', 'visitors', 'appointments', 'passes', 'checkins', 'audit'] as const;
