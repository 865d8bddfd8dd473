/**
 * A stand-in for systemd where it cannot be PID 1 (tests, the update bench,
 * the fleet e2e): runs `<installRoot>/current/<entry> run` the way the unit
 * does (Restart=always, RestartSec), running boot-guard before every start
 * like the unit's ExecStartPre. The entry is read from current/release.json
 * at each start, so a switched `current` is what the next start runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BootGuardResult, bootGuard } from '../src/update/boot-guard.js';
import { linkTarget } from '../src/update/state.js';
import { REPO, until } from './harness.js';

export interface SupervisorOptions {
  installRoot: string;
  configFile: string;
  dataDir: string;
  /** systemd's RestartSec (its default is 100 ms). */
  restartDelayMs?: number;
  bootLimit?: number;
  env?: NodeJS.ProcessEnv;
  /** Node options before the entry: the tsx loader for a release of TypeScript sources (default), none for a bundle. */
  nodeArgs?: string[];
  /** Every stdout/stderr line of every start. */
  onLine?: (line: string, start: number) => void;
}

export interface Start {
  n: number;
  at: number;
  release: string | null;
  guard: BootGuardResult;
  pid?: number;
  /** When the daemon logged `listening` (its local API is up). */
  listeningAt?: number;
  port?: number;
  exit?: { at: number; code: number | null; signal: NodeJS.Signals | null };
}

/** The entry of the release `current` points at, from its signed release.json (or a bare manifest). */
export function currentEntry(installRoot: string): string {
  const raw = JSON.parse(readFileSync(join(installRoot, 'current', 'release.json'), 'utf8')) as { payload?: string; entry?: string };
  const m = (raw.payload ? JSON.parse(Buffer.from(raw.payload, 'base64').toString('utf8')) : raw) as { entry: string };
  return join(installRoot, 'current', m.entry);
}

export class Supervisor {
  readonly starts: Start[] = [];
  readonly logs: string[] = [];
  #proc: ChildProcess | null = null;
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(readonly o: SupervisorOptions) {}

  get current(): Start | undefined {
    return this.starts[this.starts.length - 1];
  }

  get proc(): ChildProcess | null {
    return this.#proc;
  }

  start(): void {
    if (this.#stopped) return;
    const guard = bootGuard(this.o.dataDir, this.o.bootLimit);
    const s: Start = { n: this.starts.length + 1, at: Date.now(), release: linkTarget(this.o.installRoot, 'current'), guard };
    this.starts.push(s);
    let entry: string;
    try {
      entry = currentEntry(this.o.installRoot);
    } catch (e) {
      this.logs.push(`supervisor: no entry: ${(e as Error).message}`);
      s.exit = { at: Date.now(), code: null, signal: null };
      this.#schedule();
      return;
    }
    const proc = spawn(
      process.execPath,
      [...(this.o.nodeArgs ?? ['--conditions=source', '--import', 'tsx']), entry, 'run', '--config', this.o.configFile],
      {
        cwd: REPO,
        env: { ...process.env, ...this.o.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.#proc = proc;
    if (proc.pid !== undefined) s.pid = proc.pid;
    const lines = (prefix: string) => {
      let buf = '';
      return (d: Buffer) => {
        buf += d.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          this.logs.push(`${prefix}${line}`);
          this.o.onLine?.(line, s.n);
          if (!s.listeningAt && line.includes('"msg":"listening"')) {
            s.listeningAt = Date.now();
            const port = (JSON.parse(line) as { port?: number }).port;
            if (port) s.port = port;
          }
        }
      };
    };
    proc.stdout?.on('data', lines(`[${s.n}] `));
    proc.stderr?.on('data', lines(`[${s.n}] stderr: `));
    proc.once('exit', (code, signal) => {
      s.exit = { at: Date.now(), code, signal };
      if (this.#proc === proc) this.#proc = null;
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.start(), this.o.restartDelayMs ?? 100);
  }

  /** Waits for a start that satisfies `pred` (e.g. the one on a given release that is listening). */
  waitFor(pred: (s: Start) => boolean, what: string, ms = 30_000): Promise<Start> {
    return until(() => this.starts.find(pred), what, ms);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const p = this.#proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}
