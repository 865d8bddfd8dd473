/**
 * The cloud's tables (drizzle pg-core; the same schema runs on PostgreSQL and PGlite).
 *
 * Conventions: uuid ids (UUIDv7 made by the app, so keyset pagination by id is
 * also creation order); every row carries org_id, created/updated timestamptz
 * and the acting user; `deleted_at` marks a soft delete where history refers to
 * the row. Encrypted columns end in `_enc` and hold `Sealer` text.
 */
import type { AlarmKind, CheckinEvent, Reason } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

const audit = () => ({
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  createdBy: uuid('created_by'),
  updatedBy: uuid('updated_by'),
});

export const organizations = pgTable(
  'organizations',
  {
    id: uuid('id').primaryKey(),
    // An organisation is its own tenant; org_id = id keeps the "every row has org_id" rule uniform.
    orgId: uuid('org_id').notNull(),
    name: text('name').notNull(),
    signingKid: text('signing_kid').notNull(),
    signingPublicKey: text('signing_public_key').notNull(),
    signingKeyEnc: text('signing_key_enc').notNull(),
    /** Set on a developer sandbox: the organisation it belongs to (issue 13). */
    sandboxOf: uuid('sandbox_of'),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [uniqueIndex('organizations_name_uq').on(t.name)],
);

export const departments = pgTable(
  'departments',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    parentId: uuid('parent_id'),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [index('departments_org_idx').on(t.orgId, t.id)],
);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    /** Plaintext of rows written before migration 0010, cleared when sealed at start; new rows leave it null. */
    email: text('email'),
    fullName: text('full_name'),
    emailEnc: text('email_enc'),
    fullNameEnc: text('full_name_enc'),
    /** Keyed hash of the lower-cased e-mail (`Sealer.lookupHash`): how sign-in finds the account. */
    emailHash: text('email_hash'),
    /** Keyed hashes of each word of the name (personal-data.ts nameTokens): a host or user found by whole words. */
    nameTokens: text('name_tokens').array(),
    passwordHash: text('password_hash'),
    departmentId: uuid('department_id').references(() => departments.id),
    status: text('status', { enum: ['active', 'disabled'] })
      .notNull()
      .default('active'),
    /** The console's language for this user ('en' | 'ru'); null: the browser's. */
    language: text('language'),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    // An address names one live user per organisation: an admin of one org cannot learn it exists in another.
    uniqueIndex('users_org_email_hash_uq').on(t.orgId, t.emailHash).where(sql`${t.deletedAt} is null`),
    index('users_email_hash_idx').on(t.emailHash),
    index('users_org_idx').on(t.orgId, t.id),
    index('users_name_tokens_idx').using('gin', t.nameTokens),
  ],
);

export const userRoles = pgTable(
  'user_roles',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    role: text('role').notNull(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    ...audit(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.role] })],
);

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    refreshHash: text('refresh_hash').notNull(),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    /** Set when the refresh token was rotated; presenting a rotated token again revokes the whole family. */
    rotatedAt: ts('rotated_at'),
    familyId: uuid('family_id').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    ...audit(),
  },
  (t) => [uniqueIndex('sessions_refresh_uq').on(t.refreshHash), index('sessions_family_idx').on(t.familyId)],
);

export const hosts = pgTable(
  'hosts',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    departmentId: uuid('department_id').references(() => departments.id),
    position: text('position'),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [uniqueIndex('hosts_user_uq').on(t.userId), index('hosts_org_idx').on(t.orgId, t.id)],
);

