/**
 * `npm run release:edge` (scripts/release-edge.ts), built once for both platforms into a temp dir with a test
 * release key: the signed manifest verifies against the release-keys.json the release ships; every file of
 * each tarball is in the manifest with its hash and size, and nothing else is; the x64 release, installed by
 * install.sh into a temp root, runs from there on Node 22 (the release's Node; this machine's may be 20, so the
 * Node 22 the build fetched for its headers runs it) and starts the daemon with simulated hardware; the .deb
 * holds what it should; the release's systemd unit passes `systemd-analyze verify`.
 *
 * A cold build compiles SQLite for two architectures (minutes, see the README); the native addons and Node
 * headers are cached in ~/.cache/gatehouse-release, so later runs take well under a minute.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, KeyRing, type ReleaseManifest, releaseFilesFor, verifyRelease } from '@gatehouse/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

const VERSION = '0.9.0-test.1';
const SERIAL = 4242;
const PLATFORMS = ['linux-x64', 'linux-arm64'] as const;
const DEB_ARCH = { 'linux-x64': 'amd64', 'linux-arm64': 'arm64' } as const;
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

const t = { dir: mkdtempSync(join(tmpdir(), 'gh-release-')), cleanup: () => {} };
t.cleanup = () => rmSync(t.dir, { recursive: true, force: true });
/** Where the build caches Node packages (scripts/release/native.ts CACHE). */
const CACHE = process.env.GATEHOUSE_RELEASE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gatehouse-release');
const out = join(t.dir, 'out');
const key = generateKeyPair();
let buildSeconds = 0;
let signedText = '';

function walk(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(root, join(dir, e.name)) : [relative(root, join(dir, e.name))],
  );
}

function extract(platform: (typeof PLATFORMS)[number]): string {
  const dir = join(t.dir, `x-${platform}`);
  if (!existsSync(dir)) {
    mkdirSync(dir);
    execFileSync('tar', ['xzf', join(out, `gatehouse-edge-${VERSION}-${platform}.tar.gz`), '-C', dir]);
  }
  return join(dir, `gatehouse-edge-${VERSION}`);
}

const manifestOf = (text: string): ReleaseManifest => JSON.parse(Buffer.from(JSON.parse(text).payload, 'base64').toString('utf8'));

