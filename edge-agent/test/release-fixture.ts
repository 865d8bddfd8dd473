/**
 * Releases for the update tests: built in a temp dir with a test release key
 * (protocol signRelease), installed the way the installer would (a first
 * release under `<installRoot>/releases/<version>` with `current` on it), and
 * served by a local HTTP server that speaks the cloud's release routes
 * (Basic auth, Range/206) and can misbehave: cut a file mid-way, tamper
 * with one, ignore Range.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateKeyPair, type ReleaseManifest, type SignedRelease, type SigningKey, signingKey, signRelease } from '@gatehouse/protocol';
import { CLI, REPO } from './harness.js';

export interface ReleaseKey {
  publicKey: string;
  signer: SigningKey;
}

export function releaseKey(): ReleaseKey {
  const k = generateKeyPair();
  return { publicKey: k.publicKey, signer: signingKey(k.privateKey) };
}

/**
 * What the test release's entry does: `good` runs the agent from this checkout's sources; `crash` throws at
 * start; `unhealthy` runs the agent with its MQTT URL pointed at a closed port (it runs, decides, never links).
 */
export type EntryKind = 'good' | 'crash' | 'unhealthy';

export function entrySource(kind: EntryKind, version: string): string {
  const cli = JSON.stringify(pathToFileURL(CLI).href);
  const head = `// gatehouse-edge test release ${version} (${kind})\n`;
  if (kind === 'crash') return `${head}throw new Error('release ${version} is broken');\n`;
  if (kind === 'good') return `${head}await import(${cli});\n`;
  return `${head}import { readFileSync, writeFileSync } from 'node:fs';
const i = process.argv.indexOf('--config');
if (i > 0) {
  const c = JSON.parse(readFileSync(process.argv[i + 1], 'utf8'));
  if (c.mqtt) c.mqtt.url = 'mqtt://127.0.0.1:9';
  const f = process.argv[i + 1] + '.unhealthy.json';
  writeFileSync(f, JSON.stringify(c));
  process.argv[i + 1] = f;
}
await import(${cli});
`;
}

let bundled: Promise<string> | null = null;

/**
 * The agent bundled into one ESM file with esbuild, as a release ships it (native packages left external):
 * starting it costs no TypeScript transform and no module resolution. The native packages resolve from a
 * `node_modules` next to the install root (linkNodeModules), standing in for the release's own.
 */
export function agentBundle(): Promise<string> {
  bundled ??= import('esbuild').then(async ({ build }) => {
    const out = await build({
      entryPoints: [CLI],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // As the release build does (scripts/release-edge.ts): everything inlined but the packages that load native
      // code by path, so a start reads one file instead of hundreds of modules.
      external: ['better-sqlite3', '@serialport/bindings-cpp', 'onoff'],
      conditions: ['source'],
      banner: { js: "import { createRequire as __gh_cr } from 'node:module'; const require = __gh_cr(import.meta.url);" },
      write: false,
      logLevel: 'silent',
    });
    return out.outputFiles[0]?.text ?? '';
  });
  return bundled;
}

/** `<dir>/node_modules` -> this checkout's, so a bundle installed under `dir` finds its packages. */
export function linkNodeModules(dir: string): void {
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
}

export interface TestRelease {
  version: string;
  serial: number;
  /** The built files (the tarball's content), release.json included. */
  dir: string;
  manifest: ReleaseManifest;
  signed: SignedRelease;
}

