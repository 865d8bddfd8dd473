/**
 * The developer console's API (/api/devconsole) as the console calls it. The
 * shapes are the server's route schemas (through lib/types.ts); only the lists
 * the forms offer live here.
 */
import { PERMISSIONS, type Permission } from '@gatehouse/cloud-api/rbac';

export interface App {
  id: string;
  name: string;
  description: string | null;
  sandbox: boolean;
  actsInOrgId: string;
  createdAt: string;
}
export type KeyStatus = 'active' | 'expiring' | 'expired' | 'revoked';
export interface ApiKey {
  id: string;
  prefix: string;
  scopes: Permission[];
  rateLimitPerMinute: number | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  status: KeyStatus;
}
export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  scopes: Permission[];
  rateLimitPerMinute: number | null;
  createdAt: string;
}
export type WebhookStatus = 'active' | 'disabled';
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  status: WebhookStatus;
  createdAt: string;
}
export interface CreatedWebhook extends Webhook {
  secret: string;
}
export interface EventInfo {
  type: string;
  description: string;
  example: unknown;
}
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';
export interface Delivery {
  id: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  responseCode: number | null;
  durationMs: number | null;
  error: string | null;
  createdAt: string;
  deliveredAt: string | null;
}
export interface DeliveryDetail extends Delivery {
  payload: unknown;
}
export interface Usage {
  days: Array<{ day: string; calls: number; errors: number }>;
  webhooks: { delivered: number; failed: number; dead: number; pending: number; successRate: number | null };
}

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
export const SCOPES: readonly Permission[] = PERMISSIONS.filter((p) => p !== 'devconsole:manage' && p !== 'host:portal');

/** Scopes by area ('passes:issue' → 'passes'), in the permission table's order. */
export function scopeAreas(): Array<{ area: string; scopes: Permission[] }> {
  const out: Array<{ area: string; scopes: Permission[] }> = [];
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
