/**
 * Tables of the Update Manager (issue 16, migration 0017), exported through db/schema.ts.
 *
 * Releases (`update_packages`) belong to the installation, not to an organisation: a platform operator
 * publishes the project's signed edge release once and every organisation may roll it out. So they carry
 * no org_id (the publisher's organisation is kept for the audit trail); everything a rollout writes does.
 */
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const RELEASE_STATUSES = ['incomplete', 'ready'] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

export const updatePackages = pgTable(
  'update_packages',
  {
    id: uuid('id').primaryKey(),
    version: text('version').notNull(),
    serial: bigint('serial', { mode: 'number' }).notNull(),
    channel: text('channel', { enum: ['stable', 'beta'] }).notNull(),
    kid: text('kid').notNull(),
    /** The signed release.json exactly as published ({kid, payload, sig}): what controllers download and verify. */
    signed: jsonb('signed').$type<{ kid: string; payload: string; sig: string }>().notNull(),
    /** The manifest read from the signed bytes (kept parsed for queries). */
    manifest: jsonb('manifest').$type<Record<string, unknown>>().notNull(),
    notes: text('notes'),
    /** incomplete until every file of the manifest was uploaded and matched its SHA-256. */
    status: text('status', { enum: RELEASE_STATUSES }).notNull().default('incomplete'),
    totalBytes: bigint('total_bytes', { mode: 'number' }).notNull(),
    expiresAt: ts('expires_at').notNull(),
    publishedAt: ts('published_at'),
    publisherOrgId: uuid('publisher_org_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    createdBy: uuid('created_by'),
    updatedBy: uuid('updated_by'),
  },
  (t) => [uniqueIndex('update_packages_serial_uq').on(t.serial), uniqueIndex('update_packages_version_uq').on(t.version)],
);

export const updatePackageFiles = pgTable(
  'update_package_files',
  {
    packageId: uuid('package_id').notNull(),
    /** The file's index in the manifest (the same path may be listed once per platform). */
    idx: integer('idx').notNull(),
    path: text('path').notNull(),
    platform: text('platform', { enum: ['linux-x64', 'linux-arm64'] }),
    sha256: text('sha256').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    uploadedAt: ts('uploaded_at'),
  },
  (t) => [
    primaryKey({ name: 'update_package_files_pk', columns: [t.packageId, t.idx] }),
    index('update_package_files_path_idx').on(t.packageId, t.path),
  ],
);

export const UPDATE_JOB_STATES = ['scheduled', 'running', 'paused', 'halted', 'done', 'cancelled'] as const;
export type UpdateJobState = (typeof UPDATE_JOB_STATES)[number];

/** What the edge reports (protocol UpdateGateState) plus the cloud's own states of a gate in a rollout. */
export const UPDATE_GATE_STATES = [
  'pending',
  'downloading',
  'verifying',
  'installing',
  'restarting',
  'checking_health',
  'done',
  'failed',
  'rolled_back',
  'skipped',
  'cancelled',
  'postponed',
] as const;
export type UpdateGateStateName = (typeof UPDATE_GATE_STATES)[number];

export interface UpdateScope {
  /** 'fleet': every gate of the organisation; else the gates of these sites. */
  fleet: boolean;
  siteIds: string[];
}

export interface UpdateStrategy {
  /** Named canary gates; or `canaryPercent` of the gates in scope (at least one when above 0). */
  canaryGateIds: string[];
  canaryPercent: number;
  /** Gates per batch after the canaries: a count, or a percentage of the non-canary gates. */
  batchSize: number | null;
  batchPercent: number | null;
  /** The edge's health window after the restart (seconds), sent in the command. */
  healthWindowS: number;
  /** Failed or rolled-back gates (outside the canaries) tolerated before the rollout halts. */
  failureThreshold: number;
  /** How long an offline gate's command stays deliverable; a gate not reached by then is skipped. */
  deliveryTtlS: number;
  /** Download and install budget after the first report; with the health window and a margin, the report deadline. */
  installTimeoutS: number;
}

export const updateJobs = pgTable(
  'update_jobs',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    packageId: uuid('package_id').notNull(),
    scope: jsonb('scope').$type<UpdateScope>().notNull(),
    strategy: jsonb('strategy').$type<UpdateStrategy>().notNull(),
    allowDowngrade: boolean('allow_downgrade').notNull().default(false),
    state: text('state', { enum: UPDATE_JOB_STATES }).notNull(),
    stage: text('stage', { enum: ['canary', 'batches'] })
      .notNull()
      .default('canary'),
    startAt: ts('start_at').notNull(),
    haltedReason: text('halted_reason'),
    finishedAt: ts('finished_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    createdBy: uuid('created_by'),
    updatedBy: uuid('updated_by'),
  },
  (t) => [index('update_jobs_org_idx').on(t.orgId, t.id)],
);

export const updateJobGates = pgTable(
  'update_job_gates',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    jobId: uuid('job_id').notNull(),
    gateId: uuid('gate_id').notNull(),
    siteId: uuid('site_id').notNull(),
    canary: boolean('canary').notNull().default(false),
    /** 0 for the canaries, then 1, 2, … in rollout order. */
    batch: integer('batch').notNull().default(0),
    state: text('state', { enum: UPDATE_GATE_STATES }).notNull().default('pending'),
    detail: text('detail'),
    fromVersion: text('from_version'),
    /** The `update` command sent to it (gate_commands.id); null until dispatched. */
    commandId: uuid('command_id'),
    dispatchedAt: ts('dispatched_at'),
    /** Past this without the next report the gate is skipped (never reached) or failed (went silent). */
    deadlineAt: ts('deadline_at'),
    reportedAt: ts('reported_at'),
    /** The edge's `update.ts` of the last report taken: a repeated status is not taken twice. */
    reportTs: bigint('report_ts', { mode: 'number' }),
    postponedUntil: ts('postponed_until'),
    finishedAt: ts('finished_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('update_job_gates_uq').on(t.jobId, t.gateId), index('update_job_gates_gate_idx').on(t.orgId, t.gateId)],
);

export const updateLogs = pgTable(
  'update_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orgId: uuid('org_id').notNull(),
    jobId: uuid('job_id').notNull(),
    /** null: a line of the rollout itself; else a line of (or about) that gate. */
    gateId: uuid('gate_id'),
    level: text('level', { enum: ['info', 'warn', 'error'] })
      .notNull()
      .default('info'),
    message: text('message').notNull(),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [index('update_logs_job_idx').on(t.orgId, t.jobId, t.id)],
);

/** A release newer than what an organisation's gates run, found by the nightly check (never rolled out by itself). */
export const updateNotices = pgTable(
  'update_notices',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    packageId: uuid('package_id').notNull(),
    /** The oldest version its gates ran when the notice was written. */
    runningVersion: text('running_version'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('update_notices_uq').on(t.orgId, t.packageId)],
);
