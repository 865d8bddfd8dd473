/**
 * EdgeStore: the SQLite file of one gate controller — cache, per-pass state,
 * settings and outbox — and the two write paths that must be atomic:
 * a decision (event + pass state) and a sync (records + seq).
 */
import { type Change, type Direction, type GateContext, type GateRecord, KeyRing, type PassState } from '@gatehouse/protocol';
import type Database from 'better-sqlite3';
import type { EdgeEvent as CheckinEvent } from '../event.js';
import { Cache, type CacheRecords, type PassLookup } from './cache.js';
import { Checkpointer } from './checkpointer.js';
import { type OpenOptions, openDatabase } from './open.js';
import { Outbox } from './outbox.js';

export type { CacheRecords, PassLookup } from './cache.js';
export { CorruptDatabaseError } from './open.js';
export type { OutboxRow } from './outbox.js';

/** Placeholder identity until sync (or `seed`) says which gate this controller is. */
export const UNASSIGNED = 'unassigned';

export interface StoreOptions extends OpenOptions {
  /** Org public keys from the config (enrollment); merged with those stored by seed/sync. */
  trustedKeys?: readonly string[];
}

export class EdgeStore {
  readonly db: Database.Database;
  readonly cache: Cache;
  readonly outbox: Outbox;
  /** Set when the file was unusable and moved aside at open. */
  readonly movedAside: string | null;
  readonly recoveryReason: string | null;

  readonly #getSetting: Database.Statement<[string], { value: string }>;
  readonly #setSetting: Database.Statement<[string, string]>;
  readonly #gateRow: Database.Statement<[string], { data: string }>;
  readonly #configKeys: readonly string[];
  readonly #file: string;
  #checkpointer: Checkpointer | null = null;
  #contexts: Partial<Record<Direction, GateContext>> = {};
  #ring: KeyRing | null = null;

  constructor(file: string, opts: StoreOptions = {}) {
    this.#file = file;
    const opened = openDatabase(file, opts);
    this.db = opened.db;
    this.movedAside = opened.movedAside;
    this.recoveryReason = opened.recoveryReason;
    this.#configKeys = opts.trustedKeys ?? [];
    this.#getSetting = this.db.prepare('SELECT value FROM settings WHERE key = ?');
    this.#setSetting = this.db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)');
    this.#gateRow = this.db.prepare('SELECT data FROM gates WHERE id = ?');
    this.cache = new Cache(this.db);
    this.outbox = new Outbox(this.db);
    if (opened.movedAside) this.setSetting('fullSyncNeeded', '1');
  }

  // ---- settings ----

  getSetting(key: string): string | undefined {
    return this.#getSetting.get(key)?.value;
  }

  setSetting(key: string, value: string): void {
    this.#setSetting.run(key, value);
    this.#invalidate();
  }

  get gateId(): string | undefined {
    return this.getSetting('gateId');
  }

  get seq(): number {
    return Number(this.getSetting('seq') ?? 0);
  }

  get fullSyncNeeded(): boolean {
    return this.getSetting('fullSyncNeeded') === '1';
  }

  /** Lockdown ordered locally or by command; the gate record's own flag comes from sync. */
  get localLockdown(): boolean {
    return this.getSetting('lockdown') === '1';
  }

  set localLockdown(on: boolean) {
    this.setSetting('lockdown', on ? '1' : '0');
  }

  /**
   * Emergency release (CMD-4), set by the command or taken up from the gate record when the sync changes it.
   * It outranks a lockdown: a door held free for an evacuation is never also locked.
   */
  get emergency(): boolean {
    return this.getSetting('emergency') === '1';
  }

  set emergency(on: boolean) {
    this.setSetting('emergency', on ? '1' : '0');
  }