beforeAll(() => {
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'scripts/release-edge.ts', '--out', out, '--version', VERSION, '--serial', String(SERIAL)],
    { cwd: REPO, encoding: 'utf8', env: { ...process.env, GATEHOUSE_RELEASE_KEY: key.privateKey }, timeout: 25 * 60_000 },
  );
  if (r.status !== 0) throw new Error(`release build failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  buildSeconds = (Date.now() - t0) / 1000;
  signedText = readFileSync(join(out, 'release.json'), 'utf8');
}, 26 * 60_000);

afterAll(() => t.cleanup());

describe('edge release build', () => {
  it('builds a tarball and a .deb for linux-x64 and linux-arm64, signed with the given key, not a development build', () => {
    const sizes = PLATFORMS.map((p) => ({
      platform: p,
      tarGzBytes: statSync(join(out, `gatehouse-edge-${VERSION}-${p}.tar.gz`)).size,
      debBytes: statSync(join(out, `gatehouse-edge_${VERSION.replace(/-/g, '~')}_${DEB_ARCH[p]}.deb`)).size,
    }));
    console.log(JSON.stringify({ release: VERSION, buildSeconds, sizes }));
    expect(existsSync(join(out, 'install.sh'))).toBe(true);
    const m = manifestOf(signedText);
    expect(m).toMatchObject({
      product: 'gatehouse-edge',
      version: VERSION,
      serial: SERIAL,
      channel: 'stable',
      node: '>=22 <23 || >=24 <25',
    });
    expect(m.notes ?? '').not.toMatch(/DEVELOPMENT/);
    expect(m.expiresAt - m.createdAt).toBe(90 * 86_400_000);
    expect(JSON.parse(signedText).kid).toBe(key.kid);
    for (const p of PLATFORMS) {
      const own = releaseFilesFor(m, p)
        .filter((f) => f.platform === p)
        .map((f) => f.path);
      // Each platform has its SQLite, epoll and serial port addons, for both Node majors where they are ABI-bound.
      expect(own.filter((f) => f.endsWith('better_sqlite3.node')).length).toBe(2);
      expect(own.filter((f) => f.endsWith('epoll.node')).length).toBe(2);
      expect(own.some((f) => f.includes(`prebuilds/${p}/`))).toBe(true);
      expect(own).toContain('agent/bin/gatehouse-gpio-cdev');
    }
  });

  it('the manifest verifies with verifyRelease against the release-keys.json the release ships', () => {
    const keys = JSON.parse(readFileSync(join(extract('linux-x64'), 'release-keys.json'), 'utf8')) as { keys: string[] };
    expect(keys.keys).toContain(key.publicKey);
    const v = verifyRelease(signedText, new KeyRing(keys.keys), { now: Date.now(), installedSerial: SERIAL - 1 });
    expect(v.ok).toBe(true);
    // ...and not against any other key, nor as a replay over itself.
    expect(verifyRelease(signedText, new KeyRing([generateKeyPair().publicKey]), { now: Date.now(), installedSerial: null })).toMatchObject(
      {
        ok: false,
        reason: 'unknown_key',
      },
    );
    expect(verifyRelease(signedText, new KeyRing(keys.keys), { now: Date.now(), installedSerial: SERIAL })).toMatchObject({
      ok: false,
      reason: 'rollback',
    });
  });

  it.each(PLATFORMS)(
    '%s: every file of the tarball is in the manifest with its hash and size, and every listed file is there',
    (platform) => {
      const dir = extract(platform);
      const m = manifestOf(signedText);
      expect(readFileSync(join(dir, 'release.json'), 'utf8')).toBe(signedText);
      const want = new Map(releaseFilesFor(m, platform).map((f) => [f.path, f]));
      const found = walk(dir).filter((p) => p !== 'release.json');
      for (const p of found) {
        const f = want.get(p);
        expect(f, `${p} is not in the manifest for ${platform}`).toBeDefined();
        const data = readFileSync(join(dir, p));
        expect({ p, size: data.length, sha256: createHash('sha256').update(data).digest('hex') }).toEqual({
          p,
          size: f?.size,
          sha256: f?.sha256,
        });
      }
      expect(found.sort()).toEqual([...want.keys()].sort());
      const other = PLATFORMS.find((p) => p !== platform)!;
      expect(found.some((p) => p.includes(other))).toBe(false);
      const addons = found.filter((p) => p.endsWith('.node'));
      const arch = platform === 'linux-x64' ? /x86-64/ : /aarch64/;
      for (const a of addons) expect(execFileSync('file', ['-b', join(dir, a)]).toString()).toMatch(arch);
    },
  );

  describe('installed by install.sh into a temp root, the x64 release runs', () => {
    const root = join(t.dir, 'root');
    let node22 = '';
    let daemon: ChildProcess | null = null;
    const env = () => ({ ...process.env, GATEHOUSE_EDGE_ROOT: root, GATEHOUSE_EDGE_NO_SYSTEM: '1', GATEHOUSE_EDGE_NODE: node22 });

    let node24 = '';
    // Fetched (and cached) by the build for its headers: the release's own Nodes, whatever this machine runs.
    const cachedNode = (major: number) => {
      const v = readdirSync(join(CACHE, 'node'))
        .filter((d) => d.startsWith(`${major}.`) && existsSync(join(CACHE, 'node', d, 'bin/node')))
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
        .at(-1);
      if (!v) throw new Error(`no Node ${major} in ${CACHE}/node: the build fetches it`);
      return join(CACHE, 'node', v, 'bin/node');
    };

    beforeAll(() => {
      node22 = cachedNode(22);
      node24 = cachedNode(24);
    });
    afterAll(() => {
      daemon?.kill('SIGKILL');
    });

    it.skipIf(process.arch !== 'x64')('install.sh checks the tarball, lays out releases/<v>, current, bin/gatehouse-edge', () => {
      const r = spawnSync('sh', [join(out, 'install.sh'), join(out, `gatehouse-edge-${VERSION}-linux-x64.tar.gz`)], {
        env: env(),
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(
        execFileSync('readlink', [join(root, 'current')])
          .toString()
          .trim(),
      ).toBe(`releases/${VERSION}`);
      expect(statSync(join(root, 'bin/gatehouse-edge')).mode & 0o111).toBeTruthy();
      expect(existsSync(join(root, 'bin/boot-guard.mjs'))).toBe(true);
    });

    it.skipIf(process.arch !== 'x64')(
      'install.sh refuses a tarball whose file does not match the manifest, and a Node it does not support',
      () => {
        const bad = join(t.dir, 'bad');
        mkdirSync(bad);
        execFileSync('tar', ['xzf', join(out, `gatehouse-edge-${VERSION}-linux-x64.tar.gz`), '-C', bad]);
        writeFileSync(join(bad, `gatehouse-edge-${VERSION}/agent/gatehouse-edge.mjs`), 'process.exit(0)\n');
        const tarball = join(t.dir, `gatehouse-edge-9.9.9-linux-x64.tar.gz`);
        execFileSync('tar', ['czf', tarball, '-C', bad, `gatehouse-edge-${VERSION}`]);
        const other = join(t.dir, 'other-root');
        const r = spawnSync('sh', [join(out, 'install.sh'), tarball], { env: { ...env(), GATEHOUSE_EDGE_ROOT: other }, encoding: 'utf8' });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/checksum mismatch: agent\/gatehouse-edge\.mjs[\s\S]*nothing installed/);
        expect(existsSync(other)).toBe(false);
        // This machine's node when it is not 22 or 24 (Node 20 here), else a stand-in reporting version 20.
        const fake = join(t.dir, 'node20');
        writeFileSync(fake, '#!/bin/sh\n[ "$1" = -p ] && echo 20 || echo v20.0.0\n');
        chmodSync(fake, 0o755);
        const old = spawnSync('sh', [join(out, 'install.sh'), tarball], { env: { ...env(), GATEHOUSE_EDGE_NODE: fake }, encoding: 'utf8' });
        expect(old.status).toBe(1);
        expect(old.stderr).toMatch(/runs on Node 22 or 24; v20\.0\.0 found/);
      },
    );

    it.skipIf(process.arch !== 'x64')(
      'the launcher runs the bundle: --help, boot-guard, `run` with simulated hardware answers /health on Node 22, `status` on Node 24',
      async () => {
        const launcher = join(root, 'bin/gatehouse-edge');
        const help = spawnSync(launcher, ['--help'], { env: env(), encoding: 'utf8' });
        expect(help.status).toBe(0);
        expect(help.stdout).toMatch(/usage: gatehouse-edge <command>/);
        expect(help.stderr).toBe('');

        const cfgDir = join(t.dir, 'cfg');
        mkdirSync(cfgDir);
        const config = join(cfgDir, 'config.json');
        writeFileSync(
          config,
          JSON.stringify({
            dataDir: join(t.dir, 'data'),
            localPort: 0,
            readers: [{ type: 'simulated', name: 'lobby', direction: 'in' }],
            relay: { type: 'simulated' },
          }),
        );
        const guard = spawnSync(launcher, ['boot-guard', '--config', config], { env: env(), encoding: 'utf8' });
        expect({ status: guard.status, stderr: guard.stderr }).toEqual({ status: 0, stderr: '' });

        daemon = spawn(launcher, ['run', '--config', config], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
        let port = 0;
        let logs = '';
        daemon.stdout?.on('data', (d: Buffer) => {
          logs += d.toString();
          const m = /"port":(\d+)[^\n]*"msg":"listening"/.exec(logs);
          if (m) port = Number(m[1]);
        });
        daemon.stderr?.on('data', (d: Buffer) => {
          logs += d.toString();
        });
        await until(() => port, "the daemon's listening line", 20_000).catch((e: Error) => {
          throw new Error(`${e.message}; its output:\n${logs}`);
        });
        const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { version: string; status: string };
        expect(health.version).toBe(VERSION);
        const exited = new Promise<number | null>((r) => daemon?.once('exit', (code) => r(code)));
        daemon.kill('SIGTERM');
        expect(await exited).toBe(0);
        daemon = null;

        // The same release on Node 24: `status` with the daemon stopped opens the store, so its SQLite addon
        // (the ABI 137 build beside Node 22's 127) loads and reads what the Node 22 run wrote.
        const st = spawnSync(launcher, ['status', '--config', config], {
          env: { ...env(), GATEHOUSE_EDGE_NODE: node24 },
          encoding: 'utf8',
        });
        expect({ status: st.status, stderr: st.stderr }).toEqual({ status: 0, stderr: '' });
        expect(JSON.parse(st.stdout)).toMatchObject({ running: false, outboxDepth: 0 });
      },
    );
  });

  it.each(PLATFORMS)('%s .deb: control fields, maintainer scripts, and the files it installs', (platform) => {
    const deb = join(out, `gatehouse-edge_${VERSION.replace(/-/g, '~')}_${DEB_ARCH[platform]}.deb`);
    const info = execFileSync('dpkg-deb', ['--info', deb]).toString();
    expect(info).toMatch(/Package: gatehouse-edge/);
    expect(info).toMatch(new RegExp(`Architecture: ${DEB_ARCH[platform]}`));
    expect(info).toMatch(/Depends: nodejs \(>= 22\)/);
    for (const s of ['postinst', 'prerm', 'postrm']) expect(info).toMatch(new RegExp(` ${s}\\b`));
    const postinst = execFileSync('dpkg-deb', ['--info', deb, 'postinst']).toString();
    expect(postinst).toMatch(/adduser --system --group --home \/var\/lib\/gatehouse-edge/);
    expect(postinst).toMatch(/systemctl enable gatehouse-edge\.service/);
    expect(postinst).toMatch(/if \[ -f \/etc\/gatehouse-edge\/config\.json \]/);
    expect(postinst).toMatch(new RegExp(`VERSION="${VERSION}"`));

    const contents = execFileSync('dpkg-deb', ['--contents', deb]).toString().trim().split('\n');
    const paths = contents.map((l) => l.split(/\s+/).at(-1)!);
    expect(contents.every((l) => l.includes('root/root'))).toBe(true);
    for (const p of [
      './usr/lib/gatehouse-edge/release/agent/gatehouse-edge.mjs',
      './usr/lib/gatehouse-edge/release/release.json',
      './opt/gatehouse-edge/bin/gatehouse-edge',
      './opt/gatehouse-edge/bin/boot-guard.mjs',
      './lib/systemd/system/gatehouse-edge.service',
    ])
      expect(paths).toContain(p);
    // releases/<v> is postinst's copy (the updater's, not dpkg's): no package file lies under it.
    expect(paths.some((p) => p.startsWith('./opt/gatehouse-edge/releases/'))).toBe(false);
    expect(postinst).toMatch(/cp -a "\$PKG_RELEASE" "\$ROOT\/releases\/\.\$VERSION\.dpkg-tmp"/);
    // The release tree in the package is exactly the platform's manifest files and release.json.
    const m = manifestOf(signedText);
    const prefix = './usr/lib/gatehouse-edge/release/';
    const inRelease = contents
      .filter((l) => l.startsWith('-'))
      .map((l) => l.split(/\s+/).at(-1)!)
      .filter((p) => p.startsWith(prefix));
    expect(inRelease.map((p) => p.slice(prefix.length)).sort()).toEqual(
      [...releaseFilesFor(m, platform).map((f) => f.path), 'release.json'].sort(),
    );
  });

  it('postinst copies the release to releases/<v> and switches the links; an upgrade keeps the old one as previous', () => {
    // The real script with its absolute paths moved into a temp dir; adduser, chown, install -o and systemctl are
    // stand-ins that only log (this machine's users, /etc and /var/lib stay untouched).
    const deb = join(out, `gatehouse-edge_${VERSION.replace(/-/g, '~')}_amd64.deb`);
    const sys = join(t.dir, 'sys');
    const bin = join(t.dir, 'stub-bin');
    mkdirSync(bin, { recursive: true });
    for (const cmd of ['getent', 'adduser', 'addgroup', 'chown', 'install', 'systemctl'])
      writeFileSync(join(bin, cmd), `#!/bin/sh\necho "${cmd} $*" >> "${join(t.dir, 'stub.log')}"\n`, { mode: 0o755 });
    execFileSync('dpkg-deb', ['-x', deb, sys]);
    const postinst = execFileSync('dpkg-deb', ['--info', deb, 'postinst'])
      .toString()
      .replaceAll('/opt/gatehouse-edge', join(sys, 'opt/gatehouse-edge'))
      .replaceAll('/usr/lib/gatehouse-edge', join(sys, 'usr/lib/gatehouse-edge'));
    const runPostinst = (script: string) =>
      spawnSync('sh', ['-c', script, 'postinst', 'configure'], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        encoding: 'utf8',
      });
    const root = join(sys, 'opt/gatehouse-edge');
    const link = (name: string) =>
      execFileSync('readlink', [join(root, name)])
        .toString()
        .trim();

    expect(runPostinst(postinst).status).toBe(0);
    expect(link('current')).toBe(`releases/${VERSION}`);
    expect(existsSync(join(root, 'previous'))).toBe(false);
    expect(readFileSync(join(root, 'current/release.json'), 'utf8')).toBe(signedText);
    const log = readFileSync(join(t.dir, 'stub.log'), 'utf8');
    expect(log).toMatch(/chown gatehouse:gatehouse .*opt\/gatehouse-edge .*opt\/gatehouse-edge\/releases/);

    // The next version of the package (same files, another version): the first stays, as previous.
    const next = postinst.replace(`VERSION="${VERSION}"`, 'VERSION="0.9.1"');
    expect(runPostinst(next).status).toBe(0);
    expect([link('current'), link('previous')]).toEqual(['releases/0.9.1', `releases/${VERSION}`]);
    expect(existsSync(join(root, `releases/${VERSION}`, 'agent/gatehouse-edge.mjs'))).toBe(true);
    // Installing the same version again changes no link.
    expect(runPostinst(next).status).toBe(0);
    expect([link('current'), link('previous')]).toEqual(['releases/0.9.1', `releases/${VERSION}`]);
  });

  it('the shell scripts parse (sh -n)', () => {
    const dir = extract('linux-x64');
    for (const f of ['share/install.sh', 'share/gatehouse-edge', 'share/deb/postinst', 'share/deb/prerm', 'share/deb/postrm'])
      expect(spawnSync('sh', ['-n', join(dir, f)], { encoding: 'utf8' }).stderr, f).toBe('');
  });

  describe('the release unit', () => {
    const unitText = () => readFileSync(join(extract('linux-x64'), 'share/gatehouse-edge.service'), 'utf8');

    it('runs the launcher, the boot guard before it, and may write /opt/gatehouse-edge', () => {
      const u = unitText();
      expect(u).toMatch(
        /^ExecStartPre=\/opt\/gatehouse-edge\/bin\/gatehouse-edge boot-guard --config \/etc\/gatehouse-edge\/config\.json$/m,
      );
      expect(u).toMatch(/^ExecStart=\/opt\/gatehouse-edge\/bin\/gatehouse-edge run --config \/etc\/gatehouse-edge\/config\.json$/m);
      expect(u).toMatch(/^ReadWritePaths=\/var\/lib\/gatehouse-edge \/opt\/gatehouse-edge$/m);
      expect(u).toMatch(/^ConditionPathExists=\/etc\/gatehouse-edge\/config\.json$/m);
      // The rest is the repository's hardened unit.
      for (const d of ['Type=notify', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'User=gatehouse', 'Restart=always'])
        expect(u).toMatch(new RegExp(`^${d}$`, 'm'));
    });

    it.skipIf(!hasAnalyze)('passes systemd-analyze verify without a warning', () => {
      // verify needs the binaries to exist: point the copy at the launcher of the extracted release.
      const file = join(t.dir, 'gatehouse-edge.service');
      writeFileSync(
        file,
        unitText().replaceAll('/opt/gatehouse-edge/bin/gatehouse-edge', join(extract('linux-x64'), 'share/gatehouse-edge')),
      );
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      expect({ status: r.status, stderr: r.stderr.trim() }).toEqual({ status: 0, stderr: '' });
    });
  });
});
