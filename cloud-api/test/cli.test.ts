import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../src/lib/crypto.js';
import { freshDatabase, type TestDb } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const children: ChildProcess[] = [];

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: 'pipe',
    });
    children.push(p);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('gatehouse-cloud CLI', () => {
  let db: TestDb | null = null;
  let env: NodeJS.ProcessEnv;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
    env = { GATEHOUSE_DATA: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '' };
    if (process.env.DATABASE_URL) {
      db = await freshDatabase();
      // The CLI migrates on its own; only the empty database is borrowed.
      await db.database.close();
      env.DATABASE_URL = db.url!;
    }
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (db) {
      const pg = (await import('pg')).default;
      const base = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await base.connect();
      await base.query(`DROP DATABASE IF EXISTS ${new URL(db.url!).pathname.slice(1)} WITH (FORCE)`);
      await base.end();
    }
  });

  it('refuses a bad configuration with a clear message and exit code 2', async () => {
    const r = await run(['migrate'], { ...env, PORT: 'http' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/configuration error: PORT must be a port number/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('migrate, create-admin (org made once), then serve --demo answers a login and stops on SIGTERM', async () => {
    const m = await run(['migrate'], env);
    expect(m.code, m.stderr).toBe(0);
    const a = await run(['create-admin', '--org', 'CLI Org', '--email', 'boss@cli.test', '--password', 'longenough'], env);
    expect(a.code, a.stderr).toBe(0);
    const made = JSON.parse(a.stdout);
    expect(made).toMatchObject({ organization: { name: 'CLI Org', created: true }, user: { email: 'boss@cli.test', roles: ['OrgAdmin'] } });
    const b = await run(['create-admin', '--org', 'CLI Org', '--email', 'root@cli.test', '--password', 'longenough', '--platform'], env);
    expect(JSON.parse(b.stdout)).toMatchObject({
      organization: { id: made.organization.id, created: false },
      user: { roles: ['PlatformAdmin'] },
    });
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, 'serve', '--demo'], {
      // Free ports for HTTP and the embedded broker: a real broker may already hold 1883.
      env: { ...process.env, ...env, PORT: '0', MQTT_PORT: '0', MQTT_URL: '' },
      stdio: 'pipe',
    });
    children.push(p);
    let out = '';
    p.stderr.on('data', (d) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 50_000);
      p.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited (${code}) before listening: ${out}`));
      });
      p.stdout.on('data', (d) => {
        out += d;
        const m = /Gatehouse cloud: (\S+)/.exec(out);
        if (m && /demo login: (\S+) \/ (\S+)/.test(out)) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const [, email, password] = /demo login: (\S+) \/ (\S+)/.exec(out)!;
    const res = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect(res.status).toBe(200);
    const { accessToken } = (await res.json()) as { accessToken: string };
    const gates = await fetch(`${url}/api/admin/gates`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(((await gates.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
    const exit = new Promise<number | null>((r) => p.on('close', r));
    p.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 120_000);

  it('mosquitto-config --out DIR writes a dynamic-security setup that a stock mosquitto runs, the cloud logging in with its own login', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    const out = mkdtempSync(join(tmpdir(), 'gh-cli-mosq-'));
    const mqttUrl = `mqtt://gatehouse-cloud:cli-test-secret@127.0.0.1:${port}`;
    const r = await run(['mosquitto-config', '--out', out], { ...env, MQTT_URL: mqttUrl });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mosquitto\.conf and dynamic-security\.json/);
    const conf = readFileSync(join(out, 'mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/^plugin \S+mosquitto_dynamic_security\.so$/m);
    expect(conf).toContain(`plugin_opt_config_file ${join(out, 'dynamic-security.json')}`);
    const dynsec = JSON.parse(readFileSync(join(out, 'dynamic-security.json'), 'utf8')) as {
      clients: { username: string; roles: { rolename: string }[] }[];
      defaultACLAccess: Record<string, boolean>;
    };
    expect(dynsec.clients).toContainEqual(
      expect.objectContaining({ username: 'gatehouse-cloud', roles: [{ rolename: 'gatehouse-cloud' }] }),
    );
    expect(dynsec.defaultACLAccess).toMatchObject({ publishClientSend: false, subscribe: false });
    // Running as root, mosquitto would switch to its own user and lose access to the test's 0600 files.
    writeFileSync(join(out, 'mosquitto.conf'), `user root\n${conf}`);
    const broker = spawn('mosquitto', ['-c', join(out, 'mosquitto.conf')], { stdio: 'ignore' });
    children.push(broker);
    try {
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        try {
          const c = await mqtt.connectAsync(mqttUrl, { clientId: `cli-test-${i}`, reconnectPeriod: 0, connectTimeout: 2000 });
          await c.subscribeAsync('$CONTROL/dynamic-security/v1/response', { qos: 1 });
          await c.endAsync();
          ok = true;
        } catch {
          await new Promise((res) => setTimeout(res, 100));
        }
      }
      expect(ok).toBe(true);
    } finally {
      broker.kill('SIGTERM');
    }
  });

  // Last: from here on the database is under a new key the other tests do not know.
  it('rotate-keys re-seals under the new key (JSON report per table, a second run all zeros), after which the old key is not needed', async () => {
    const oldKey = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();
    const newKey = randomBytes(32).toString('hex');
    const rotating = { ...env, GATEHOUSE_MASTER_KEY: newKey, GATEHOUSE_MASTER_KEY_PREVIOUS: oldKey };
    const first = await run(['rotate-keys'], rotating);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout) as { keyId: string; resealed: Record<string, number>; removed: Record<string, number> };
    expect(report.keyId).toBe(keyId(Buffer.from(newKey, 'hex')));
    // The organisations and users of the tests above (create-admin, serve --demo's seed).
    expect(report.resealed.organizations).toBeGreaterThanOrEqual(2);
    expect(report.resealed.users).toBeGreaterThanOrEqual(3);
    expect(Object.keys(report.resealed).sort()).toEqual(
      ['hostPreferences', 'notifications', 'orgSettings', 'organizations', 'passes', 'users', 'visitors', 'webhookEndpoints'].sort(),
    );
    expect(report.removed).toEqual({ pushSubscriptions: 0 });
    const second = await run(['rotate-keys'], rotating);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({
      keyId: report.keyId,
      resealed: {
        organizations: 0,
        passes: 0,
        users: 0,
        visitors: 0,
        notifications: 0,
        orgSettings: 0,
        hostPreferences: 0,
        webhookEndpoints: 0,
      },
      removed: { pushSubscriptions: 0 },
    });
    // Under the new key alone the e-mail hashes were re-computed: the existing admin is found, not made twice.
    const again = await run(['create-admin', '--org', 'CLI Org', '--email', 'boss@cli.test', '--password', 'longenough'], {
      ...env,
      GATEHOUSE_MASTER_KEY: newKey,
    });
    expect(again.code, again.stdout).toBe(1);
    expect(again.stderr).toMatch(/a user with e-mail boss@cli\.test already exists/);
  }, 120_000);
});
