/**
 * Schema migrations, numbered by SQLite's `user_version`. Append only: a
 * shipped migration is never edited, because edges in the field already ran it.
 */
import type Database from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  // 1: cache, per-pass state, settings, outbox.
  `
  CREATE TABLE passes (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    rule_id TEXT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    max_uses INTEGER,
    totp_secret TEXT,
    card_format TEXT,
    card_number TEXT,
    card_key TEXT
  ) WITHOUT ROWID;
  CREATE INDEX passes_card_key ON passes(card_key) WHERE card_key IS NOT NULL;
  -- Kept apart from passes so a re-synced pass keeps its counts, and a static QR
  -- whose pass is not cached (issued while offline) still gets replay/passback state.
  CREATE TABLE pass_state (
    pass_id TEXT PRIMARY KEY,
    use_count INTEGER NOT NULL,
    last_direction TEXT,
    last_totp_step INTEGER
  ) WITHOUT ROWID;
  CREATE TABLE rules (id TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE zones (id TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE gates (id TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE sites (id TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    acked INTEGER NOT NULL DEFAULT 0
  );
  `,
  // 2: the pass state a decision implies rides on its outbox row, and a trigger
  // applies it. One INSERT is one implicit transaction: atomic like BEGIN/2
  // statements/COMMIT, but measured at p50 67 µs / p99 160 µs against 84 / 398.
  `
  ALTER TABLE outbox ADD COLUMN state_pass_id TEXT;
  ALTER TABLE outbox ADD COLUMN state_use_count INTEGER;
  ALTER TABLE outbox ADD COLUMN state_last_direction TEXT;
  ALTER TABLE outbox ADD COLUMN state_last_totp_step INTEGER;
  CREATE TRIGGER outbox_applies_pass_state AFTER INSERT ON outbox WHEN new.state_pass_id IS NOT NULL
  BEGIN
    INSERT INTO pass_state (pass_id, use_count, last_direction, last_totp_step)
    VALUES (new.state_pass_id, new.state_use_count, new.state_last_direction, new.state_last_totp_step)
    ON CONFLICT (pass_id) DO UPDATE SET use_count = excluded.use_count, last_direction = excluded.last_direction,
      last_totp_step = excluded.last_totp_step;
  END;
  `,
  // 3: the time of the last passage (timed anti-passback, merging the cloud's presence, SYNC-3), escort
  // passes (DEC-15), and the site's holiday calendar (DEC-14, SYNC-4). The trigger is recreated to carry
  // last_at; a state row written by an older build keeps last_at NULL (a timed rule then does not forgive it).
  `
  ALTER TABLE pass_state ADD COLUMN last_at INTEGER;
  ALTER TABLE passes ADD COLUMN escort INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE outbox ADD COLUMN state_last_at INTEGER;
  DROP TRIGGER outbox_applies_pass_state;
  CREATE TRIGGER outbox_applies_pass_state AFTER INSERT ON outbox WHEN new.state_pass_id IS NOT NULL
  BEGIN
    INSERT INTO pass_state (pass_id, use_count, last_direction, last_totp_step, last_at)
    VALUES (new.state_pass_id, new.state_use_count, new.state_last_direction, new.state_last_totp_step, new.state_last_at)
    ON CONFLICT (pass_id) DO UPDATE SET use_count = excluded.use_count, last_direction = excluded.last_direction,
      last_totp_step = excluded.last_totp_step, last_at = excluded.last_at;
  END;
  CREATE TABLE holidays (id TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class SchemaTooNewError extends Error {
  constructor(readonly found: number) {
    super(`database schema version ${found} is newer than this build understands (${SCHEMA_VERSION}); refusing to touch it`);
    this.name = 'SchemaTooNewError';
  }
}

/** Brings the database to SCHEMA_VERSION, each step in its own transaction. */
export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) throw new SchemaTooNewError(current);
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return SCHEMA_VERSION;
}
