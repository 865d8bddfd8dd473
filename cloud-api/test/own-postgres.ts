/**
 * A PostgreSQL cluster a test creates for itself (initdb on a free port), so it can
 * be stopped, killed and started without touching the machine's own server. As root
 * (CI) the cluster belongs to the postgres user: PostgreSQL refuses to run as root.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPostgres } from './helpers.js';

const BIN = '/usr/lib/postgresql/15/bin';

/** On the PostgreSQL phase of CI, where the server binaries are installed. */
export const ownPostgresAvailable = onPostgres && existsSync(join(BIN, 'initdb'));

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function pgCommand(bin: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const cmd = asRoot ? 'runuser' : join(BIN, bin);
  const argv = asRoot ? ['-u', 'postgres', '--', join(BIN, bin), ...args] : args;
  execFileSync(cmd, argv, { stdio: 'pipe', timeout: 60_000 });
}

export interface OwnPostgres {
  port: number;
  /** The cluster's `postgres` database. */
  url: string;
  start(): void;
  /** `pg_ctl stop -m immediate`: the server dies as if killed, without a clean shutdown. */
  kill(): void;
  /** Stops the server if it runs and deletes the cluster. */
  remove(): void;
}

/** Creates the cluster (initdb) without starting it. */
export async function ownPostgres(tag: string): Promise<OwnPostgres> {
  const dir = mkdtempSync(join(tmpdir(), `gh-${tag}-pg-`));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    chmodSync(dir, 0o777);
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  }
  const port = await freePort();
  pgCommand('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const kill = () => pgCommand('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () =>
      pgCommand('pg_ctl', [
        '-D',
        data,
        '-l',
        join(dir, 'log'),
        '-w',
        '-t',
        '30',
        '-o',
        // fsync off only: a killed server (not a crashed OS) keeps what it wrote; synchronous_commit stays on, or acked commits would be lost.
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
        'start',
      ]),
    kill,
    remove: () => {
      try {
        kill();
      } catch {
        // not running
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
