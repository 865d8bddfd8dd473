/**
 * The data directory is the daemon user's alone, whatever the umask (not only
 * under systemd's UMask=0027): the directory 0700, its files 0600. In it, the
 * local API's token: a random bearer secret the daemon makes at its first
 * start and keeps across restarts, and the CLI reads to call the local API.
 * Whoever can read it can already read the database and the config's broker
 * password; anyone else on the controller cannot open the gate.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCAL_TOKEN_FILE = 'local-token';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function localTokenPath(dataDir: string): string {
  return join(dataDir, LOCAL_TOKEN_FILE);
}

/** Creates `dir` (and missing parents) 0700, and takes an existing one back to 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** chmod 0600 if the file is there (SQLite's -wal and -shm come and go). */
export function makePrivate(file: string): void {
  if (existsSync(file)) chmodSync(file, 0o600);
}

/** The daemon's side: the token in the data dir, made (0600, atomically) when missing or not a token. */
export function ensureLocalToken(dataDir: string): string {
  const file = localTokenPath(dataDir);
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const text = readFileSync(file, 'utf8').trim();
    if (TOKEN.test(text)) return text;
  }
  const token = randomBytes(32).toString('base64url');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return token;
}

/** The CLI's side: the token, or why it cannot be had (no daemon has started yet, or this user may not read it). */
export function readLocalToken(dataDir: string): { token: string } | { error: string } {
  const file = localTokenPath(dataDir);
  try {
    const text = readFileSync(file, 'utf8').trim();
    return TOKEN.test(text) ? { token: text } : { error: `${file} does not hold a token` };
  } catch (e) {
    return { error: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}
