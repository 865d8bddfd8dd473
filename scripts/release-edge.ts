/**
 * `npm run release:edge`: builds a self-contained, signed edge release.
 *
 *   tsx --conditions=source scripts/release-edge.ts [--version V] [--serial N] [--channel stable|beta]
 *     [--expires-days 90] [--platform linux-x64,linux-arm64] [--key FILE] [--notes TEXT] [--out dist-release]
 *
 * Lives at the repository root rather than in edge-agent/ because a release is made from the whole workspace:
 * the protocol (inlined into the bundle, and signRelease), the systemd unit in systemd/, the root lockfile's
 * node_modules (the native modules shipped), and its output (dist-release/) is not a package's build.
 *
 * Output: dist-release/release.json (signed manifest of every platform), per platform
 * gatehouse-edge-<v>-<platform>.tar.gz (the tree of /opt/gatehouse-edge/releases/<v>/ under gatehouse-edge-<v>/,
 * release.json included) and gatehouse-edge_<v>_<arch>.deb, and install.sh.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  generateKeyPair,
  RELEASE_PRODUCT,
  type ReleaseFile,
  type ReleaseManifest,
  releaseFilesFor,
  type SigningKey,
  signingKey,
  signRelease,
} from '@gatehouse/protocol';
import { build } from 'esbuild';
import { betterSqlite3, epoll, gpioCdevHelper, type NodeTarget, nodeTarget, type Platform } from './release/native.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HERE = join(REPO, 'scripts/release');

/** The Node majors a release carries native addons for; the manifest's `node` range says the same. */
export const NODE_MAJORS = [22, 24] as const;
export const NODE_RANGE = NODE_MAJORS.map((m) => `>=${m} <${m + 1}`).join(' || ');
/** Fixed by the launcher (scripts/release/gatehouse-edge.sh), which cannot read JSON. */
export const ENTRY = 'agent/gatehouse-edge.mjs';
const PLATFORMS: readonly Platform[] = ['linux-x64', 'linux-arm64'];
const DEB_ARCH: Record<Platform, string> = { 'linux-x64': 'amd64', 'linux-arm64': 'arm64' };
/** Packages the bundle leaves external because they load native code by path; shipped in the release's node_modules. */
const EXTERNAL = ['better-sqlite3', '@serialport/bindings-cpp', 'onoff'];
/** Dependencies only used to build or fetch a native module, never at run time. */
const BUILD_ONLY = new Set(['prebuild-install', 'node-addon-api', 'nan']);

export interface BuildOptions {
  version: string;
  serial: number;
  channel: 'stable' | 'beta';
  expiresDays: number;
  platforms: Platform[];
  key: SigningKey;
  development: boolean;
  notes?: string;
  out: string;
  log: (s: string) => void;
}

export interface BuildResult {
  manifest: ReleaseManifest;
  artifacts: { platform: Platform; tarball: string; deb: string; tarballBytes: number; debBytes: number }[];
  ms: number;
}

interface Staged {
  /** Path inside the release → source file on disk. */
  src: string;
  path: string;
  platform?: Platform;
  mode: number;
}

/** A SemVer pre-release sorts below its release; in Debian versions `~` does that, `-` would not. */
const debVersion = (v: string) => v.replace(/-/g, '~');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const warn = (s: string) => process.stderr.write(`\x1b[1;31m${s}\x1b[0m\n`);

/** Where Node would find `name` from `fromDir` (node_modules up the tree, stopping at the repository). */
function resolvePkg(name: string, fromDir: string): string {
  for (let d = fromDir; d.startsWith(REPO); d = dirname(d)) {
    const p = join(d, 'node_modules', name);
    if (existsSync(join(p, 'package.json'))) return p;
    if (d === REPO) break;
  }
  throw new Error(`cannot resolve ${name} from ${fromDir}`);
}

/** The external packages and everything they require at run time, as directories under node_modules/. */
function runtimeClosure(): string[] {
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pj = readJson<{ dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>(
      join(dir, 'package.json'),
    );
    for (const dep of Object.keys({ ...pj.dependencies, ...pj.optionalDependencies })) {
      if (BUILD_ONLY.has(dep)) continue;
      visit(resolvePkg(dep, dir));
    }
  };
  for (const e of EXTERNAL) visit(resolvePkg(e, REPO));
  return [...seen].sort();
}

