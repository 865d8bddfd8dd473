/** Real processes for the integration tests: socat pty pairs and the daemon as a child process. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLocalToken } from '../src/local-token.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(REPO, 'edge-agent/src/cli.ts');

export const hasSocat = spawnSync('socat', ['-V']).status === 0;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(fn: () => T | Promise<T>, what: string, ms = 8000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(25);
  }
}

/** A pty pair: the daemon opens `a`, the test writes scans into `b`. */
export class PtyPair {
  proc: ChildProcess | null = null;
  constructor(
    readonly a: string,
    readonly b: string,
  ) {}

  async start(): Promise<void> {
    this.proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc.stderr?.resume();
    await until(() => existsSync(this.a) && existsSync(this.b), 'socat ptys');
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await gone;
  }
}

export interface DaemonProc {
  proc: ChildProcess;
  port: number;
  logs: string[];
  get(path: string): Promise<unknown>;
  post(path: string, body?: unknown): Promise<unknown>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `gatehouse-edge run` from the TypeScript sources (tsx, source condition) and waits for its port. */
export async function startDaemon(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<DaemonProc> {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, 'run', '--config', configFile], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let buf = '';
  let port = 0;
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      logs.push(line);
      try {
        const o = JSON.parse(line) as { msg?: string; port?: number };
        if (o.msg === 'listening' && o.port) port = o.port;
      } catch {}
      i = buf.indexOf('\n');
    }
  });
  proc.stderr?.on('data', (d: Buffer) => logs.push(`stderr: ${d.toString()}`));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await Promise.race([
    until(() => port, 'daemon port', 20_000),
    exited.then((code) => {
      throw new Error(`daemon exited ${code}: ${logs.join('\n')}`);
    }),
  ]);
  // The local API wants the token the daemon keeps in its data dir, and JSON on a POST.
  const { dataDir } = JSON.parse(readFileSync(configFile, 'utf8')) as { dataDir: string };
  const req = async (method: string, path: string, body?: unknown) => {
    const token = readLocalToken(dataDir);
    if ('error' in token) throw new Error(token.error);
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token.token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
    });
    return (await res.json()) as unknown;
  };
  return {
    proc,
    port,
    logs,
    get: (p) => req('GET', p),
    post: (p, b) => req('POST', p, b),
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}

export function writeConfig(dir: string, cfg: object): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg));
  return file;
}
