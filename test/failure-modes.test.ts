/**
 * docs/failure-modes.md promises that every row points at a test that runs in CI. This keeps the promise
 * checkable: each row's test column names files that exist, and each quoted test name (up to its "…")
 * is found in the file named before it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const doc = readFileSync(join(ROOT, 'docs/failure-modes.md'), 'utf8');

/** The test column (the last cell) of every table row that is not a header or a rule. */
const rows = doc
  .split('\n')
  .filter((l) => l.startsWith('| ') && !l.startsWith('| part') && !l.startsWith('|---'))
  .map((l) => {
    const cells = l.split(' | ');
    return { part: cells[0]?.slice(2) ?? '', test: (cells.at(-1) ?? '').replace(/ \|$/, '') };
  });

/** A file name in backticks resolves from the repository root, or from the package a bare name belongs to. */
function resolve(name: string, last: string | null): string | null {
  for (const base of ['', 'cloud-api/test/', 'edge-agent/test/', 'test/']) {
    if (existsSync(join(ROOT, base, name))) return join(ROOT, base, name);
  }
  if (last && existsSync(join(last, '..', name))) return join(last, '..', name);
  return null;
}

describe('docs/failure-modes.md', () => {
  it('has rows for controllers, the broker, the cloud and PostgreSQL, and the other dependencies', () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
    for (const part of ['controller', 'broker', 'PostgreSQL', 'sync', 'OpenID provider', 'SMTP', 'webhook receiver', 'cloud process'])
      expect(rows.map((r) => r.part)).toContain(part);
  });

  it.each(rows.map((r) => [`${r.part}: ${r.test.slice(0, 80)}`, r] as const))('%s — its tests exist', (_n, r) => {
    const refs = [...r.test.matchAll(/`([\w./-]+\.test\.ts)`(?: › "([^"]+)")?/g)];
    expect(refs.length, 'a row names at least one test file').toBeGreaterThan(0);
    let last: string | null = null;
    for (const [, file, name] of refs) {
      const path = resolve(file ?? '', last);
      expect(path, `${file} exists`).not.toBeNull();
      last = path;
      if (name) {
        // Names are quoted up to an ellipsis or a template part; the quoted start must be in the file.
        const start = (name.split('…')[0] ?? '').split(' +5m')[0]?.trim() ?? '';
        expect(readFileSync(path ?? '', 'utf8'), `"${start}" in ${file}`).toContain(start);
      }
    }
  });
});