const SKIP_DIRS = new Set(['test', 'tests', 'example', 'examples', 'integration-test', 'docs', 'benchmark', '.github', 'node_modules']);
/** In a package with an addon (binding.gyp) these hold its C/C++ sources and host build, not run-time files. */
const NATIVE_SKIP_DIRS = new Set(['src', 'deps', 'build']);
const SKIP_FILE =
  /\.(md|markdown|gyp|gypi|cc|cpp|c|h|hpp|d\.ts|d\.mts|d\.cts|map|tsbuildinfo|sh|yml|yaml)$|^\.|^(Makefile|CHANGELOG.*|History.*)$/i;

/** The run-time files of one shipped package; prebuilt addons only for the platforms built, marked as theirs. */
function packageFiles(pkgDir: string, platforms: readonly Platform[]): Staged[] {
  const out: Staged[] = [];
  const relPkg = relative(REPO, pkgDir); // node_modules/...
  const native = existsSync(join(pkgDir, 'binding.gyp'));
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const rel = relative(pkgDir, abs);
      const st = lstatSync(abs);
      if (st.isDirectory()) {
        if (dir === pkgDir && (SKIP_DIRS.has(name) || (native && NATIVE_SKIP_DIRS.has(name)))) continue;
        if (name === 'node_modules') continue;
        if (rel.startsWith('prebuilds/') || rel === 'prebuilds') {
          if (rel === 'prebuilds') {
            walk(abs);
            continue;
          }
          const platform = PLATFORMS.find((p) => rel === `prebuilds/${p}`);
          if (!platform || !platforms.includes(platform)) continue;
          for (const f of readdirSync(abs).sort()) {
            // glibc only: Raspberry Pi OS and Debian; a musl system is not a supported controller.
            if (!f.endsWith('.node') || f.includes('.musl.')) continue;
            out.push({ src: join(abs, f), path: `${relPkg}/${rel}/${f}`, platform, mode: 0o644 });
          }
          continue;
        }
        walk(abs);
      } else if (st.isFile()) {
        if (SKIP_FILE.test(name) && !/^LICEN[CS]E/i.test(name)) continue;
        if (name.endsWith('.node')) continue; // addons come from prebuilds/ or the native builds, never a stray host build
        out.push({ src: abs, path: `${relPkg}/${rel}`, mode: 0o644 });
      }
    }
  };
  walk(pkgDir);
  // A package whose entry file was filtered out would fail at run time: fail the build instead.
  const main = readJson<{ main?: string }>(join(pkgDir, 'package.json')).main ?? 'index.js';
  const entry = [main, `${main}.js`, join(main, 'index.js')].map((m) => `${relPkg}/${join(m)}`);
  if (!out.some((f) => entry.includes(f.path))) throw new Error(`${relPkg}: its main file ${main} is not in the release`);
  return out;
}

