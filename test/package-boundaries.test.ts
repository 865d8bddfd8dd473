/**
 * The lint rule that keeps packages apart (biome.json `overrides`,
 * `noRestrictedImports`): a relative import may not leave its top-level
 * folder, nor the console its own. Probe files with forbidden and allowed
 * imports are linted with the repository's biome.json in a temp copy of the
 * layout, so the rule cannot silently stop working; and every source file
 * must sit at a depth the overrides cover.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const BIOME = join(REPO, 'node_modules/.bin/biome');

/** [file, import specifier, refused?] */
const PROBES: [string, string, boolean][] = [
  ['test/probe.ts', '../cloud-api/src/app.js', true],
  ['test/probe-ok.ts', './harness.js', false],
  ['test/probe-export.ts', '../protocol/src/index.js', true],
  ['bench/probe.ts', '../edge-agent/test/tmp.js', true],
  ['scripts/probe.ts', '../cloud-api/src/demo.js', true],
  ['protocol/src/probe.ts', '../../edge-agent/src/index.js', true],
  ['protocol/src/probe-ok.ts', '../test-vectors/x.json', false],
  ['edge-agent/test/probe.ts', '../../cloud-api/src/mqtt/embedded-broker.js', true],
  ['edge-agent/test/probe-ok.ts', '../src/daemon.js', false],
  ['cloud-api/src/modules/gates/probe.ts', '../../../../protocol/src/topics.js', true],
  ['cloud-api/src/modules/gates/probe-ok.ts', '../../db/schema.js', false],
  ['cloud-api/test/browser/probe.ts', '../../../test/harness.js', true],
  ['cloud-api/test/browser/probe-ok.ts', '../../src/app.js', false],
  ['cloud-api/test/browser/probe-console-ok.ts', '../../console/src/lib/totp.ts', false],
  ['cloud-api/console/src/lib/probe.ts', '../../../../protocol/src/reasons.ts', true],
  ['cloud-api/console/src/lib/probe-server.ts', '../../../src/auth/rbac.ts', true],
  ['cloud-api/console/src/screens/passes/probe.tsx', '../../../../src/auth/rbac.ts', true],
  ['cloud-api/console/src/screens/passes/probe-ok.tsx', '../../lib/api.ts', false],
];

const dir = mkdtempSync(join(tmpdir(), 'gh-boundaries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('package boundaries lint rule', () => {
  it('refuses relative imports out of a package (or the console) and allows those inside', () => {
    copyFileSync(join(REPO, 'biome.json'), join(dir, 'biome.json'));
    for (const [file, spec] of PROBES) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      const body = file.includes('export')
        ? `export { x } from '${spec}';\n`
        : `import { x } from '${spec}';\n\nexport const y = await import('${spec}');\nexport { x };\n`;
      writeFileSync(join(dir, file), body);
    }
    const r = spawnSync(BIOME, ['lint', '--reporter=github', '--max-diagnostics=none', '.'], { cwd: dir, encoding: 'utf8' });
    const refused = new Set<string>();
    for (const line of r.stdout.split('\n')) {
      const m = /^::error title=lint\/style\/noRestrictedImports,file=([^,]+),/.exec(line);
      if (m?.[1]) refused.add(m[1].slice(dir.length).replace(/^\/+/, ''));
    }
    const expected = PROBES.filter(([, , bad]) => bad).map(([file]) => file);
    expect([...refused].sort(), r.stdout + r.stderr).toEqual(expected.sort());
    expect(r.status).not.toBe(0);
  });

  it('covers the depth of every source file in the repository', () => {
    const config = JSON.parse(readFileSync(join(REPO, 'biome.json'), 'utf8')) as { overrides: { includes: string[] }[] };
    const patterns = config.overrides.flatMap((o) => o.includes);
    const depths = (prefix: string) =>
      new Set(patterns.filter((p) => p.startsWith(prefix) && /^(\*\/)*\*$/.test(p.slice(prefix.length))).map((p) => p.split('/').length));
    const anywhere = depths('');
    const console = depths('cloud-api/console/');
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' })
      .split('\n')
      .filter((f) => /\.(ts|tsx|js|mjs|cjs|jsx)$/.test(f) && f.includes('/'));
    const uncovered = files.filter((f) => {
      const n = f.split('/').length;
      return f.startsWith('cloud-api/console/') ? !console.has(n) : !anywhere.has(n);
    });
    expect(uncovered, 'add overrides for deeper folders in biome.json').toEqual([]);
  });
});
