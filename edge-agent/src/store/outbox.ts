/**
 * Events waiting for the cloud's ack. Acked rows are marked, not deleted at
 * once, so `/events/recent` and `status` still show the last decisions; a
 * prune keeps only the newest acked ones.
 */

import type { PassState } from '@gatehouse/protocol';
import type Database from 'better-sqlite3';
import type { EdgeEvent as CheckinEvent } from '../event.js';

export interface OutboxRow {
  seq: number;
  event: CheckinEvent;
}

export class Outbox {
  readonly #insert: Database.Statement<[string, string, string | null, number | null, string | null, number | null, number | null]>;
  readonly #ack: Database.Statement<[string]>;
  readonly #recent: Database.Statement<[number], { event: string }>;
  readonly #pending: Database.Statement<[number, number], { seq: number; event: string }>;
  readonly #prune: Database.Statement<[number]>;
  #depth: number;

  constructor(private readonly db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT INTO outbox (id, event, state_pass_id, state_use_count, state_last_direction, state_last_totp_step, state_last_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#ack = db.prepare('UPDATE outbox SET acked = 1 WHERE id = ? AND acked = 0');
    this.#recent = db.prepare('SELECT event FROM outbox ORDER BY seq DESC LIMIT ?');
    this.#pending = db.prepare('SELECT seq, event FROM outbox WHERE acked = 0 AND seq > ? ORDER BY seq LIMIT ?');
    this.#prune = db.prepare(
      `DELETE FROM outbox WHERE acked = 1 AND seq <= (
         SELECT seq FROM outbox WHERE acked = 1 ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
    );
    this.#depth = (db.prepare('SELECT count(*) AS n FROM outbox WHERE acked = 0').get() as { n: number }).n;
  }

  /**
   * The event and, when given, the pass's new state, in one statement: the
   * trigger (migrations 2 and 3) writes pass_state within the INSERT's own implicit
   * transaction, so both land or neither does.
   */
  insert(event: CheckinEvent, passId: string | null = null, state: PassState | null = null): void {
    const s = passId !== null ? state : null;
    this.#insert.run(
      event.id,
      JSON.stringify(event),
      s ? passId : null,
      s ? s.useCount : null,
      s ? s.lastDirection : null,
      s ? s.lastTotpStep : null,
      s ? s.lastAt : null,
    );
    this.#depth++;
  }

  /** Marks events the cloud stored; returns how many were newly acked. */
  ack(ids: readonly string[]): number {
    let n = 0;
    this.db.transaction(() => {
      for (const id of ids) n += this.#ack.run(id).changes;
    })();
    this.#depth -= n;
    return n;
  }

  /** Unacked events after `afterSeq`, oldest first: what the sync link publishes next. */
  pending(limit: number, afterSeq = 0): OutboxRow[] {
    return this.#pending.all(afterSeq, limit).map((r) => ({ seq: r.seq, event: JSON.parse(r.event) as CheckinEvent }));
  }

  recent(limit: number): CheckinEvent[] {
    return this.#recent.all(limit).map((r) => JSON.parse(r.event) as CheckinEvent);
  }

  get depth(): number {
    return this.#depth;
  }

  prune(keepAcked = 1000): number {
    return this.#prune.run(keepAcked).changes;
  }
}