/** The release's unit: the repository's unit (kept for the npm install path) with the release's launcher and boot guard. */
export function releaseUnit(): string {
  let unit = readFileSync(join(REPO, 'systemd/gatehouse-edge.service'), 'utf8');
  const edit = (from: string | RegExp, to: string) => {
    const next = unit.replace(from, to);
    if (next === unit) throw new Error(`systemd/gatehouse-edge.service changed: ${String(from)} not found; update scripts/release-edge.ts`);
    unit = next;
  };
  edit(
    /^(# Gatehouse edge agent: the gate controller daemon\.\n)(#.*\n)+/,
    `$1# Installed from a release (.deb or install.sh): runs the launcher /opt/gatehouse-edge/bin/gatehouse-edge,
# which runs the release \`current\` points to. Before every start the boot guard counts starts of a release
# on trial and switches \`current\` back to \`previous\` after a crash loop (edge-agent/src/update/boot-guard.ts).
`,
  );
  edit(
    'ExecStart=/usr/local/bin/gatehouse-edge run --config /etc/gatehouse-edge/config.json',
    'ExecStartPre=/opt/gatehouse-edge/bin/gatehouse-edge boot-guard --config /etc/gatehouse-edge/config.json\n' +
      'ExecStart=/opt/gatehouse-edge/bin/gatehouse-edge run --config /etc/gatehouse-edge/config.json',
  );
  // The updater writes releases/<v> and switches current/previous; the boot guard switches them back.
  edit(/^ReadWritePaths=\/var\/lib\/gatehouse-edge$/m, 'ReadWritePaths=/var/lib/gatehouse-edge /opt/gatehouse-edge');
  // Installed before it is configured: no config, no start (rather than a restart loop on exit 78).
  edit(/^(Wants=network-online.target\n)/m, '$1ConditionPathExists=/etc/gatehouse-edge/config.json\n');
  return unit;
}

async function bundle(stage: string): Promise<void> {
  const supported = JSON.stringify(NODE_MAJORS);
  // Node major check before anything else runs: an addon of another ABI fails with a far less helpful message.
  // The require/__dirname shims are for the CommonJS dependencies inlined into an ES module.
  // esbuild keeps cli.ts's hashbang as the first line, above this.
  const banner = `import { createRequire as __ghCreateRequire } from 'node:module';
import { fileURLToPath as __ghFileURLToPath } from 'node:url';
const require = __ghCreateRequire(import.meta.url);
const __filename = __ghFileURLToPath(import.meta.url);
const __dirname = __ghFileURLToPath(new URL('.', import.meta.url));
if (!${supported}.includes(Number(process.versions.node.split('.')[0])) && process.env.GATEHOUSE_EDGE_ANY_NODE !== '1') {
  process.stderr.write('gatehouse-edge: this release runs on Node ${NODE_MAJORS.join(' or ')} (${NODE_RANGE}); this is Node ' + process.versions.node + '\\n');
  process.exit(1);
}`;
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: `node${NODE_MAJORS[0]}`,
    conditions: ['source'],
    legalComments: 'none' as const,
    logLevel: 'warning' as const,
  };
  await build({
    ...common,
    entryPoints: [join(REPO, 'edge-agent/src/cli.ts')],
    outfile: join(stage, ENTRY),
    external: EXTERNAL,
    banner: { js: banner },
  });
  // The boot guard alone: only node:fs, so it runs when the release on trial cannot load (see the launcher). It runs
  // itself only under its own name (boot-guard.mjs), not inlined in the agent's bundle above.
  await build({
    ...common,
    entryPoints: [join(REPO, 'edge-agent/src/update/boot-guard.ts')],
    outfile: join(stage, 'agent/boot-guard.mjs'),
  });
}

function collect(
  stage: string,
  platforms: Platform[],
  targets: NodeTarget[],
  releaseKeys: string[],
  version: string,
  log: (s: string) => void,
): Staged[] {
  const files: Staged[] = [];
  const add = (path: string, src: string, mode = 0o644, platform?: Platform) =>
    files.push({ path, src, mode, ...(platform ? { platform } : {}) });
  add(ENTRY, join(stage, ENTRY), 0o755);
  add('agent/boot-guard.mjs', join(stage, 'agent/boot-guard.mjs'));
  // daemon.ts reads its version from ../package.json next to its entry; "type": "module" for the .mjs neighbours.
  writeFileSync(
    join(stage, 'package.json'),
    `${JSON.stringify({ name: RELEASE_PRODUCT, version, private: true, type: 'module', engines: { node: NODE_RANGE } }, null, 2)}\n`,
  );
  add('package.json', join(stage, 'package.json'));
  writeFileSync(join(stage, 'release-keys.json'), `${JSON.stringify({ keys: releaseKeys }, null, 2)}\n`);
  add('release-keys.json', join(stage, 'release-keys.json'));
  writeFileSync(join(stage, 'gatehouse-edge.service'), releaseUnit());
  add('share/gatehouse-edge.service', join(stage, 'gatehouse-edge.service'));
  add('share/gatehouse-edge', join(HERE, 'gatehouse-edge.sh'), 0o755);
  add('share/install.sh', join(HERE, 'install.sh'), 0o755);
  for (const f of ['postinst', 'prerm', 'postrm']) add(`share/deb/${f}`, join(HERE, 'deb', f), 0o755);

  for (const dir of runtimeClosure()) files.push(...packageFiles(dir, platforms));

  // gpio-cdev.ts looks for its helper in bin/ beside the running module: agent/bin/ in the release.
  const cdev = join(REPO, 'edge-agent/native/gatehouse-gpio-cdev.c');
  if (existsSync(cdev))
    for (const platform of platforms)
      add('agent/bin/gatehouse-gpio-cdev', gpioCdevHelper(cdev, platform, join(stage, 'cdev')), 0o755, platform);

  const bsq = resolvePkg('better-sqlite3', REPO);
  const ep = resolvePkg('epoll', resolvePkg('onoff', REPO));
  for (const platform of platforms) {
    for (const node of targets) {
      // `bindings` (used by both) looks in lib/binding/node-v<ABI>-<platform>-<arch>/ among its paths: one
      // release serves every supported Node major, each loading its own ABI's build.
      const tag = `node-v${node.abi}-${platform}`;
      add(`${relative(REPO, bsq)}/lib/binding/${tag}/better_sqlite3.node`, betterSqlite3(bsq, platform, node, log), 0o755, platform);
      add(`${relative(REPO, ep)}/lib/binding/${tag}/epoll.node`, epoll(ep, platform, node, log), 0o755, platform);
    }
  }
  return files;
}

