/**
 * Tables of the edge sync (DESIGN "MQTT contract"). Exported through
 * db/schema.ts so drizzle-kit sees them.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * The per-site change log. Writers only insert (no counter row to fight
 * over); `xid` is the writing transaction's id. The sequencer later stamps
 * the dense per-site `seq` the edges see on committed rows, batch after batch
 * under one lock, so a row that commits late gets a later seq and can never
 * appear behind an edge's cursor after the fact.
 */
export const syncChanges = pgTable(
  'sync_changes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    xid: bigint('xid', { mode: 'number' }).notNull().default(sql`(pg_current_xact_id()::text)::bigint`),
    orgId: uuid('org_id').notNull(),
    siteId: uuid('site_id').notNull(),
    entity: text('entity', { enum: ['pass', 'rule', 'zone', 'gate', 'site', 'holiday', 'presence'] }).notNull(),
    entityId: uuid('entity_id').notNull(),
    seq: bigint('seq', { mode: 'number' }),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('sync_changes_site_seq_idx').on(t.siteId, t.seq),
    index('sync_changes_unstamped_idx').on(t.siteId, t.xid, t.id).where(sql`${t.seq} is null`),
  ],
);

/** Commands to gates; `seq` orders them per device (SPEC SIGN-4). */
export const gateCommands = pgTable(
  'gate_commands',
  {
    id: uuid('id').primaryKey(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    orgId: uuid('org_id').notNull(),
    gateId: uuid('gate_id').notNull(),
    type: text('type', { enum: ['open', 'lockdown', 'release', 'resync', 'emergency', 'osdp_keyset', 'update'] }).notNull(),
    reason: text('reason'),
    status: text('status', { enum: ['sent', 'queued'] }).notNull(),
    expiresAt: ts('expires_at').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    createdBy: uuid('created_by'),
    updatedBy: uuid('updated_by'),
  },
  (t) => [index('gate_commands_gate_idx').on(t.orgId, t.gateId, t.seq)],
);