export const visitors = pgTable(
  'visitors',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    /** Plaintext of rows written before migration 0010, cleared when sealed at start; new rows leave them null. */
    fullName: text('full_name'),
    email: text('email'),
    company: text('company'),
    fullNameEnc: text('full_name_enc'),
    emailEnc: text('email_enc'),
    companyEnc: text('company_enc'),
    phoneEnc: text('phone_enc'),
    documentNumberEnc: text('document_number_enc'),
    /** Issue 17: keyed hashes of the lower-cased e-mail and the phone's digits (personal-data.ts visitorLookupHash): exact search. */
    emailHash: text('email_hash'),
    phoneHash: text('phone_hash'),
    /** Keyed hashes of each word of the name (personal-data.ts visitorNameTokens): a name found by whole words. */
    nameTokens: text('name_tokens').array(),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    index('visitors_org_idx').on(t.orgId, t.id),
    index('visitors_name_tokens_idx').using('gin', t.nameTokens),
    index('visitors_email_hash_idx').on(t.orgId, t.emailHash),
    index('visitors_phone_hash_idx').on(t.orgId, t.phoneHash),
    // Only rows the start-up backfill (personal-data.ts sealPersonalData) still has to seal or hash: empty once done.
    index('visitors_unsealed_idx')
      .on(t.id)
      .where(
        sql`${t.fullName} is not null or ${t.email} is not null or ${t.company} is not null
            or (${t.emailEnc} is not null and ${t.emailHash} is null) or (${t.phoneEnc} is not null and ${t.phoneHash} is null)
            or (${t.fullNameEnc} is not null and ${t.nameTokens} is null)`,
      ),
  ],
);

export const sites = pgTable(
  'sites',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    timezone: text('timezone').notNull(),
    /** Street address, told to invited visitors. */
    address: text('address'),
    /** CMD-4: normal, every gate locked down, or every gate released for evacuation; with why, when and who. */
    mode: text('mode', { enum: ['normal', 'lockdown', 'emergency'] })
      .notNull()
      .default('normal'),
    modeReason: text('mode_reason'),
    modeChangedAt: ts('mode_changed_at'),
    modeChangedBy: uuid('mode_changed_by'),
    /** Issue 16: when controller updates may start here — ISO weekdays (empty: every day) and local times; null from: any time. */
    maintenanceDays: jsonb('maintenance_days').$type<number[]>(),
    maintenanceFrom: text('maintenance_from'),
    maintenanceTo: text('maintenance_to'),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [index('sites_org_idx').on(t.orgId, t.id)],
);

export const zones = pgTable(
  'zones',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    name: text('name').notNull(),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [index('zones_org_idx').on(t.orgId, t.id), index('zones_site_idx').on(t.orgId, t.siteId, t.id)],
);

/** One hardware entry of a status (MSG-3), as the gates row keeps it. */
export interface GateHardware {
  name: string;
  type: string;
  healthy: boolean;
  detail?: string;
}

export const gates = pgTable(
  'gates',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    zoneId: uuid('zone_id')
      .notNull()
      .references(() => zones.id),
    name: text('name').notNull(),
    direction: text('direction', { enum: ['in', 'out', 'both'] }).notNull(),
    lockdown: boolean('lockdown').notNull().default(false),
    /** CMD-4: held open for evacuation until released. */
    emergency: boolean('emergency').notNull().default(false),
    /** Set by enrollment; the MQTT identity of the controller. */
    deviceId: text('device_id'),
    deviceSecretHash: text('device_secret_hash'),
    /** The controller's X25519 public key (SPEC SEAL-1): TOTP secrets are sealed to it. Null: enrolled without one, sent no secrets. */
    deviceSealKey: text('device_seal_key'),
    /** Set while an admin has disabled the gate: its controller is refused by the broker and the cloud. */
    disabledAt: ts('disabled_at'),
    online: boolean('online').notNull().default(false),
    lastSeenAt: ts('last_seen_at'),
    cacheSeq: bigint('cache_seq', { mode: 'number' }).notNull().default(0),
    outboxDepth: integer('outbox_depth').notNull().default(0),
    version: text('version'),
    /** SYNC-5: the controller's clock minus the cloud's (ms) from its last status that carried one. */
    clockSkewMs: integer('clock_skew_ms'),
    /** Fleet health: the reader/relay/sensor entries of its last status (at most 32, as the protocol bounds them). */
    hardware: jsonb('hardware').$type<GateHardware[]>(),
    /** REL-1: the serial of the release it runs, from its last status that named one (null: installed from a checkout). */
    releaseSerial: integer('release_serial'),
    /** The outbox watch (modules/fleet/outbox.ts): statuses in a row, while online, whose outbox grew without shrinking. */
    outboxRises: integer('outbox_rises').notNull().default(0),
    /** Since when its outbox has stayed at or above OUTBOX_ALARM_DEPTH while online. */
    outboxHighSince: ts('outbox_high_since'),
    /** When the cloud raised its outbox_growing condition; null while the outbox is not alarming. */
    outboxAlarmAt: ts('outbox_alarm_at'),
    /** Issue 16: the rollout it is in (or was last in), and its state there as the rollout engine keeps it. */
    updateJobId: uuid('update_job_id'),
    updateState: text('update_state'),
    updateReportedAt: ts('update_reported_at'),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    index('gates_org_idx').on(t.orgId, t.id),
    index('gates_site_idx').on(t.orgId, t.siteId, t.id),
    uniqueIndex('gates_device_uq').on(t.deviceId),
  ],
);