function releaseFile(s: Staged): ReleaseFile {
  return { path: s.path, sha256: sha256(s.src), size: statSync(s.src).size, ...(s.platform ? { platform: s.platform } : {}) };
}

/** Lays out one platform's release tree (the files of the manifest and release.json). */
function tree(dir: string, staged: Staged[], platform: Platform, signedJson: string): void {
  for (const s of staged) {
    if (s.platform && s.platform !== platform) continue;
    const dest = join(dir, s.path);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(s.src, dest);
    chmodSync(dest, s.mode);
  }
  writeFileSync(join(dir, 'release.json'), signedJson);
  chmodSync(join(dir, 'release.json'), 0o644);
}

/** Reproducible tar: sorted, owned by root, mtime of the release. */
function tarGz(out: string, cwd: string, top: string, mtime: number): void {
  execFileSync(
    'tar',
    [
      '--sort=name',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      `--mtime=@${Math.floor(mtime / 1000)}`,
      '-cf',
      out.replace(/\.gz$/, ''),
      top,
    ],
    { cwd },
  );
  execFileSync('gzip', ['-9nf', out.replace(/\.gz$/, '')]);
}

function deb(work: string, out: string, staged: Staged[], platform: Platform, m: ReleaseManifest, signedJson: string): void {
  const root = join(work, `deb-${platform}`);
  rmSync(root, { recursive: true, force: true });
  // The package holds the release under /usr/lib; postinst copies it to /opt/gatehouse-edge/releases/<v>. Were
  // releases/<v> the package's own files, upgrading the package would delete the release `previous` points to
  // (no rollback after an apt upgrade), and the updater pruning an old release would fight dpkg over its files.
  const rel = join(root, 'usr/lib/gatehouse-edge/release');
  tree(rel, staged, platform, signedJson);
  mkdirSync(join(root, 'opt/gatehouse-edge/bin'), { recursive: true });
  copyFileSync(join(rel, 'share/gatehouse-edge'), join(root, 'opt/gatehouse-edge/bin/gatehouse-edge'));
  chmodSync(join(root, 'opt/gatehouse-edge/bin/gatehouse-edge'), 0o755);
  copyFileSync(join(rel, 'agent/boot-guard.mjs'), join(root, 'opt/gatehouse-edge/bin/boot-guard.mjs'));
  mkdirSync(join(root, 'lib/systemd/system'), { recursive: true });
  copyFileSync(join(rel, 'share/gatehouse-edge.service'), join(root, 'lib/systemd/system/gatehouse-edge.service'));
  mkdirSync(join(root, 'DEBIAN'));
  const kb = Math.ceil(staged.filter((s) => !s.platform || s.platform === platform).reduce((n, s) => n + statSync(s.src).size, 0) / 1024);
  // releases/<v>, `current` and `previous` are not in the package: postinst makes them, the updater changes them.
  writeFileSync(
    join(root, 'DEBIAN/control'),
    `Package: ${RELEASE_PRODUCT}
Version: ${debVersion(m.version)}
Architecture: ${DEB_ARCH[platform]}
Maintainer: Gatehouse <gatehouse@localhost>
Installed-Size: ${kb}
Depends: nodejs (>= 22), adduser, systemd
Section: net
Priority: optional
Homepage: https://github.com/gatehouse
Description: Gatehouse edge agent (gate controller daemon)
 Reads QR scanners and card readers, decides locally against a SQLite cache,
 drives the turnstile relay and records every attempt in a durable outbox.
 Release ${m.version} (serial ${m.serial}, channel ${m.channel}); runs on Node ${NODE_MAJORS.join(' or ')}.
 Node.js comes from NodeSource (deb.nodesource.com node_22.x or node_24.x) on
 Raspberry Pi OS Bookworm, whose own nodejs is 18.
`,
  );
  for (const f of ['postinst', 'prerm', 'postrm']) {
    const text = readFileSync(join(HERE, 'deb', f), 'utf8')
      .replaceAll('@VERSION@', m.version)
      .replaceAll('@NODE_MAJORS@', NODE_MAJORS.join(' '));
    writeFileSync(join(root, 'DEBIAN', f), text);
    chmodSync(join(root, 'DEBIAN', f), 0o755);
  }
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', '-Zxz', root, out], { stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function buildRelease(o: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const work = join(o.out, '.work');
  rmSync(work, { recursive: true, force: true });
  const stage = join(work, 'stage');
  mkdirSync(stage, { recursive: true });

  o.log(`bundling the agent (esbuild, protocol inlined)`);
  await bundle(stage);
  const targets = NODE_MAJORS.map((m) => nodeTarget(m, o.log));
  // The keys edges of this release trust: the signing key, and the project's published ones (rotation).
  const published = join(REPO, 'edge-agent/release-keys.json');
  const keys = [o.key.publicKey, ...(existsSync(published) ? readJson<{ keys: string[] }>(published).keys : [])];
  const staged = collect(stage, o.platforms, targets, [...new Set(keys)], o.version, o.log);

  const createdAt = Date.now();
  const notes = o.development
    ? `DEVELOPMENT build signed with a development key (.release-dev-key/), not for production.${o.notes ? ` ${o.notes}` : ''}`
    : o.notes;
  const manifest: ReleaseManifest = {
    v: 1,
    product: RELEASE_PRODUCT,
    version: o.version,
    serial: o.serial,
    channel: o.channel,
    createdAt,
    expiresAt: createdAt + o.expiresDays * 86_400_000,
    minCloudVersion: readJson<{ version: string }>(join(REPO, 'cloud-api/package.json')).version,
    node: NODE_RANGE,
    entry: ENTRY,
    files: staged.map(releaseFile).sort((a, b) => a.path.localeCompare(b.path) || (a.platform ?? '').localeCompare(b.platform ?? '')),
    ...(notes ? { notes } : {}),
  };
  const signed = signRelease(manifest, o.key);
  const signedJson = `${JSON.stringify(signed)}\n`;
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, 'release.json'), signedJson);
  copyFileSync(join(HERE, 'install.sh'), join(o.out, 'install.sh'));
  chmodSync(join(o.out, 'install.sh'), 0o755);

  const artifacts: BuildResult['artifacts'] = [];
  for (const platform of o.platforms) {
    const top = `${RELEASE_PRODUCT}-${o.version}`;
    const tdir = join(work, `tar-${platform}`);
    tree(join(tdir, top), staged, platform, signedJson);
    const tarball = join(o.out, `${RELEASE_PRODUCT}-${o.version}-${platform}.tar.gz`);
    rmSync(tarball, { force: true });
    tarGz(tarball, tdir, top, createdAt);
    const debFile = join(o.out, `${RELEASE_PRODUCT}_${debVersion(o.version)}_${DEB_ARCH[platform]}.deb`);
    deb(work, debFile, staged, platform, manifest, signedJson);
    artifacts.push({ platform, tarball, deb: debFile, tarballBytes: statSync(tarball).size, debBytes: statSync(debFile).size });
    o.log(
      `${platform}: ${releaseFilesFor(manifest, platform).length} files, ${(statSync(tarball).size / 1e6).toFixed(1)} MB tar.gz, ${(statSync(debFile).size / 1e6).toFixed(1)} MB .deb`,
    );
  }
  rmSync(work, { recursive: true, force: true });
  return { manifest, artifacts, ms: Date.now() - t0 };
}

