/**
 * The update state file `<dataDir>/update/update-state.json` and the
 * `current`/`previous` symlinks of the install root. Only node:fs and
 * node:path: boot-guard.ts imports this before every start, and must work
 * even when the release it guards cannot load its own dependencies.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The gate states of the update status (protocol UpdateGateState). */
export type UpdatePhase = 'downloading' | 'verifying' | 'installing' | 'restarting' | 'checking_health' | 'done' | 'failed' | 'rolled_back';

export interface UpdateState {
  v: 1;
  jobId: string;
  version: string;
  serial: number;
  phase: UpdatePhase;
  detail?: string;
  /** Progress lines for the status, the last MAX_LOG kept. */
  log: string[];
  ts: number;
  healthWindowS: number;
  installRoot: string;
  /** The release directory names (under releases/) switched from and to. */
  from?: { dir: string; version: string; serial: number };
  to?: { dir: string };
  /** Starts of the new release while on trial (boot-guard counts them). */
  boots: number;
  /** End of the health window, set by the new release when it starts its trial. */
  deadline?: number;
}

export const MAX_LOG = 20;
export const MAX_LOG_LINE = 300;
export const MAX_DETAIL = 500;
/** Starts of a release on trial before boot-guard gives up on it. */
export const DEFAULT_BOOT_LIMIT = 3;
/** The agent exits with this after switching `current`, so the supervisor starts the other release at once. */
export const EXIT_RESTART_FOR_UPDATE = 75;

export const stateDir = (dataDir: string): string => join(dataDir, 'update');
export const statePath = (dataDir: string): string => join(stateDir(dataDir), 'update-state.json');

/** The phases in which the new release is on trial: a start counts as a boot, a failure rolls back. */
export const onTrial = (s: UpdateState | null): boolean => s?.phase === 'restarting' || s?.phase === 'checking_health';

export function readState(dataDir: string): UpdateState | null {
  let text: string;
  try {
    text = readFileSync(statePath(dataDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const s = JSON.parse(text) as UpdateState;
    return s && s.v === 1 && typeof s.jobId === 'string' && typeof s.phase === 'string' ? s : null;
  } catch {
    return null;
  }
}

/** Write to a temp file, fsync, rename, fsync the directory: a power cut leaves the old state or the new one. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function writeState(dataDir: string, s: UpdateState): void {
  writeFileAtomic(statePath(dataDir), `${JSON.stringify(s, null, 1)}\n`);
}

/** Appends a progress line (bounded) and stamps the state. */
export function logLine(s: UpdateState, line: string, now = Date.now()): UpdateState {
  const log = [...s.log, `${new Date(now).toISOString()} ${line}`.slice(0, MAX_LOG_LINE)].slice(-MAX_LOG);
  return { ...s, log, ts: now };
}

/** The release directory name a link of the install root points at (`releases/<dir>`), or null. */
export function linkTarget(installRoot: string, name: 'current' | 'previous'): string | null {
  try {
    return basename(readlinkSync(join(installRoot, name)));
  } catch {
    return null;
  }
}

/**
 * Points `<installRoot>/<name>` at `releases/<dir>` atomically: a symlink under a temp name renamed over the
 * old one (rename(2) replaces it in one step; there is no moment without `current`).
 */
export function switchLink(installRoot: string, name: 'current' | 'previous', dir: string): void {
  const tmp = join(installRoot, `.${name}.tmp-${process.pid}`);
  try {
    unlinkSync(tmp);
  } catch {}
  symlinkSync(join('releases', dir), tmp);
  renameSync(tmp, join(installRoot, name));
  fsyncDir(installRoot);
}

/**
 * Rolls `current` back to the release the trial started from (or `previous`), and `previous` to the
 * failed one so an operator still finds it. Returns the directory now current, or null when there is none.
 */
export function rollBackLinks(installRoot: string, s: UpdateState): string | null {
  const back = s.from?.dir ?? linkTarget(installRoot, 'previous');
  if (!back) return null;
  const failed = linkTarget(installRoot, 'current');
  switchLink(installRoot, 'current', back);
  if (failed && failed !== back) switchLink(installRoot, 'previous', failed);
  return back;
}