export const enrollmentCodes = pgTable(
  'enrollment_codes',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    gateId: uuid('gate_id')
      .notNull()
      .references(() => gates.id),
    codeHash: text('code_hash').notNull(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
    ...audit(),
  },
  (t) => [uniqueIndex('enrollment_codes_hash_uq').on(t.codeHash)],
);

export interface TimeWindowJson {
  from: string;
  to: string;
}

export const accessRules = pgTable(
  'access_rules',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    zoneIds: jsonb('zone_ids').$type<string[]>().notNull(),
    weekdays: jsonb('weekdays').$type<number[]>().notNull(),
    timeWindows: jsonb('time_windows').$type<TimeWindowJson[]>().notNull(),
    maxUses: integer('max_uses'),
    antiPassback: text('anti_passback', { enum: ['off', 'soft', 'hard'] })
      .notNull()
      .default('hard'),
    passbackMinutes: integer('passback_minutes'),
    escortRequired: boolean('escort_required').notNull().default(false),
    escortSeconds: integer('escort_seconds').notNull().default(30),
    holidays: text('holidays', { enum: ['observe', 'ignore'] })
      .notNull()
      .default('observe'),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [index('access_rules_org_idx').on(t.orgId, t.id)],
);

export const appointments = pgTable(
  'appointments',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id),
    startsAt: ts('starts_at').notNull(),
    endsAt: ts('ends_at').notNull(),
    room: text('room'),
    /** Where the visit happens (its address and time zone go into invitations); null: the site of the pass's rule. */
    siteId: uuid('site_id').references(() => sites.id),
    /** The visitors' language for invitations and the guest page ('en' | 'ru'); null: the organisation's default. */
    language: text('language'),
    /** Visitors were invited: changes, cancellation and reminders are sent to them too. */
    invite: boolean('invite').notNull().default(false),
    /** The pending reminder job (pg-boss id), cancelled and replaced when the time changes. */
    reminderJobId: text('reminder_job_id'),
    status: text('status', { enum: ['scheduled', 'cancelled', 'done'] })
      .notNull()
      .default('scheduled'),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [index('appointments_org_idx').on(t.orgId, t.id), index('appointments_host_idx').on(t.orgId, t.hostId, t.id)],
);

export const appointmentVisitors = pgTable(
  'appointment_visitors',
  {
    appointmentId: uuid('appointment_id')
      .notNull()
      .references(() => appointments.id),
    visitorId: uuid('visitor_id')
      .notNull()
      .references(() => visitors.id),
    orgId: uuid('org_id').notNull(),
    ...audit(),
  },
  (t) => [primaryKey({ columns: [t.appointmentId, t.visitorId] }), index('appointment_visitors_visitor_idx').on(t.visitorId)],
);

