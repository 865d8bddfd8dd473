/**
 * What an edge trusts in a release (TUF's arbitrary-package, rollback,
 * freeze and mix-and-match attacks): the signed manifest checked by
 * verifyRelease against the release keys (never the organisation's key),
 * and every downloaded file's SHA-256 and size against it before anything
 * is installed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  KeyRing,
  nodeSupported,
  type ReleaseFile,
  type ReleaseManifest,
  type ReleasePlatform,
  type ReleaseRefusal,
  releaseFilesFor,
  verifyRelease,
} from '@gatehouse/protocol';

export function platform(): ReleasePlatform | null {
  if (process.platform !== 'linux') return null;
  return process.arch === 'x64' ? 'linux-x64' : process.arch === 'arm64' ? 'linux-arm64' : null;
}

/** The public keys in a release-keys.json: `{keys: [{publicKey}|string]}` or a bare array. */
export function parseReleaseKeys(value: unknown): string[] {
  const list = Array.isArray(value) ? value : (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) return [];
  return list.flatMap((k: unknown) => {
    const pk = typeof k === 'string' ? k : (k as { publicKey?: unknown } | null)?.publicKey;
    return typeof pk === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(pk) ? [pk] : [];
  });
}

/** The shipped key file next to the agent's package (edge-agent/release-keys.json), for a dev run. */
const SHIPPED_KEYS = fileURLToPath(new URL('../../release-keys.json', import.meta.url));

/**
 * The release keys: the config's `update.releaseKeys` when given, else the release-keys.json of the running
 * release, else the one shipped with the sources. An empty ring refuses every release (unknown_key).
 */
export function trustedReleaseKeys(configured: readonly string[] | undefined, runningDir: string | null): KeyRing {
  if (configured?.length) return new KeyRing(configured);
  for (const file of [runningDir ? join(runningDir, 'release-keys.json') : null, SHIPPED_KEYS]) {
    if (!file || !existsSync(file)) continue;
    try {
      return new KeyRing(parseReleaseKeys(JSON.parse(readFileSync(file, 'utf8'))));
    } catch {}
  }
  return new KeyRing([]);
}

export type ManifestCheck =
  | { ok: true; manifest: ReleaseManifest; files: ReleaseFile[] }
  | { ok: false; reason: ReleaseRefusal | 'wrong_version' | 'no_platform'; detail: string };

/**
 * verifyRelease, then what the command promised: the version and serial it names (a release JSON swapped
 * on the server for another validly signed one is refused), and this controller's platform.
 */
export function checkManifest(
  signed: unknown,
  keys: KeyRing,
  o: { now: number; installedSerial: number | null; expect: { version: string; serial: number; allowDowngrade: boolean } },
): ManifestCheck {
  const v = verifyRelease(signed, keys, {
    now: o.now,
    installedSerial: o.installedSerial,
    ...(o.expect.allowDowngrade ? { allowDowngradeTo: o.expect.serial } : {}),
  });
  if (!v.ok) return v;
  const m = v.manifest;
  if (m.version !== o.expect.version || m.serial !== o.expect.serial) {
    return {
      ok: false,
      reason: 'wrong_version',
      detail: `the command names ${o.expect.version} #${o.expect.serial}, the release is ${m.version} #${m.serial}`,
    };
  }
  // REL-7: a release that cannot run on this Node would only crash-loop until boot-guard switched back.
  if (!nodeSupported(m.node, process.versions.node))
    return {
      ok: false,
      reason: 'node_unsupported',
      detail: `the release needs Node ${m.node}; this controller runs ${process.versions.node}`,
    };
  const p = platform();
  if (!p) return { ok: false, reason: 'no_platform', detail: `no release platform for ${process.platform}-${process.arch}` };
  return { ok: true, manifest: m, files: releaseFilesFor(m, p) };
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** Every file against its size and hash; the first that differs is named. */
export async function verifyFiles(
  dir: string,
  files: readonly ReleaseFile[],
  fileOf: (f: ReleaseFile) => string = (f) => join(dir, f.path),
): Promise<{ ok: true } | { ok: false; detail: string }> {
  for (const f of files) {
    let hash: string;
    try {
      hash = await sha256File(fileOf(f));
    } catch (e) {
      return { ok: false, detail: `${f.path}: ${(e as Error).message}` };
    }
    if (hash !== f.sha256) return { ok: false, detail: `${f.path}: sha256 ${hash} is not the manifest's ${f.sha256}` };
  }
  return { ok: true };
}
