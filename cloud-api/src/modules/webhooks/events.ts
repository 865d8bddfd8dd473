/**
 * The webhook event catalogue (CONTRACT: webhook events). `data` carries ids,
 * states and times, never personal data (no names, e-mails, phones, free
 * text an admin typed): a receiver that needs more fetches it with an API
 * key, so what it may read stays governed by the key's scopes.
 */

export const EVENT_TYPES = [
  'appointment.created',
  'appointment.updated',
  'visitpass.issued',
  'visitpass.revoked',
  'visitpass.checked_in',
  'alarm.raised',
  'alarm.acknowledged',
  'alarm.cleared',
  'gate.status_changed',
  'site.mode_changed',
  'update.completed',
  'update.gate_changed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Sent by POST /webhooks/:id/test only; no endpoint subscribes to it. */
export const TEST_EVENT = 'webhook.test';

export const isEventType = (t: string): t is EventType => (EVENT_TYPES as readonly string[]).includes(t);

const EXAMPLE_TIME = '2026-12-07T10:00:00.000Z';

export interface CatalogueEntry {
  type: EventType;
  description: string;
  example: { type: EventType; timestamp: string; data: Record<string, unknown> };
}

const entry = (type: EventType, description: string, data: Record<string, unknown>): CatalogueEntry => ({
  type,
  description,
  example: { type, timestamp: EXAMPLE_TIME, data },
});

/** The data every alarm event carries (alarms/service.ts `alarmEventData`), as the alarm stands after the change. */
const ALARM_EXAMPLE = {
  id: '01938a2e-7c1a-7b8e-9f00-000000000009',
  kind: 'forced',
  severity: 'high',
  status: 'raised',
  siteId: '01938a2e-7c1a-7b8e-9f00-000000000003',
  gateId: '01938a2e-7c1a-7b8e-9f00-000000000008',
  reader: 'door-1',
  checkinId: '01938a2e-7c1a-7b8e-9f00-00000000000b',
  occurredAt: EXAMPLE_TIME,
  raisedAt: EXAMPLE_TIME,
  conditionClearedAt: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  clearedAt: null,
  clearedBy: null,
};

export const CATALOGUE: CatalogueEntry[] = [
  entry('appointment.created', 'An appointment was booked (console, host portal or API).', {
    id: '01938a2e-7c1a-7b8e-9f00-000000000001',
    hostId: '01938a2e-7c1a-7b8e-9f00-000000000002',
    siteId: '01938a2e-7c1a-7b8e-9f00-000000000003',
    visitorIds: ['01938a2e-7c1a-7b8e-9f00-000000000004'],
    startsAt: EXAMPLE_TIME,
    endsAt: '2026-12-07T11:30:00.000Z',
    status: 'scheduled',
    invite: false,
  }),
  entry('appointment.updated', 'An appointment changed: its time, place, host, visitors or status (a cancellation is status cancelled).', {
    id: '01938a2e-7c1a-7b8e-9f00-000000000001',
    hostId: '01938a2e-7c1a-7b8e-9f00-000000000002',
    siteId: '01938a2e-7c1a-7b8e-9f00-000000000003',
    visitorIds: ['01938a2e-7c1a-7b8e-9f00-000000000004'],
    startsAt: EXAMPLE_TIME,
    endsAt: '2026-12-07T11:30:00.000Z',
    status: 'cancelled',
    invite: true,
  }),
  entry('visitpass.issued', 'A visit pass was issued (directly, or by an invitation).', {
    id: '01938a2e-7c1a-7b8e-9f00-000000000005',
    visitorId: '01938a2e-7c1a-7b8e-9f00-000000000004',
    appointmentId: '01938a2e-7c1a-7b8e-9f00-000000000001',
    accessRuleId: '01938a2e-7c1a-7b8e-9f00-000000000006',
    type: 'single',
    status: 'active',
    validFrom: EXAMPLE_TIME,
    validTo: '2026-12-07T11:30:00.000Z',
  }),
  entry('visitpass.revoked', 'A visit pass was revoked (by an admin, or because its appointment was cancelled or changed).', {
    id: '01938a2e-7c1a-7b8e-9f00-000000000005',
    visitorId: '01938a2e-7c1a-7b8e-9f00-000000000004',
    appointmentId: '01938a2e-7c1a-7b8e-9f00-000000000001',
    status: 'revoked',
    revokedAt: EXAMPLE_TIME,
  }),
  entry('visitpass.checked_in', 'A gate let a pass through (an allowed check-in with a pass), as the gate reported it.', {
    checkinId: '01938a2e-7c1a-7b8e-9f00-000000000007',
    passId: '01938a2e-7c1a-7b8e-9f00-000000000005',
    gateId: '01938a2e-7c1a-7b8e-9f00-000000000008',
    siteId: '01938a2e-7c1a-7b8e-9f00-000000000003',
    type: 'attempt',
    direction: 'in',
    credentialKind: 'dynamic',
    occurredAt: EXAMPLE_TIME,
  }),
  entry(
    'alarm.raised',
    'An alarm was raised: a passage the gate did not unlock (forced), a door held open, a reader tampered with, without power or offline, a controller offline or its outbox of unsent records growing (outbox_growing), or an entry a soft anti-passback rule let through (passback). `id` is the alarm (GET /api/admin/alarms/{id}); `checkinId` the event that raised it, null for controller_offline and outbox_growing.',
    ALARM_EXAMPLE,
  ),
  entry('alarm.acknowledged', 'A guard acknowledged an alarm (the note stays in the console and the audit log).', {
    ...ALARM_EXAMPLE,
    status: 'acknowledged',
    acknowledgedAt: '2026-12-07T10:01:30.000Z',
    acknowledgedBy: '01938a2e-7c1a-7b8e-9f00-00000000000c',
  }),
  entry('alarm.cleared', 'A guard cleared an alarm with a note (the note stays in the console and the audit log).', {
    ...ALARM_EXAMPLE,
    status: 'cleared',
    conditionClearedAt: '2026-12-07T10:02:00.000Z',
    acknowledgedAt: '2026-12-07T10:01:30.000Z',
    acknowledgedBy: '01938a2e-7c1a-7b8e-9f00-00000000000c',
    clearedAt: '2026-12-07T10:05:00.000Z',
    clearedBy: '01938a2e-7c1a-7b8e-9f00-00000000000c',
  }),
  entry('gate.status_changed', 'A gate went online or offline, or was locked down or released.', {
    gateId: '01938a2e-7c1a-7b8e-9f00-000000000008',
    siteId: '01938a2e-7c1a-7b8e-9f00-000000000003',
    zoneId: '01938a2e-7c1a-7b8e-9f00-00000000000a',
    online: true,
    lockdown: false,
    changedAt: EXAMPLE_TIME,
  }),
  entry(
    'site.mode_changed',
    'A site was locked down (every gate denies), released for evacuation (every gate held open) or set back to normal. Each gate whose lockdown flipped also raises gate.status_changed.',
    {
      siteId: '01938a2e-7c1a-7b8e-9f00-000000000003',
      mode: 'emergency',
      previousMode: 'normal',
      gateIds: ['01938a2e-7c1a-7b8e-9f00-000000000008'],
      changedBy: '01938a2e-7c1a-7b8e-9f00-00000000000c',
      changedAt: EXAMPLE_TIME,
    },
  ),
  entry(
    'update.completed',
    'A controller software rollout finished: every gate settled (`done`), halted because a canary gate failed or more gates failed than the job tolerates (`halted`, with the reason; gates not started stay on their version), or cancelled by an admin. `jobId` is the job (GET /api/admin/updates/jobs/{id}).',
    {
      jobId: '01938a2e-7c1a-7b8e-9f00-00000000000d',
      releaseId: '01938a2e-7c1a-7b8e-9f00-00000000000e',
      version: '0.2.0',
      outcome: 'halted',
      reason: 'canary gate 01938a2e-7c1a-7b8e-9f00-000000000008 rolled back: health check failed',
      gates: 12,
      done: 0,
      failed: 0,
      rolledBack: 1,
      skipped: 0,
      cancelled: 0,
      pending: 11,
      completedAt: EXAMPLE_TIME,
    },
  ),
  entry(
    'update.gate_changed',
    'A gate moved on in a rollout: the update command was sent, its controller reported downloading, verifying, installing, restarting, checking_health, done, failed or rolled_back, or the cloud skipped it (never reached) or failed it (went silent).',
    {
      jobId: '01938a2e-7c1a-7b8e-9f00-00000000000d',
      gateId: '01938a2e-7c1a-7b8e-9f00-000000000008',
      siteId: '01938a2e-7c1a-7b8e-9f00-000000000003',
      canary: true,
      state: 'checking_health',
      detail: null,
      version: '0.2.0',
      changedAt: EXAMPLE_TIME,
    },
  ),
];

/** The `gate.status_changed` data of a gate row as it is after the change. */
export const gateStatusData = (g: { id: string; siteId: string; zoneId: string; online: boolean; lockdown: boolean }, at = new Date()) => ({
  gateId: g.id,
  siteId: g.siteId,
  zoneId: g.zoneId,
  online: g.online,
  lockdown: g.lockdown,
  changedAt: at.toISOString(),
});
