/**
 * Opening the SQLite file, and what happens when it is damaged.
 *
 * Durability choice (the documented power-loss window): WAL journal with
 * `synchronous=NORMAL`. A commit is a write() into the WAL with no fsync, so
 * it survives the process being killed (kill -9, OOM, crash: the bytes are in
 * the kernel's page cache) but not a power cut. The WAL is fsynced at every
 * checkpoint; the daemon checkpoints every `checkpointIntervalMs` (default
 * 5 s) from a worker thread (checkpointer.ts), so a power cut loses at most
 * the events of the last interval and no scan ever waits for an fsync. `FULL`
 * would fsync each commit; bench/edge.ts measures what that costs per scan
 * (on SD cards it is milliseconds, which is why it is not the default).
 *
 * A file that is corrupt or not a database is moved aside (kept for
 * diagnosis) and a fresh one is created with "full sync needed" set, so the
 * edge comes up with an empty cache and asks for a snapshot instead of
 * crash-looping under systemd.
 *
 * The file and its -wal/-shm are 0600 whatever the umask: the file is made
 * 0600 before SQLite opens it (SQLite gives -wal and -shm the database file's
 * mode when it creates them), and files an older build left open are chmodded.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { makePrivate } from '../local-token.js';
import { migrate, SchemaTooNewError } from './migrations.js';

export type SyncMode = 'NORMAL' | 'FULL';

export interface OpenOptions {
  synchronous?: SyncMode;
  /** Run PRAGMA quick_check at open (catches damaged pages, not only a damaged header). */
  quickCheck?: boolean;
}

export interface OpenedDatabase {
  db: Database.Database;
  /** Where a damaged file was moved, when it was. */
  movedAside: string | null;
  recoveryReason: string | null;
}

export class CorruptDatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptDatabaseError';
  }
}

const UNUSABLE_CODES = /^SQLITE_(CORRUPT|NOTADB|IOERR)/;

function isUnusable(e: unknown): boolean {
  if (e instanceof CorruptDatabaseError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNUSABLE_CODES.test(code);
}

function openOnce(file: string, opts: OpenOptions): Database.Database {
  if (file !== ':memory:') {
    closeSync(openSync(file, 'a', 0o600)); // an empty file is an empty database
    for (const suffix of ['', '-wal', '-shm']) makePrivate(file + suffix);
  }
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    db.pragma('busy_timeout = 2000');
    if (opts.quickCheck !== false) {
      const rows = db.pragma('quick_check(1)') as { quick_check: string }[];
      const result = rows[0]?.quick_check;
      if (result !== 'ok') throw new CorruptDatabaseError(`quick_check: ${result ?? 'no answer'}`);
    }
    migrate(db);
    if (file !== ':memory:') for (const suffix of ['-wal', '-shm']) makePrivate(file + suffix);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

export function openDatabase(file: string, opts: OpenOptions = {}): OpenedDatabase {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    return { db: openOnce(file, opts), movedAside: null, recoveryReason: null };
  } catch (e) {
    if (e instanceof SchemaTooNewError || !isUnusable(e) || file === ':memory:') throw e;
    const movedAside = `${file}.corrupt-${new Date().toISOString().replaceAll(':', '-')}`;
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(file + suffix)) renameSync(file + suffix, movedAside + suffix);
    }
    return { db: openOnce(file, opts), movedAside, recoveryReason: (e as Error).message };
  }
}
