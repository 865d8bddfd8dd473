/**
 * `gatehouse-edge boot-guard`: run before every start of the agent (the
 * unit's ExecStartPre, the test supervisor). A release on trial that keeps
 * failing never reaches its own health check, so the count of its starts is
 * kept here, outside it: past the limit `current` goes back to the release
 * the update started from and the state says why. Tiny and fast, and only
 * node:fs: it must work when the release it guards cannot even load.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DEFAULT_BOOT_LIMIT, linkTarget, logLine, onTrial, readState, rollBackLinks, writeState } from './state.js';

export interface BootGuardResult {
  action: 'none' | 'counted' | 'rolled_back';
  boots?: number;
  detail?: string;
}

export function bootGuard(dataDir: string, limit = DEFAULT_BOOT_LIMIT, now = Date.now()): BootGuardResult {
  const s = readState(dataDir);
  if (!s || !onTrial(s)) return { action: 'none' };
  // Only the release on trial is counted: after a manual switch back, nothing is rolled back behind the operator.
  if (s.to && linkTarget(s.installRoot, 'current') !== s.to.dir) return { action: 'none' };
  const boots = s.boots + 1;
  if (boots <= limit) {
    writeState(dataDir, { ...s, boots, ts: now });
    return { action: 'counted', boots };
  }
  const detail = `crash loop: ${s.version} started ${boots - 1} times without passing its health check (limit ${limit})`;
  const back = rollBackLinks(s.installRoot, s);
  if (!back) {
    writeState(dataDir, logLine({ ...s, boots, phase: 'failed', detail: `${detail}; no previous release to go back to` }, detail, now));
    return { action: 'none', boots, detail };
  }
  writeState(dataDir, logLine({ ...s, boots, phase: 'rolled_back', detail }, `${detail}; current -> ${back}`, now));
  return { action: 'rolled_back', boots, detail };
}

/** The data dir from the agent's config file, read as plain JSON (no schema: the guard must not need the release's modules). */
export function dataDirOf(configFile: string): string {
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as { dataDir?: unknown; update?: { bootLimit?: unknown } };
  if (typeof cfg.dataDir !== 'string' || !cfg.dataDir) throw new Error(`${configFile}: no dataDir`);
  return cfg.dataDir;
}

export function bootLimitOf(configFile: string): number {
  try {
    const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as { update?: { bootLimit?: unknown } };
    const n = cfg.update?.bootLimit;
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : DEFAULT_BOOT_LIMIT;
  } catch {
    return DEFAULT_BOOT_LIMIT;
  }
}

/** The command: prints what it did; never fails the start (a broken guard must not keep the doors' agent down). */
export function bootGuardMain(configFile: string): void {
  try {
    const r = bootGuard(dataDirOf(configFile), bootLimitOf(configFile));
    if (r.action === 'rolled_back') process.stderr.write(`gatehouse-edge boot-guard: ${r.detail}; switched back to the previous release\n`);
    else if (r.action === 'counted') process.stderr.write(`gatehouse-edge boot-guard: start ${r.boots} of the release on trial\n`);
    else if (r.detail) process.stderr.write(`gatehouse-edge boot-guard: ${r.detail}\n`);
  } catch (e) {
    process.stderr.write(`gatehouse-edge boot-guard: ${(e as Error).message}\n`);
  }
}

/**
 * Runnable on its own (`node boot-guard.mjs --config F`): the launcher guards a release whose bundle cannot load.
 * Only under its own file name: inlined into the agent's bundle, `import.meta.url === argv[1]` holds there too,
 * and the guard must not run (and count a boot) a second time inside the agent.
 */
const main = process.argv[1];
if (main && /(^|[\\/])boot-guard\.(mjs|js|ts)$/.test(main) && import.meta.url === pathToFileURL(main).href) {
  const i = process.argv.indexOf('--config');
  bootGuardMain(
    i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : (process.env.GATEHOUSE_EDGE_CONFIG ?? '/etc/gatehouse-edge/config.json'),
  );
}
