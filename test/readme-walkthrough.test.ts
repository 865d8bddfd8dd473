/**
 * README.md's walk-through is run as written: the whole system is started the
 * way `npm start` starts it (scripts/start.ts, a temp GATEHOUSE_DATA, free
 * ports), the walk-through's shell block runs verbatim with bash (only `API`
 * and `GATEHOUSE_DATA` come from the environment, as the README says), and
 * every outcome it promises is checked against what the commands printed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');

/** The ```sh blocks under the "Walk-through" heading, up to the next heading (outside code). */
function walkthroughBlocks(readme: string): string[] {
  const blocks: string[] = [];
  let inSection = false;
  let block: string[] | null = null;
  let fenced = false;
  for (const line of readme.split('\n')) {
    if (line.startsWith('```')) {
      if (fenced && block) blocks.push(block.join('\n'));
      block = !fenced && inSection && line.trim() === '```sh' ? [] : null;
      fenced = !fenced;
    } else if (fenced) block?.push(line);
    else if (/^#+ /.test(line)) inSection = /^#+ Walk-through/.test(line);
  }
  if (blocks.length === 0) throw new Error('README.md has no sh block under a Walk-through heading');
  return blocks;
}

interface ScanOut {
  debounced: boolean;
  event: { allow: boolean; reason: string; passId: string | null } | null;
}

describe('README walk-through', () => {
  let system: ChildProcess | null = null;
  let dataDir = '';
  let api = '';
  let output = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gh-readme-'));
    const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_DATA: dataDir, PORT: String(await freePort()) };
    // The walk-through is about `npm start`'s embedded defaults, whatever the suite runs against.
    delete env.DATABASE_URL;
    delete env.MQTT_URL;
    delete env.MOSQUITTO_DIR;
    delete env.PUBLIC_URL;
    env.MQTT_PORT = String(await freePort());
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), ['--conditions=source', 'scripts/start.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    system = child;
    let log = '';
    child.stdout?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${log}`))),
    );
    exited.catch(() => {});
    const url = await Promise.race([
      until(() => /console\s+(http:\/\/\S+?)\/\s/.exec(log)?.[1], `npm start to print its URL:\n${log}`, 120_000),
      exited,
    ]);
    api = url;

    const script = walkthroughBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8')).join('\n');
    const r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: ROOT,
      env: { ...env, API: api },
      encoding: 'utf8',
      timeout: 120_000,
    });
    output = r.stdout;
    if (r.status !== 0) throw new Error(`walk-through failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }, 300_000);

  afterAll(async () => {
    if (system && system.exitCode === null) {
      const gone = new Promise((r) => system?.once('exit', r));
      system.kill('SIGTERM');
      await gone;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const printed = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const scans = () => printed().filter((o): o is ScanOut & Record<string, unknown> => 'debounced' in o);

  it('the block needs nothing but API and GATEHOUSE_DATA from the environment', () => {
    const script = walkthroughBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8')).join('\n');
    expect(script).toContain('$' + '{API:-http://127.0.0.1:8080}');
    expect(script).toContain('$' + '{GATEHOUSE_DATA:-.data}');
  });

  it('scans the QR: allowed, reason "ok"; the same code again: denied, reason "replay"', () => {
    const [first, second] = scans();
    expect(first).toMatchObject({ debounced: false, event: { allow: true, reason: 'ok' } });
    expect(second).toMatchObject({ debounced: false, event: { allow: false, reason: 'replay' } });
  });

  it('the cloud has received both attempts over MQTT', () => {
    const list = printed().find((o) => Array.isArray(o.items)) as { items: { allow: boolean; reason: string }[] } | undefined;
    expect(list?.items.map((c) => [c.allow, c.reason]).sort()).toEqual([
      [false, 'replay'],
      [true, 'ok'],
    ]);
  });

  it('the printed badge of a pass that has just entered is denied "passback"; once revoked, "revoked"', () => {
    const [, , badge, revoked] = scans();
    expect(badge).toMatchObject({ debounced: false, event: { allow: false, reason: 'passback' } });
    expect(revoked).toMatchObject({ debounced: false, event: { allow: false, reason: 'revoked' } });
  });

  it('a host invites a guest: the invitation (with invite.ics) is in the development mailbox, the link alone yields no credential, the mailed code does; the scan admits the guest and the host is told', () => {
    const invitation = printed().find((o) => 'attachments' in o) as { subject: string; attachments: string[] } | undefined;
    expect(invitation?.subject).toMatch(/^Your visit to Demo Org/);
    expect(invitation?.attachments).toContain('invite.ics');
    expect(printed().find((o) => 'payload' in o)).toEqual({ payload: null });
    expect(printed().find((o) => 'sentTo' in o)?.sentTo).toMatch(/^o\*\*\*@/);
    const [, , , , guest] = scans();
    expect(guest).toMatchObject({ debounced: false, event: { allow: true, reason: 'ok' } });
    expect(scans()).toHaveLength(9);
    expect(printed().find((o) => 'arrival' in o)).toEqual({ arrival: 'Oleg Sokolov has arrived' });
  });

  it("an integrator's sandbox application: its key sees only the sandbox, lacks what its scopes do not name, issues a pass the simulated gate admits, and its calls are counted", () => {
    expect(printed().find((o) => 'gates' in o)).toEqual({ gates: ['Simulated gate'] });
    expect(printed().find((o) => 'users' in o)).toEqual({ users: 403 });
    expect(printed().find((o) => 'allow' in o && 'reason' in o && !('debounced' in o))).toEqual({ allow: true, reason: 'ok' });
    const usage = printed().find((o) => 'usage' in o)?.usage as { calls: number; errors: number }[] | undefined;
    // gates, users (403), rules, visitor, pass, scan: six calls, one refused.
    expect(usage?.at(-1)).toMatchObject({ calls: 6, errors: 1 });
  });

  it("the guard's side: the entered pass is in the muster; in again is passback until a guard forgives it; a site lockdown locks the gate", () => {
    const inside = printed().find((o) => 'inside' in o)?.inside as string[] | undefined;
    expect(inside).toContain('Anna Smirnova');
    const [, , , , , entered, again, forgiven, locked] = scans();
    expect(entered).toMatchObject({ debounced: false, event: { allow: true, reason: 'ok', counted: true } });
    expect(again).toMatchObject({ debounced: false, event: { allow: false, reason: 'passback' } });
    expect(forgiven).toMatchObject({ debounced: false, event: { allow: true, reason: 'ok' } });
    expect(printed().find((o) => 'mode' in o)).toEqual({ mode: 'lockdown', gates: ['sent'] });
    expect(locked).toMatchObject({ debounced: false, event: { allow: false, reason: 'lockdown' } });
  });
});