export const visitPasses = pgTable(
  'visit_passes',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    visitorId: uuid('visitor_id')
      .notNull()
      .references(() => visitors.id),
    appointmentId: uuid('appointment_id').references(() => appointments.id),
    accessRuleId: uuid('access_rule_id')
      .notNull()
      .references(() => accessRules.id),
    type: text('type', { enum: ['single', 'multi', 'group'] }).notNull(),
    status: text('status', { enum: ['draft', 'active', 'revoked', 'expired'] })
      .notNull()
      .default('active'),
    validFrom: ts('valid_from').notNull(),
    validTo: ts('valid_to').notNull(),
    maxUses: integer('max_uses'),
    totpSecretEnc: text('totp_secret_enc').notNull(),
    cardFormat: text('card_format', { enum: ['w26', 'w34', 'raw'] }),
    cardNumber: text('card_number'),
    /** DEC-15: this credential may escort visitors (a staff card, a host's pass). */
    escort: boolean('escort').notNull().default(false),
    revokedAt: ts('revoked_at'),
    revokedBy: uuid('revoked_by'),
    revokedReason: text('revoked_reason'),
    /** The invitation's language ('en' | 'ru'): the guest page and every message to this visitor use it. */
    language: text('language'),
    // The guest's journey, as the host portal shows it: invited → link opened → signed in → arrived → left.
    invitedAt: ts('invited_at'),
    linkOpenedAt: ts('link_opened_at'),
    signedInAt: ts('signed_in_at'),
    arrivedAt: ts('arrived_at'),
    leftAt: ts('left_at'),
    ...audit(),
  },
  (t) => [
    index('visit_passes_org_idx').on(t.orgId, t.id),
    index('visit_passes_appointment_idx').on(t.orgId, t.appointmentId),
    index('visit_passes_visitor_idx').on(t.orgId, t.visitorId, t.id),
    index('visit_passes_status_idx').on(t.orgId, t.status, t.id),
    // Issue 17: a search by card number (q) on a million passes.
    index('visit_passes_card_idx').on(t.orgId, t.cardNumber),
    // One live pass per card number in an org, so a card read names one pass.
    uniqueIndex('visit_passes_card_uq')
      .on(t.orgId, t.cardFormat, t.cardNumber)
      .where(sql`${t.cardNumber} is not null and ${t.status} in ('draft', 'active')`),
  ],
);

/**
 * Partitioned by UTC month of `occurred_at` (migration 0022, modules/checkins/partitions.ts), which
 * drizzle cannot say: the table is made and changed by hand-written migrations only.
 */
