/**
 * systemd/gatehouse-edge.service. `systemd-analyze verify` needs the ExecStart
 * binary to exist, and /usr/local/bin/gatehouse-edge only exists after a global
 * install, so the check runs on a copy pointing at this repo's bin shim.
 * CI: `apt-get install systemd` provides systemd-analyze (Debian/Ubuntu);
 * where it is missing the verify tests are skipped, the directive checks still run.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './harness.js';
import { tempDir } from './tmp.js';

const UNIT = join(REPO, 'systemd/gatehouse-edge.service');
const text = readFileSync(UNIT, 'utf8');
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

function directives(unit: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('[')) continue;
    const i = line.indexOf('=');
    const k = line.slice(0, i);
    m.set(k, [...(m.get(k) ?? []), line.slice(i + 1)]);
  }
  return m;
}

function verifyCopy(unit: string): { status: number | null; stderr: string } {
  const t = tempDir();
  try {
    const file = join(t.dir, 'gatehouse-edge.service');
    writeFileSync(file, unit.replace('/usr/local/bin/gatehouse-edge', join(REPO, 'edge-agent/bin/gatehouse-edge.js')));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr.trim() };
  } finally {
    t.cleanup();
  }
}

describe('systemd unit', () => {
  it('is a notify service with watchdog, always restarted, as a dedicated user, sandboxed', () => {
    const d = directives(text);
    const one = (k: string) => d.get(k)?.[0];
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('all');
    expect(Number(one('WatchdogSec'))).toBeGreaterThan(0);
    expect(one('Restart')).toBe('always');
    expect(one('User')).toBe('gatehouse');
    expect(one('SupplementaryGroups')?.split(/\s+/).sort()).toEqual(['dialout', 'gpio']);
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths')).toBe('/var/lib/gatehouse-edge');
    for (const k of ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome']) expect(one(k)).toBe('yes');
    expect(d.has('ProtectKernelTunables')).toBe(false); // would make /sys/class/gpio read-only
    expect(one('ExecStart')).toMatch(/gatehouse-edge run --config /);
  });

  it.skipIf(!hasAnalyze)('passes systemd-analyze verify without a warning', () => {
    expect(verifyCopy(text)).toEqual({ status: 0, stderr: '' });
  });

  it.skipIf(!hasAnalyze)('the verify check does catch a broken unit', () => {
    expect(verifyCopy(text.replace('Type=notify', 'Type=notfy')).stderr).toMatch(/Failed to parse service type/);
  });
});