  get trustedKeys(): string[] {
    const stored = JSON.parse(this.getSetting('orgPublicKeys') ?? '[]') as string[];
    return [...new Set([...this.#configKeys, ...stored])];
  }

  setTrustedKeys(keys: readonly string[]): void {
    this.setSetting('orgPublicKeys', JSON.stringify([...new Set(keys)]));
  }

  // ---- the decision path ----

  #invalidate(): void {
    this.#contexts = {};
    this.#ring = null;
  }

  /** The gate as decide() needs it; built once and reused until settings or the cache change. */
  context(direction: Direction): GateContext {
    let ctx = this.#contexts[direction];
    if (!ctx) {
      this.#ring ??= new KeyRing(this.trustedKeys);
      const gateId = this.gateId ?? UNASSIGNED;
      const gate = this.cache.gates.get(gateId);
      const site = gate ? this.cache.sites.get(gate.siteId) : [...this.cache.sites.values()][0];
      const calendar = this.cache.calendar(gate?.siteId ?? site?.id ?? UNASSIGNED);
      ctx = {
        gateId,
        zoneId: gate?.zoneId ?? UNASSIGNED,
        siteId: gate?.siteId ?? site?.id ?? UNASSIGNED,
        timezone: site?.timezone ?? 'UTC',
        direction,
        lockdown: !this.emergency && ((gate?.lockdown ?? false) || this.localLockdown),
        keys: this.#ring,
        // Left out when the site has no days: decide() then skips working out the local date on every scan.
        ...(calendar.size > 0 ? { holidays: calendar } : {}),
      };
      this.#contexts[direction] = ctx;
    }
    return ctx;
  }

  findByPassId(passId: string): PassLookup {
    return this.cache.findByPassId(passId);
  }

  findByCard(key: string): PassLookup {
    return this.cache.findByCard(key);
  }

  /**
   * Event into the outbox and, when given, the pass's new state — atomically
   * (one INSERT whose trigger writes the state): after a crash both are there or neither.
   */
  record(event: CheckinEvent, passId: string | null = null, state: PassState | null = null): void {
    this.outbox.insert(event, passId, state);
  }

  // ---- sync ----

  /** A full snapshot (replace) or one chunk of it; `seq` is set when given (the last chunk). */
  applySnapshot(records: CacheRecords, opts: { replace: boolean; seq?: number }): void {
    this.db.transaction(() => {
      const before = this.#ownGateRecord();
      this.cache.writeRecords(records, opts.replace);
      this.#takeUpMode(before);
      if (opts.seq !== undefined) {
        this.#setSetting.run('seq', String(opts.seq));
        this.#setSetting.run('fullSyncNeeded', '0');
      }
    })();
    this.cache.reload();
    this.#invalidate();
  }

  /** A delta: every change and the new seq, atomically. */
  applyDelta(changes: readonly Change[], seq: number): void {
    this.db.transaction(() => {
      const before = this.#ownGateRecord();
      for (const c of changes) this.cache.applyChange(c);
      this.#takeUpMode(before);
      this.#setSetting.run('seq', String(seq));
    })();
    this.cache.reload();
    this.#invalidate();
  }

  #ownGateRecord(): GateRecord | undefined {
    const id = this.#getSetting.get('gateId')?.value;
    const row = id === undefined ? undefined : this.#gateRow.get(id);
    return row ? (JSON.parse(row.data) as GateRecord) : undefined;
  }

  /**
   * CMD-4 through the sync: a change of this gate's record's `emergency` or `lockdown` is taken up as the
   * command would be, so an edge that missed the command (offline, expired) follows once it syncs, and a
   * command that got here first is not undone by a record that merely repeats it. Inside the apply's
   * transaction, so a crash cannot lose the change. (The record's lockdown is also ORed into the context,
   * as before; a lockdown set locally stays until released.)
   */
  #takeUpMode(before: GateRecord | undefined): void {
    const after = this.#ownGateRecord();
    const wasEmergency = before?.emergency ?? false;
    const isEmergency = after?.emergency ?? false;
    if (isEmergency !== wasEmergency) {
      this.#setSetting.run('emergency', isEmergency ? '1' : '0');
      if (isEmergency) this.#setSetting.run('lockdown', '0');
    }
    if ((after?.lockdown ?? false) && !(before?.lockdown ?? false)) this.#setSetting.run('emergency', '0');
  }

  // ---- housekeeping ----

  /** fsyncs the WAL into the main file: the end of the power-loss window. */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /**
   * Checkpoints every `intervalMs` on a worker thread (see checkpointer.ts);
   * the scan connection stops checkpointing by itself meanwhile.
   */
  startBackgroundCheckpoints(intervalMs: number, onError: (e: Error) => void = () => {}): Checkpointer | null {
    if (this.#checkpointer || this.#file === ':memory:') return this.#checkpointer;
    this.db.pragma('wal_autocheckpoint = 0');
    this.#checkpointer = new Checkpointer(this.#file, intervalMs, (e) => {
      // Without the worker, fall back to SQLite's own checkpoints so the WAL cannot grow without bound.
      this.#checkpointer = null;
      if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
      onError(e);
    });
    return this.#checkpointer;
  }

  /**
   * The write probe: one row in settings, in a transaction, so a full disk, an I/O error or a read-only file
   * system shows here before a scan needs the store (SELECT 1 answers on all three). Throws the SQLite error.
   */
  probeWrite(at: number = Date.now()): void {
    // As big as an event for a moment: a write that fits in a page's last free bytes would not prove an event does.
    this.db.transaction(() => {
      this.#setSetting.run('probeAt', 'x'.repeat(2048));
      this.#setSetting.run('probeAt', String(at));
    })();
  }

  /** The watchdog's question: can the store still answer a query? */
  healthy(): boolean {
    try {
      return this.db.open && this.db.prepare('SELECT 1 AS ok').get() !== undefined;
    } catch {
      return false;
    }
  }

  get checkpointer(): Checkpointer | null {
    return this.#checkpointer;
  }

  async stopBackgroundCheckpoints(): Promise<void> {
    const c = this.#checkpointer;
    this.#checkpointer = null;
    await c?.stop();
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.checkpoint();
    } finally {
      this.db.close();
    }
  }
}