export const checkins = pgTable(
  'checkins',
  {
    /** UUIDv7 made on the edge: with `occurred_at`, the idempotency key (insert … on conflict (id, occurred_at) do nothing). */
    id: uuid('id').notNull(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    siteId: uuid('site_id').notNull(),
    gateId: uuid('gate_id').notNull(),
    passId: uuid('pass_id'),
    deviceId: text('device_id'),
    type: text('type').$type<CheckinEvent['type']>().notNull().default('attempt'),
    credentialKind: text('credential_kind').$type<CheckinEvent['credentialKind']>().notNull().default('none'),
    direction: text('direction', { enum: ['in', 'out'] }).notNull(),
    allow: boolean('allow').notNull(),
    reason: text('reason').$type<Reason>().notNull(),
    occurredAt: ts('occurred_at').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
    /** DEC-12: this event moved the pass (counted in presence and the muster). */
    counted: boolean('counted').notNull().default(false),
    alert: text('alert').$type<NonNullable<CheckinEvent['alert']>>(),
    /** ALARM-1: for `type = 'alarm'`. */
    alarmKind: text('alarm_kind').$type<AlarmKind>(),
    alarmState: text('alarm_state', { enum: ['raised', 'cleared'] }),
    alarmDetail: text('alarm_detail'),
    ...audit(),
  },
  (t) => [
    // A partitioned table's unique key must hold its partition key. Exactly once still holds: an edge
    // event is immutable, so a re-delivered one has the same id and the same occurred_at.
    primaryKey({ name: 'checkins_pkey', columns: [t.id, t.occurredAt] }),
    index('checkins_org_idx').on(t.orgId, t.id),
    index('checkins_gate_idx').on(t.orgId, t.gateId, t.id),
    index('checkins_pass_idx').on(t.orgId, t.passId, t.id),
    index('checkins_site_idx').on(t.orgId, t.siteId, t.id),
    // This and checkins_site_time_idx also hold `allow` (INCLUDE, migration 0025; drizzle cannot say so here):
    // the dashboard counts from the index alone.
    index('checkins_occurred_idx').on(t.orgId, t.occurredAt),
    // A gate's or a site's check-ins within a time range, in time order (migration 0023).
    index('checkins_gate_time_idx').on(t.orgId, t.gateId, t.occurredAt),
    index('checkins_site_time_idx').on(t.orgId, t.siteId, t.occurredAt),
    // Issue 17: the refused ones (result=deny, ~1 in 10) newest first without walking every allowed row.
    index('checkins_denied_idx').on(t.orgId, t.id).where(sql`not ${t.allow}`),
    // A gate's refused ones within a time range, in time order (migration 0024).
    index('checkins_denied_gate_time_idx').on(t.orgId, t.gateId, t.occurredAt).where(sql`not ${t.allow}`),
  ],
);

/** DEC-14: one day of a site's holiday calendar (local date), synced to the site's edges (SYNC-4). */
export const siteHolidays = pgTable(
  'site_holidays',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    /** "YYYY-MM-DD" in the site's time zone. */
    date: text('date').notNull(),
    kind: text('kind', { enum: ['closed', 'special'] }).notNull(),
    name: text('name').notNull(),
    windows: jsonb('windows').$type<TimeWindowJson[]>().notNull().default([]),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    uniqueIndex('site_holidays_day_uq').on(t.siteId, t.date).where(sql`${t.deletedAt} is null`),
    index('site_holidays_org_idx').on(t.orgId, t.siteId, t.date),
  ],
);

/**
 * SYNC-3: a pass's state across every gate of a site, from the `counted` check-ins: what site-wide
 * anti-passback sends to the edges and what the muster lists (`lastDirection = 'in'`).
 */
export const passPresence = pgTable(
  'pass_presence',
  {
    siteId: uuid('site_id').notNull(),
    passId: uuid('pass_id').notNull(),
    orgId: uuid('org_id').notNull(),
    useCount: integer('use_count').notNull().default(0),
    /** People inside on this pass: 0/1, or up to the group's size for a group pass (DEC-16). */
    insideCount: integer('inside_count').notNull().default(0),
    lastDirection: text('last_direction', { enum: ['in', 'out'] }),
    lastAt: ts('last_at'),
    lastGateId: uuid('last_gate_id'),
    lastZoneId: uuid('last_zone_id'),
    lastCheckinId: uuid('last_checkin_id'),
    forgivenAt: ts('forgiven_at'),
    forgivenBy: uuid('forgiven_by'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'pass_presence_pk', columns: [t.siteId, t.passId] }),
    index('pass_presence_inside_idx').on(t.orgId, t.siteId).where(sql`${t.lastDirection} = 'in'`),
    index('pass_presence_pass_idx').on(t.orgId, t.passId),
  ],
);

