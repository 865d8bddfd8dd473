/**
 * `gatehouse-edge` as a user runs it: bad config refused naming the field,
 * seed, run with a simulated reader and sensor driven through the local API,
 * scan and status commands, enroll's "not yet".
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { dynamicQrAt } from '@gatehouse/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeEvent } from '../src/event.js';
import { makeFixture } from './fixtures.js';
import { CLI, type DaemonProc, REPO, startDaemon, writeConfig } from './harness.js';
import { tempDir } from './tmp.js';

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('gatehouse-edge CLI', () => {
  const t = tempDir();
  const fx = makeFixture();
  let config: string;
  let daemon: DaemonProc | null = null;

  beforeAll(() => {
    config = writeConfig(t.dir, {
      dataDir: join(t.dir, 'data'),
      localPort: 0,
      debounceMs: 200,
      readers: [
        { type: 'simulated', name: 'lobby-in', direction: 'in' },
        { type: 'simulated', name: 'lobby-out', direction: 'out' },
      ],
      relay: { type: 'simulated', pulseMs: 400 },
      passageSensor: { type: 'simulated' },
    });
  });
  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    t.cleanup();
  });

  it('refuses an invalid config with EX_CONFIG and names the field', async () => {
    const bad = join(t.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ dataDir: t.dir, readers: [{ type: 'serial-qr', direction: 'in' }], relay: { type: 'simulated' } }));
    const r = await cli(['run', '--config', bad]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/invalid config: readers\.0: must have required properties path/);
  });

  it('says clearly when GPIO is missing: a GPIO relay stops the start, a GPIO reader is reported down', async () => {
    const gpio = { sysfsRoot: join(t.dir, 'no-gpio-here') };
    const cfgDir = join(t.dir, 'gpio-test');
    mkdirSync(cfgDir, { recursive: true });
    const relayCfg = writeConfig(cfgDir, {
      dataDir: join(t.dir, 'gpio-data'),
      localPort: 0,
      gpio,
      readers: [{ type: 'simulated', direction: 'in' }],
      relay: { type: 'gpio', pin: 17 },
    });
    const r = await cli(['run', '--config', relayCfg]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/relay: GPIO sysfs interface not found at .*no-gpio-here/);

    const readerCfg = writeConfig(cfgDir, {
      dataDir: join(t.dir, 'gpio-data'),
      localPort: 0,
      gpio,
      readers: [
        { type: 'wiegand', name: 'cards', d0: 5, d1: 6, direction: 'in' },
        { type: 'simulated', name: 'qr', direction: 'in' },
      ],
      relay: { type: 'simulated' },
    });
    const d = await startDaemon(readerCfg);
    try {
      const h = (await d.get('/health')) as { status: string; hardware: { name: string; healthy: boolean; detail?: string }[] };
      expect(h.status).toBe('degraded');
      expect(h.hardware.find((x) => x.name === 'cards')).toMatchObject({ healthy: false, detail: expect.stringMatching(/GPIO sysfs/) });
      expect(((await d.post('/scan', { text: 'CARD:5', reader: 'qr' })) as { event: EdgeEvent }).event.reason).toBe('unknown');
    } finally {
      await d.stop('SIGKILL');
    }
  }, 60_000);

  it('enroll needs --cloud and --code, and a refused code leaves the config untouched', async () => {
    const usage = await cli(['enroll', '--cloud', 'http://127.0.0.1:9']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/needs --cloud URL and --code CODE/);
    const cloud = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'invalid_code', message: 'unknown, used or expired enrollment code' } }));
    });
    await new Promise<void>((r) => cloud.listen(0, '127.0.0.1', r));
    const port = (cloud.address() as AddressInfo).port;
    const before = readFileSync(config, 'utf8');
    try {
      const refused = await cli(['enroll', '--cloud', `http://127.0.0.1:${port}`, '--code', 'ABCD-EFGH', '--config', config]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/enrollment refused \(401\): unknown, used or expired enrollment code/);
      expect(readFileSync(config, 'utf8')).toBe(before);
    } finally {
      cloud.close();
    }
  });

  it('seeds, runs, and decides through the simulated reader; open, lockdown, release and passage work', { timeout: 120_000 }, async () => {
    const seedFile = join(t.dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(fx.seed()));
    const seeded = await cli(['seed', '--file', seedFile, '--config', config]);
    expect(seeded).toMatchObject({ code: 0 });
    expect(seeded.stdout).toMatch(/seeded gate gate-1: 5 passes/);

    daemon = await startDaemon(config);
    const scan = async (text: string, reader?: string) =>
      ((await daemon!.post('/scan', { text, ...(reader ? { reader } : {}) })) as { event: EdgeEvent }).event;
    const now = Date.now();
    const m = fx.passes.multi;
    expect(await scan(dynamicQrAt(m.id, m.totpSecret!, now))).toMatchObject({ allow: true, reason: 'ok', reader: 'lobby-in' });
    expect(await scan('CARD:1')).toMatchObject({ allow: false, reason: 'unknown' });
    expect(await scan(dynamicQrAt(fx.passes.revoked.id, fx.passes.revoked.totpSecret!, now))).toMatchObject({ reason: 'revoked' });
    expect(await scan('not a code')).toMatchObject({ reason: 'malformed', passId: null });
    expect(await scan(fx.staticQr(now - 1000, now + 60_000))).toMatchObject({ allow: true, credentialKind: 'static' });
    expect(await scan(fx.staticQr(now + 3_600_000, now + 7_200_000))).toMatchObject({ reason: 'not_yet_valid' });

    // Passage sensor: the first unlock is confirmed by a passage, the second times out.
    expect(((await daemon.post('/passage')) as { event: EdgeEvent }).event).toMatchObject({ type: 'passage', passId: expect.any(String) });
    // The same code again would be a replay: the guest page shows the next step's code.
    expect(await scan(dynamicQrAt(m.id, m.totpSecret!, now + 30_000), 'lobby-out')).toMatchObject({ direction: 'out', reason: 'ok' });

    expect(((await daemon.post('/lockdown')) as { lockdown: boolean }).lockdown).toBe(true);
    expect(await scan(fx.wiegand)).toMatchObject({ allow: false, reason: 'lockdown' });
    expect(((await daemon.post('/open')) as { event: EdgeEvent }).event).toMatchObject({
      type: 'manual',
      allow: false,
      reason: 'lockdown',
    });
    await daemon.post('/release');
    expect(((await daemon.post('/open')) as { event: EdgeEvent }).event).toMatchObject({ type: 'manual', allow: true, reason: 'manual' });

    // The CLI finds the daemon by the config's localPort (0 above), so give it the real one.
    const portConfig = writeConfig(join(t.dir, 'data'), {
      dataDir: join(t.dir, 'data'),
      localPort: daemon.port,
      readers: [{ type: 'simulated', direction: 'in' }],
      relay: { type: 'simulated' },
    });
    const scanned = await cli(['scan', fx.wiegand, '--reader', 'lobby-in', '--config', portConfig]);
    expect(scanned.code).toBe(0);
    expect(JSON.parse(scanned.stdout)).toMatchObject({ event: { allow: true, credentialKind: 'card' } });
    // It read the daemon's local token from the data dir; without it (another data dir, or a user who may not
    // read the file) the local API refuses and the CLI says why.
    const noTokenDir = join(t.dir, 'elsewhere');
    mkdirSync(noTokenDir, { recursive: true });
    const noToken = writeConfig(noTokenDir, {
      dataDir: noTokenDir,
      localPort: daemon.port,
      readers: [{ type: 'simulated', direction: 'in' }],
      relay: { type: 'simulated' },
    });
    const refused = await cli(['scan', fx.wiegand, '--reader', 'lobby-in', '--config', noToken]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the local API needs its token: cannot read .*elsewhere\/local-token: ENOENT/);

    const status = await cli(['status', '--config', portConfig]);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, gateId: 'gate-1', outboxDepth: expect.any(Number) });

    await new Promise((r) => setTimeout(r, 600)); // let the unconfirmed unlocks time out
    const recent = ((await daemon.get('/events/recent?limit=100')) as { items: EdgeEvent[] }).items;
    expect(recent.filter((e) => e.type === 'no_passage').length).toBeGreaterThanOrEqual(2);
    expect((await daemon.get('/health')) as object).toMatchObject({ status: 'ok', gateId: 'gate-1', lockdown: false });
    expect(await daemon.stop('SIGTERM')).toBe(0);
    daemon = null;

    const offline = await cli(['status', '--config', portConfig]);
    const o = JSON.parse(offline.stdout) as { running: boolean; outboxDepth: number; recent: EdgeEvent[] };
    expect(o).toMatchObject({ running: false, gateId: 'gate-1', link: 'down' });
    expect(o.outboxDepth).toBe(recent.length);
    expect(o.recent[0]?.id).toBe(recent[0]?.id);
  });
});