export function buildRelease(
  root: string,
  o: {
    version: string;
    serial: number;
    key: ReleaseKey;
    /** Key whose public half goes in the release's release-keys.json (default: o.key). */
    shippedKey?: ReleaseKey;
    kind?: EntryKind;
    /** The entry file's content instead of a kind's stub (the bundled agent: agentBundle()). */
    entryCode?: string;
    payloadBytes?: number;
    createdAt?: number;
    expiresAt?: number;
  },
): TestRelease {
  const dir = join(root, 'build', `${o.version}-${o.serial}`);
  const files: Record<string, Buffer> = {
    'agent/entry.mjs': Buffer.from(o.entryCode ?? entrySource(o.kind ?? 'good', o.version)),
    // daemon.ts reads its version from ../package.json next to its module.
    'package.json': Buffer.from(JSON.stringify({ name: 'gatehouse-edge-test-release', version: o.version, type: 'module' })),
    'agent/payload.bin': randomBytes(o.payloadBytes ?? 256 * 1024),
    'release-keys.json': Buffer.from(JSON.stringify({ keys: [{ publicKey: (o.shippedKey ?? o.key).publicKey }] })),
  };
  for (const [p, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), data);
  }
  const createdAt = o.createdAt ?? Date.now();
  const manifest: ReleaseManifest = {
    v: 1,
    product: 'gatehouse-edge',
    version: o.version,
    serial: o.serial,
    channel: 'stable',
    createdAt,
    expiresAt: o.expiresAt ?? createdAt + 30 * 86_400_000,
    minCloudVersion: '0.1.0',
    node: '>=20',
    entry: 'agent/entry.mjs',
    files: Object.entries(files).map(([path, data]) => ({
      path,
      size: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
    })),
  };
  const signed = signRelease(manifest, o.key.signer);
  writeFileSync(join(dir, 'release.json'), JSON.stringify(signed));
  return { version: o.version, serial: o.serial, dir, manifest, signed };
}

/** What the installer does for the first release: copy it in and point `current` at it. */
export function installFirst(installRoot: string, r: TestRelease): void {
  mkdirSync(join(installRoot, 'releases'), { recursive: true });
  cpSync(r.dir, join(installRoot, 'releases', r.version), { recursive: true });
  symlinkSync(join('releases', r.version), join(installRoot, 'current'));
}

export const entryOf = (installRoot: string): string => join(installRoot, 'current', 'agent', 'entry.mjs');

export interface ReleaseServer {
  url(r: TestRelease): string;
  /** Every request: path, Range header, status. */
  requests: { path: string; range: string | undefined; status: number }[];
  /** Cut the next response for this file after that many bytes (the socket is destroyed). */
  cutOnce: Map<string, number>;
  /** Serve this file with one byte flipped. */
  tamper: Set<string>;
  /** Answer 200 with the whole file whatever the Range says. */
  ignoreRange: boolean;
  /** Serve this many bytes more than the file has (endless data). */
  extraBytes: number;
  close(): Promise<void>;
}

/** The cloud's release routes: GET /api/edge/releases/<id>/release.json and …/files/<path>, Basic auth. */
export async function serveReleases(releases: TestRelease[], auth: { username: string; password: string }): Promise<ReleaseServer> {
  const byId = new Map(releases.map((r) => [`${r.version}-${r.serial}`, r]));
  const state: Omit<ReleaseServer, 'url' | 'close'> = {
    requests: [],
    cutOnce: new Map(),
    tamper: new Set(),
    ignoreRange: false,
    extraBytes: 0,
  };
  const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const m = /^\/api\/edge\/releases\/([^/]+)\/(release\.json|files\/(.+))$/.exec(req.url ?? '');
    const log = (status: number, path: string) => state.requests.push({ path, range: req.headers.range, status });
    if (req.headers.authorization !== expected) {
      log(401, req.url ?? '');
      res.writeHead(401).end();
      return;
    }
    const r = m ? byId.get(m[1] ?? '') : undefined;
    if (!m || !r) {
      log(404, req.url ?? '');
      res.writeHead(404).end();
      return;
    }
    const path = m[3] ? decodeURIComponent(m[3]) : 'release.json';
    let body: Buffer;
    try {
      body = readFileSync(join(r.dir, path));
    } catch {
      log(404, path);
      res.writeHead(404).end();
      return;
    }
    if (state.tamper.has(path)) {
      body = Buffer.from(body);
      const i = body.length >> 1;
      body[i] = (body[i] ?? 0) ^ 0xff;
    }
    if (state.extraBytes && path !== 'release.json') body = Buffer.concat([body, randomBytes(state.extraBytes)]);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (range && !state.ignoreRange) {
      start = Number(range[1]);
      log(206, path);
      res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
    } else {
      log(200, path);
      // No Content-Length when extra bytes are sent: the client must bound the body itself.
      res.writeHead(200, state.extraBytes && path !== 'release.json' ? {} : { 'content-length': body.length });
    }
    const cut = state.cutOnce.get(path);
    if (cut !== undefined) {
      state.cutOnce.delete(path);
      res.write(body.subarray(start, start + cut), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(body.subarray(start));
  };
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: (r: TestRelease) => `http://127.0.0.1:${port}/api/edge/releases/${r.version}-${r.serial}/release.json`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