/** ALARM-1: a door, reader or controller condition a guard acknowledges and clears, with notes. */
export const alarms = pgTable(
  'alarms',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    siteId: uuid('site_id').notNull(),
    gateId: uuid('gate_id'),
    kind: text('kind').$type<AlarmKind | 'passback' | 'outbox_growing'>().notNull(),
    reader: text('reader'),
    detail: text('detail'),
    /** The check-in event that raised it: raising is idempotent under redelivery. */
    sourceEventId: uuid('source_event_id'),
    status: text('status', { enum: ['raised', 'acknowledged', 'cleared'] })
      .notNull()
      .default('raised'),
    raisedAt: ts('raised_at').notNull(),
    /** When the edge (or the cloud) said the condition was gone; a guard still clears the alarm. */
    conditionClearedAt: ts('condition_cleared_at'),
    acknowledgedAt: ts('acknowledged_at'),
    acknowledgedBy: uuid('acknowledged_by'),
    acknowledgeNote: text('acknowledge_note'),
    clearedAt: ts('cleared_at'),
    clearedBy: uuid('cleared_by'),
    clearNote: text('clear_note'),
    ...audit(),
  },
  (t) => [
    uniqueIndex('alarms_source_event_uq').on(t.sourceEventId),
    index('alarms_org_status_idx').on(t.orgId, t.status, t.raisedAt),
    index('alarms_open_condition_idx').on(t.gateId, t.kind, t.reader).where(sql`${t.status} <> 'cleared'`),
  ],
);

/** An OSDP reader's Secure Channel base key (SCBK), sealed with the master key; set on the reader by KEYSET. */
export const osdpReaderKeys = pgTable(
  'osdp_reader_keys',
  {
    gateId: uuid('gate_id')
      .notNull()
      .references(() => gates.id),
    reader: text('reader').notNull(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    scbkEnc: text('scbk_enc').notNull(),
    status: text('status', { enum: ['pending', 'active', 'failed'] })
      .notNull()
      .default('pending'),
    ...audit(),
  },
  (t) => [primaryKey({ name: 'osdp_reader_keys_pk', columns: [t.gateId, t.reader] })],
);

export const auditLogs = pgTable(
  'audit_logs',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    actorId: uuid('actor_id'),
    /** Set when an application's API key acted: then actor_id is null and this names the application. */
    actorAppId: uuid('actor_app_id'),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    data: jsonb('data').$type<Record<string, unknown>>(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    createdBy: uuid('created_by'),
    updatedBy: uuid('updated_by'),
  },
  (t) => [
    index('audit_logs_org_idx').on(t.orgId, t.id),
    index('audit_logs_entity_idx').on(t.orgId, t.entityType, t.entityId),
    index('audit_logs_actor_idx').on(t.orgId, t.actorId, t.id),
    // An object's history by its id alone, and what an application did (q = an id; migration 0029).
    index('audit_logs_entity_id_idx').on(t.orgId, t.entityId, t.id),
    index('audit_logs_app_idx').on(t.orgId, t.actorAppId, t.id),
  ],
);

/**
 * Sign-in attempt counters shared by every instance (auth/rate-limit.ts): keys are
 * keyed hashes, never an e-mail or address in clear; rows past `expiresAt` are stale.
 */
export const loginThrottle = pgTable(
  'login_throttle',
  {
    key: text('key').primaryKey(),
    hits: integer('hits').notNull(),
    blockedUntil: ts('blocked_until'),
    expiresAt: ts('expires_at').notNull(),
    /** Whether the attempt that last touched the row was refused (what the counting statement returns). */
    lastRefused: boolean('last_refused').notNull().default(false),
  },
  (t) => [index('login_throttle_expires_idx').on(t.expiresAt)],
);

/** Request counters of every cloud instance, per key and fixed window (auth/rate-limit-store.ts); UNLOGGED in its migration. */
export const rateLimitCounters = pgTable(
  'rate_limit_counters',
  {
    key: text('key').notNull(),
    /** The window's start, in ms since the epoch, by the database's clock (one clock for every instance). */
    windowStart: bigint('window_start', { mode: 'number' }).notNull(),
    count: integer('count').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'rate_limit_counters_pk', columns: [t.key, t.windowStart] }),
    index('rate_limit_counters_expires_idx').on(t.expiresAt),
  ],
);

