/**
 * WAL checkpoints on a worker thread with its own connection, so the fsync
 * that ends the power-loss window never runs inside a scan. The scan
 * connection sets wal_autocheckpoint=0 while this runs (otherwise the commit
 * that crosses 1000 WAL pages would checkpoint — and fsync — on the scan
 * path); if the worker dies, the caller turns auto-checkpoints back on.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
const tick = () => {
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ type: 'checkpoint', busy: r.busy, log: r.log, checkpointed: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: String((e && e.message) || e) });
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'now') return tick();
  if (m !== 'stop') return;
  clearInterval(timer);
  tick();
  db.close();
  parentPort.postMessage({ type: 'stopped' });
  parentPort.close();
});
`;

export interface CheckpointStats {
  checkpoints: number;
  lastLogPages: number;
  lastError: string | null;
}

export class Checkpointer {
  readonly #worker: Worker;
  readonly stats: CheckpointStats = { checkpoints: 0, lastLogPages: 0, lastError: null };
  #stopped = false;

  constructor(file: string, intervalMs: number, onDeath: (err: Error) => void) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(SOURCE, { eval: true, workerData: { file, intervalMs, module } });
    this.#worker.unref();
    this.#worker.on('message', (m: { type: string; log?: number; message?: string }) => {
      if (m.type === 'checkpoint') {
        this.stats.checkpoints++;
        this.stats.lastLogPages = m.log ?? 0;
      } else if (m.type === 'error') this.stats.lastError = m.message ?? 'error';
    });
    this.#worker.on('error', (e) => {
      if (!this.#stopped) onDeath(e);
    });
    this.#worker.on('exit', (code) => {
      if (!this.#stopped) onDeath(new Error(`checkpointer exited with code ${code}`));
    });
  }

  /** One checkpoint now, without waiting for the interval (tests, and before a planned power-off). */
  checkpointNow(): void {
    if (!this.#stopped) this.#worker.postMessage('now');
  }

  /** Final checkpoint, then the worker ends. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      this.#worker.once('exit', done);
      this.#worker.on('message', (m: { type: string }) => {
        if (m.type === 'stopped') void this.#worker.terminate().then(done, done);
      });
      this.#worker.postMessage('stop');
    });
  }
}
