import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * A fresh temp dir per test; removed by the returned cleanup. A child process a test just stopped (a GPIO helper
 * writing its last log line, a daemon) can create a file while the removal runs: rmdir then fails with ENOTEMPTY.
 * rmSync's own maxRetries does not help there (it retries the final rmdir only, not the children), so the whole
 * removal is tried again.
 */
export function tempDir(prefix = 'gh-edge-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const cleanup = () => {
    for (let attempt = 1; ; attempt++) {
      try {
        rmSync(dir, { recursive: true, force: true });
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (attempt >= 20 || (code !== 'ENOTEMPTY' && code !== 'EBUSY')) throw e;
        pause(50);
      }
    }
  };
  return { dir, cleanup };
}