export const LANGUAGES = ['en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];
export const CHANNELS = ['email', 'telegram', 'webpush', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];
export const NOTIFICATION_STATUSES = ['queued', 'sent', 'failed', 'dead'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** Per-organisation settings of the visitor journey: branding, languages, reminders, the Telegram bot. */
export const orgSettings = pgTable('org_settings', {
  orgId: uuid('org_id')
    .primaryKey()
    .references(() => organizations.id),
  logoUrl: text('logo_url'),
  brandColor: text('brand_color'),
  defaultLanguage: text('default_language').$type<Language>().notNull().default('en'),
  reminderLeadMinutes: integer('reminder_lead_minutes').notNull().default(120),
  /** Whether the guest page offers the signed static QR (printing is otherwise staff work). */
  guestStaticQr: boolean('guest_static_qr').notNull().default(false),
  /** The access rule of passes a Host issues from the host portal; null: hosts cannot invite until an admin picks one. */
  hostInviteRuleId: uuid('host_invite_rule_id').references(() => accessRules.id),
  telegramBotTokenEnc: text('telegram_bot_token_enc'),
  telegramBotUsername: text('telegram_bot_username'),
  ...audit(),
});

/**
 * The message log (seed 004's Notification): one row per message to one recipient on one channel.
 * The address and the template variables are sealed; the masked address is what lists show.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    channel: text('channel').$type<Channel>().notNull(),
    template: text('template').notNull(),
    language: text('language').$type<Language>().notNull(),
    recipientEnc: text('recipient_enc').notNull(),
    recipientMasked: text('recipient_masked').notNull(),
    /** Sealed JSON: the template variables and attachments. */
    payloadEnc: text('payload_enc').notNull(),
    userId: uuid('user_id'),
    passId: uuid('pass_id'),
    appointmentId: uuid('appointment_id'),
    status: text('status').$type<NotificationStatus>().notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    jobId: text('job_id'),
    sentAt: ts('sent_at'),
    ...audit(),
  },
  (t) => [
    index('notifications_org_idx').on(t.orgId, t.id),
    index('notifications_status_idx').on(t.orgId, t.status, t.id),
    index('notifications_pass_idx').on(t.orgId, t.passId),
  ],
);

/** An organisation's own wording of a message, per template key and language (defaults ship with the code). */
export const notificationTemplates = pgTable(
  'notification_templates',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    key: text('key').notNull(),
    language: text('language').$type<Language>().notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    ...audit(),
  },
  (t) => [uniqueIndex('notification_templates_uq').on(t.orgId, t.key, t.language)],
);