/** GATEHOUSE_RELEASE_KEY, --key FILE (base64 PKCS#8, or JSON with privateKey), else a development key kept locally. */
function loadKey(file: string | undefined, log: (s: string) => void): { key: SigningKey; development: boolean } {
  const fromText = (text: string) => {
    const t = text.trim();
    return signingKey(t.startsWith('{') ? (JSON.parse(t) as { privateKey: string }).privateKey : t);
  };
  if (process.env.GATEHOUSE_RELEASE_KEY) return { key: fromText(process.env.GATEHOUSE_RELEASE_KEY), development: false };
  if (file) return { key: fromText(readFileSync(file, 'utf8')), development: false };
  const devFile = join(REPO, '.release-dev-key/release-key.json');
  if (!existsSync(devFile)) {
    mkdirSync(dirname(devFile), { recursive: true, mode: 0o700 });
    writeFileSync(devFile, `${JSON.stringify(generateKeyPair(), null, 2)}\n`, { mode: 0o600 });
    log(`generated a development release key in ${relative(REPO, devFile)}`);
  }
  warn('*'.repeat(78));
  warn('* NO RELEASE KEY (GATEHOUSE_RELEASE_KEY or --key FILE): signing with the DEVELOPMENT key in');
  warn(`*   ${relative(REPO, devFile)}. Controllers in the field must not trust it; the manifest says so.`);
  warn('*'.repeat(78));
  return { key: fromText(readFileSync(devFile, 'utf8')), development: true };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      serial: { type: 'string' },
      channel: { type: 'string' },
      'expires-days': { type: 'string', default: '90' },
      platform: { type: 'string', default: PLATFORMS.join(',') },
      key: { type: 'string' },
      notes: { type: 'string' },
      out: { type: 'string', default: join(REPO, 'dist-release') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'npm run release:edge -- [--version V] [--serial N] [--channel stable|beta] [--expires-days 90] [--platform linux-x64,linux-arm64] [--key FILE] [--notes TEXT] [--out DIR]\n',
    );
    return;
  }
  const log = (s: string) => process.stderr.write(`release: ${s}\n`);
  const platforms = values.platform.split(',').map((p) => p.trim()) as Platform[];
  for (const p of platforms) if (!PLATFORMS.includes(p)) throw new Error(`--platform: ${p} is not one of ${PLATFORMS.join(', ')}`);
  const { key, development } = loadKey(values.key, log);
  const channel = values.channel ?? (development ? 'beta' : 'stable');
  if (channel !== 'stable' && channel !== 'beta') throw new Error('--channel: stable or beta');
  // Default serial: seconds since the epoch, so successive builds only go up (rollback protection, REL-6).
  const serial = values.serial ? Number(values.serial) : Math.floor(Date.now() / 1000);
  const expiresDays = Number(values['expires-days']);
  if (!Number.isInteger(serial) || serial < 1) throw new Error('--serial: a positive integer');
  if (!(expiresDays > 0 && expiresDays <= 3650)) throw new Error('--expires-days: 1..3650');
  const r = await buildRelease({
    version: values.version ?? readJson<{ version: string }>(join(REPO, 'edge-agent/package.json')).version,
    serial,
    channel,
    expiresDays,
    platforms,
    key,
    development,
    ...(values.notes ? { notes: values.notes } : {}),
    out: resolve(values.out),
    log,
  });
  process.stdout.write(
    `${JSON.stringify({
      version: r.manifest.version,
      serial: r.manifest.serial,
      channel: r.manifest.channel,
      kid: key.kid,
      development,
      node: r.manifest.node,
      files: r.manifest.files.length,
      seconds: Math.round(r.ms / 100) / 10,
      artifacts: r.artifacts.map((a) => ({
        platform: a.platform,
        tarball: relative(process.cwd(), a.tarball),
        tarballBytes: a.tarballBytes,
        deb: relative(process.cwd(), a.deb),
        debBytes: a.debBytes,
      })),
    })}\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`release: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
