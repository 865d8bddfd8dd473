import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh temp dir per test; removed by the returned cleanup. A child process a test just stopped (a GPIO helper,
 * a daemon) may still be writing its last file there, so the removal is retried on ENOTEMPTY / EBUSY (it failed
 * once in CI: "ENOTEMPTY: directory not empty, rmdir").
 */
export function tempDir(prefix = 'gh-edge-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }) };
}
