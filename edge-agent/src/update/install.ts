/**
 * Side-by-side install under `<installRoot>/releases/<version>`: the files
 * are copied into a temp directory, fsynced, and the directory renamed into
 * place; then `previous` and `current` are switched with symlink renames
 * (state.ts). The running release's directory is never written.
 */

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ReleaseFile } from '@gatehouse/protocol';
import { fsyncDir, linkTarget, switchLink, writeFileAtomic } from './state.js';

export interface RunningRelease {
  /** Directory name under releases/. */
  dir: string;
  path: string;
  version: string;
  serial: number;
}

/** The version and serial in a release.json (the signed release as served, or a bare manifest). */
export function readReleaseJson(file: string): { version: string; serial: number } | null {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { payload?: unknown; version?: unknown; serial?: unknown };
    const m = (typeof raw.payload === 'string' ? JSON.parse(Buffer.from(raw.payload, 'base64').toString('utf8')) : raw) as {
      version?: unknown;
      serial?: unknown;
    };
    return typeof m.version === 'string' && typeof m.serial === 'number' ? { version: m.version, serial: m.serial } : null;
  } catch {
    return null;
  }
}

/**
 * The installed release this process runs from: its entry script (argv[1]) lies under
 * `<installRoot>/releases/<dir>/` (through `current`) and that directory has a release.json. Null in a dev
 * or npm install, where updates are refused.
 */
export function runningRelease(installRoot: string, entry: string | undefined = process.argv[1]): RunningRelease | null {
  if (!entry) return null;
  let releases: string;
  let script: string;
  try {
    releases = realpathSync(join(installRoot, 'releases'));
    script = realpathSync(entry);
  } catch {
    return null;
  }
  const rel = relative(releases, script);
  if (!rel || rel.startsWith('..') || rel.startsWith(sep)) return null;
  const dir = rel.split(sep)[0];
  if (!dir || dir === rel) return null;
  const path = join(releases, dir);
  const meta = readReleaseJson(join(path, 'release.json'));
  return meta ? { dir, path, ...meta } : null;
}

/** A manifest path inside `root`, refused if it would leave it (the schema already forbids `..`; this is the second lock). */
export function inside(root: string, p: string): string {
  const full = resolve(root, p);
  if (!full.startsWith(`${resolve(root)}${sep}`)) throw new Error(`path ${JSON.stringify(p)} leaves the release directory`);
  return full;
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Copies the verified files (from `staged`) and the signed release JSON into `releases/<dir>` through a temp
 * directory; `dir` must not be the running release's.
 */
export async function installRelease(o: {
  installRoot: string;
  dir: string;
  running: RunningRelease;
  files: readonly ReleaseFile[];
  staged: (f: ReleaseFile) => string;
  releaseJson: string;
}): Promise<string> {
  if (o.dir === o.running.dir) throw new Error(`release ${o.dir} is the one running: it is never overwritten`);
  const releases = join(o.installRoot, 'releases');
  const final = join(releases, o.dir);
  const tmp = join(releases, `.tmp-${o.dir}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true, mode: 0o755 });
  const dirs = new Set<string>([tmp]);
  for (const f of o.files) {
    const to = inside(tmp, f.path);
    await mkdir(dirname(to), { recursive: true, mode: 0o755 });
    for (let d = dirname(to); d.startsWith(tmp); d = dirname(d)) dirs.add(d);
    await copyFile(o.staged(f), to);
    await chmod(to, /(^|\/)bin\/|\.sh$/.test(f.path) ? 0o755 : 0o644);
    await fsyncFile(to);
  }
  writeFileAtomic(join(tmp, 'release.json'), o.releaseJson, 0o644);
  for (const d of dirs) fsyncDir(d);
  // A leftover of an earlier attempt at the same version (never current: checked above, nor previous once switched).
  if (existsSync(final)) await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  fsyncDir(releases);
  return final;
}

/** `previous` := the running release, then `current` := the new one; each one rename. */
export function switchTo(installRoot: string, runningDir: string, newDir: string): void {
  switchLink(installRoot, 'previous', runningDir);
  switchLink(installRoot, 'current', newDir);
}

/** Removes release directories that are neither current nor previous (after a commit), and stale temp dirs. */
export async function pruneReleases(installRoot: string): Promise<string[]> {
  const keep = new Set([linkTarget(installRoot, 'current'), linkTarget(installRoot, 'previous')]);
  const releases = join(installRoot, 'releases');
  const removed: string[] = [];
  for (const d of await readdir(releases)) {
    if (keep.has(d)) continue;
    await rm(join(releases, d), { recursive: true, force: true });
    removed.push(d);
  }
  return removed;
}