/** The one-time code a visitor proves their address with (one live code per pass). */
export const guestCodes = pgTable('guest_codes', {
  passId: uuid('pass_id')
    .primaryKey()
    .references(() => visitPasses.id),
  orgId: uuid('org_id').notNull(),
  codeHash: text('code_hash').notNull(),
  channel: text('channel').$type<Channel>().notNull(),
  sentToMasked: text('sent_to_masked').notNull(),
  attempts: integer('attempts').notNull().default(0),
  expiresAt: ts('expires_at').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** How a host wants to hear of their guests. */
export const hostPreferences = pgTable('host_preferences', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id),
  orgId: uuid('org_id').notNull(),
  channels: jsonb('channels').$type<Channel[]>().notNull().default(['email']),
  telegramChatIdEnc: text('telegram_chat_id_enc'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** One-time codes of Telegram deep links (`t.me/<bot>?start=<code>`), stored hashed. */
export const telegramLinkCodes = pgTable('telegram_link_codes', {
  codeHash: text('code_hash').primaryKey(),
  orgId: uuid('org_id').notNull(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** A host's browser Web Push subscriptions (sealed: the endpoint and keys are bearer secrets). */
export const pushSubscriptions = pgTable(
  'push_subscriptions',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    endpointHash: text('endpoint_hash').notNull(),
    subscriptionEnc: text('subscription_enc').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastError: text('last_error'),
  },
  (t) => [uniqueIndex('push_subscriptions_endpoint_uq').on(t.endpointHash), index('push_subscriptions_user_idx').on(t.orgId, t.userId)],
);

/**
 * Developer platform (issue 13). An application belongs to an organisation; a
 * sandbox application acts in its own sandbox organisation (`sandboxOrgId`,
 * an organisation whose `sandbox_of` is the owner), never on real doors.
 */
export const apiApplications = pgTable(
  'api_applications',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    description: text('description'),
    sandbox: boolean('sandbox').notNull().default(false),
    /** The organisation the application's keys act in: the owner's own, or its sandbox. */
    sandboxOrgId: uuid('sandbox_org_id').references(() => organizations.id),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [index('api_applications_org_idx').on(t.orgId, t.id)],
);

/**
 * API keys: only a SHA-256 of the key is stored (keys are 190-bit random, so a
 * slow hash adds nothing); `prefix` is the key's recognisable head shown in
 * lists. A rotated key keeps working until `expiresAt` (the grace period).
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    appId: uuid('app_id')
      .notNull()
      .references(() => apiApplications.id),
    keyHash: text('key_hash').notNull(),
    prefix: text('prefix').notNull(),
    scopes: jsonb('scopes').$type<string[]>().notNull(),
    rateLimitPerMinute: integer('rate_limit_per_minute'),
    expiresAt: ts('expires_at'),
    revokedAt: ts('revoked_at'),
    lastUsedAt: ts('last_used_at'),
    /** The key this one replaced by rotation. */
    rotatedFrom: uuid('rotated_from'),
    ...audit(),
  },
  (t) => [uniqueIndex('api_keys_hash_uq').on(t.keyHash), index('api_keys_app_idx').on(t.orgId, t.appId, t.id)],
);

export const WEBHOOK_ENDPOINT_STATUSES = ['active', 'disabled'] as const;
export type WebhookEndpointStatus = (typeof WEBHOOK_ENDPOINT_STATUSES)[number];

/** Where an application wants events sent; the signing secret (`whsec_…`) is sealed. */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    appId: uuid('app_id')
      .notNull()
      .references(() => apiApplications.id),
    /** The organisation whose events it receives (the application's own or its sandbox). */
    eventOrgId: uuid('event_org_id')
      .notNull()
      .references(() => organizations.id),
    url: text('url').notNull(),
    events: jsonb('events').$type<string[]>().notNull(),
    description: text('description'),
    secretEnc: text('secret_enc').notNull(),
    status: text('status').$type<WebhookEndpointStatus>().notNull().default('active'),
    disabledAt: ts('disabled_at'),
    disabledReason: text('disabled_reason'),
    /** Since when every delivery has failed (null while the endpoint answers). */
    failingSince: ts('failing_since'),
    ...audit(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [index('webhook_endpoints_app_idx').on(t.orgId, t.appId, t.id), index('webhook_endpoints_event_org_idx').on(t.eventOrgId)],
);

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'dead'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** One event to one endpoint (the Standard Webhooks `webhook-id` is `msg_` + id, the same on every redelivery). */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id),
    appId: uuid('app_id').notNull(),
    eventType: text('event_type').notNull(),
    /** The body sent: `{type, timestamp, data}`; data carries ids and states, no personal data. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status').$type<WebhookDeliveryStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    responseCode: integer('response_code'),
    durationMs: integer('duration_ms'),
    lastError: text('last_error'),
    jobId: text('job_id'),
    deliveredAt: ts('delivered_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('webhook_deliveries_endpoint_idx').on(t.orgId, t.endpointId, t.id),
    index('webhook_deliveries_app_idx').on(t.appId, t.createdAt),
  ],
);

/** Calls and errors per application per UTC day (flushed from memory every few seconds). */
export const apiUsage = pgTable(
  'api_usage',
  {
    appId: uuid('app_id')
      .notNull()
      .references(() => apiApplications.id),
    orgId: uuid('org_id').notNull(),
    day: text('day').notNull(),
    calls: bigint('calls', { mode: 'number' }).notNull().default(0),
    errors: bigint('errors', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.appId, t.day] })],
);

export * from '../modules/updates/tables.js';
export * from '../sync/schema.js';
