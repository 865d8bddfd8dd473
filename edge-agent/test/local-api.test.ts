/**
 * The edge's local HTTP API is not an open door (issue 11, item 5), and the
 * data directory is private (item 4, edge part):
 * - control routes (POST /open, /lockdown, /release, /scan, /passage) and the
 *   reads that show decisions (/events/recent, /relay/pulses) need the local
 *   token from the 0600 file in the data dir, a JSON content type, and a Host
 *   header naming the loopback port (a DNS-rebinding defence);
 * - /health and /metrics stay open for monitoring and Prometheus;
 * - the simulation routes exist only for simulated hardware;
 * - after a start under umask 022 the data dir is 0700 and the token, the
 *   SQLite file and its -wal/-shm are 0600.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { Daemon } from '../src/daemon.js';
import type { EdgeEvent } from '../src/event.js';
import { FakeGpio } from '../src/hardware/gpio.js';
import { tempDir } from './tmp.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

/** node:http rather than fetch: fetch does not let a caller set Host. */
function call(
  port: number,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string; noHost?: true } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: opts.headers ?? {}, setHost: !opts.noHost }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = text;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** The token file's name in the data dir (the CLI and the README name it too). */
const LOCAL_TOKEN_FILE = 'local-token';
const mode = (p: string) => statSync(p).mode & 0o777;
const silent = pino({ level: 'silent' });

describe('local API: token, JSON and Host on every control route', () => {
  const t = tempDir();
  const dataDir = join(t.dir, 'data');
  let daemon: Daemon;
  let token: string;
  let oldUmask: number;
  const json = (extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}`, ...extra });
  const pulses = () => (daemon.health() as { relay: { pulses: number } }).relay.pulses;

  beforeAll(async () => {
    oldUmask = process.umask(0o022);
    daemon = new Daemon(
      parseConfig({
        dataDir,
        localPort: 0,
        readers: [{ type: 'simulated', name: 'sim', direction: 'in' }],
        relay: { type: 'simulated', pulseMs: 20 },
        passageSensor: { type: 'simulated' },
      }),
      silent,
    );
    await daemon.start();
    token = readFileSync(join(dataDir, LOCAL_TOKEN_FILE), 'utf8').trim();
  });
  afterAll(async () => {
    await daemon?.stop();
    process.umask(oldUmask);
    t.cleanup();
  });

  it('after a start under umask 022 the data dir is 0700 and the token, database, -wal and -shm are 0600', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, LOCAL_TOKEN_FILE))).toBe(0o600);
    for (const f of ['edge.db', 'edge.db-wal', 'edge.db-shm']) {
      expect(existsSync(join(dataDir, f)), f).toBe(true);
      expect(mode(join(dataDir, f)), f).toBe(0o600);
    }
  });

  it('a POST without a token, or with a wrong one, is refused 401 and the relay stays still', async () => {
    for (const path of ['/open', '/lockdown', '/release', '/scan', '/passage']) {
      const none = await call(daemon.port, 'POST', path, { headers: { 'content-type': 'application/json' }, body: '{"text":"CARD:1"}' });
      expect(none.status, path).toBe(401);
      expect(none.json).toMatchObject({ error: { code: 'unauthorized' } });
      expect(none.headers['www-authenticate']).toBe('Bearer');
      const wrong = await call(daemon.port, 'POST', path, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${'x'.repeat(43)}` },
        body: '{"text":"CARD:1"}',
      });
      expect(wrong.status, path).toBe(401);
    }
    const basic = await call(daemon.port, 'POST', '/open', { headers: { ...json(), authorization: `Basic ${token}` }, body: '{}' });
    expect(basic.status).toBe(401);
    expect(pulses()).toBe(0);
    expect(daemon.gate.lockdown).toBe(false);
  });

  it('a POST with text/plain (what a browser page may send cross-origin without preflight) is refused 415', async () => {
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp']) {
      const r = await call(daemon.port, 'POST', '/open', { headers: json({ 'content-type': ct }), body: '{}' });
      expect(r.status, ct).toBe(415);
      expect(r.json).toMatchObject({ error: { code: 'unsupported_media_type' } });
    }
    const missing = await call(daemon.port, 'POST', '/open', { headers: { authorization: `Bearer ${token}` }, body: '{}' });
    expect(missing.status).toBe(415);
    expect(pulses()).toBe(0);
  });

  it('a request whose Host is not the loopback port is refused 421 (DNS rebinding), even with the token', async () => {
    const port = daemon.port;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`, '127.0.0.1']) {
      const r = await call(port, 'POST', '/open', { headers: json({ host }), body: '{}' });
      expect(r.status, host).toBe(421);
      expect(r.json).toMatchObject({ error: { code: 'bad_host' } });
      const read = await call(port, 'GET', '/events/recent', { headers: json({ host }) });
      expect(read.status, host).toBe(421);
    }
    // No Host at all is no better (Node's server refuses an HTTP/1.1 request without one: 400).
    expect([400, 421]).toContain((await call(port, 'POST', '/open', { headers: json(), body: '{}', noHost: true })).status);
    expect(pulses()).toBe(0);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      const r = await call(port, 'POST', '/lockdown', { headers: json({ host }), body: '{}' });
      expect(r.status, host).toBe(200);
    }
    await call(port, 'POST', '/release', { headers: json(), body: '{}' });
  });

  it('with the token and JSON every control route works', async () => {
    const port = daemon.port;
    const open = await call(port, 'POST', '/open', { headers: json(), body: '{"direction":"in"}' });
    expect(open).toMatchObject({ status: 200, json: { event: { type: 'manual', allow: true } } });
    expect(pulses()).toBe(1);
    // An empty body is an empty object; a charset parameter is fine.
    const lock = await call(port, 'POST', '/lockdown', { headers: json({ 'content-type': 'application/json; charset=utf-8' }) });
    expect(lock).toMatchObject({ status: 200, json: { lockdown: true } });
    expect((await call(port, 'POST', '/release', { headers: json(), body: '{}' })).json).toMatchObject({ lockdown: false });
    const scan = await call(port, 'POST', '/scan', { headers: json(), body: '{"text":"CARD:1"}' });
    expect(scan).toMatchObject({ status: 200, json: { event: { allow: false, reason: 'unknown' } } });
    expect((await call(port, 'POST', '/passage', { headers: json(), body: '{}' })).status).toBe(200);
    const recent = await call(port, 'GET', '/events/recent?limit=10', { headers: { authorization: `Bearer ${token}` } });
    expect(recent.status).toBe(200);
    expect((recent.json as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(3);
    const relay = await call(port, 'GET', '/relay/pulses', { headers: { authorization: `Bearer ${token}` } });
    expect(relay).toMatchObject({ status: 200, json: { count: 1 } });
  });

  it('reads that show decisions need the token too; /health and /metrics stay open (monitoring, Prometheus)', async () => {
    const port = daemon.port;
    expect((await call(port, 'GET', '/events/recent')).status).toBe(401);
    expect((await call(port, 'GET', '/relay/pulses')).status).toBe(401);
    const health = await call(port, 'GET', '/health');
    expect(health).toMatchObject({ status: 200, json: { status: expect.any(String) } });
    const metrics = await call(port, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.json)).toMatch(/gatehouse_decision_seconds/);
  });

  it('answers no CORS preflight: a browser page cannot reach a control route', async () => {
    const r = await call(daemon.port, 'OPTIONS', '/open', {
      headers: {
        origin: 'http://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(r.status).toBe(404);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('local token and data directory across restarts', () => {
  const t = tempDir();
  afterEach(() => {});
  afterAll(() => t.cleanup());

  it('keeps the token across a restart, makes a new one when the file is gone, and tightens an existing loose directory and files', async () => {
    const oldUmask = process.umask(0o022);
    const dataDir = join(t.dir, 'loose');
    try {
      mkdirSync(dataDir, { mode: 0o755 });
      chmodSync(dataDir, 0o755);
      const cfg = parseConfig({
        dataDir,
        localPort: 0,
        readers: [{ type: 'simulated', direction: 'in' }],
        relay: { type: 'simulated', pulseMs: 20 },
      });
      let d = new Daemon(cfg, silent);
      await d.start();
      const tokenFile = join(dataDir, LOCAL_TOKEN_FILE);
      const first = readFileSync(tokenFile, 'utf8');
      await d.stop();

      // Someone loosened everything: the next start puts it right.
      chmodSync(dataDir, 0o755);
      chmodSync(tokenFile, 0o644);
      chmodSync(join(dataDir, 'edge.db'), 0o644);
      d = new Daemon(cfg, silent);
      await d.start();
      expect(readFileSync(tokenFile, 'utf8')).toBe(first);
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(tokenFile)).toBe(0o600);
      expect(mode(join(dataDir, 'edge.db'))).toBe(0o600);
      await d.stop();

      rmSync(tokenFile);
      writeFileSync(join(dataDir, 'unrelated'), 'x');
      d = new Daemon(cfg, silent);
      await d.start();
      const second = readFileSync(tokenFile, 'utf8');
      expect(second).not.toBe(first);
      expect(mode(tokenFile)).toBe(0o600);
      const stale = await call(d.port, 'POST', '/open', {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${first.trim()}` },
        body: '{}',
      });
      expect(stale.status).toBe(401);
      await d.stop();
    } finally {
      process.umask(oldUmask);
    }
  });
});

describe('simulation routes exist only for simulated hardware', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('with a Wiegand reader, a GPIO relay and a GPIO sensor, /scan, /passage and /relay/pulses are 404 even with the token', async () => {
    const dataDir = join(t.dir, 'real');
    const gpio = new FakeGpio();
    const d = new Daemon(
      parseConfig({
        dataDir,
        localPort: 0,
        readers: [{ type: 'wiegand', name: 'cards', d0: 5, d1: 6, direction: 'in' }],
        relay: { type: 'gpio', pin: 17, pulseMs: 50 },
        passageSensor: { type: 'gpio', pin: 27 },
      }),
      silent,
      { gpio: () => gpio },
    );
    await d.start();
    try {
      const token = readFileSync(join(dataDir, LOCAL_TOKEN_FILE), 'utf8').trim();
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      for (const [method, path, body] of [
        ['POST', '/scan', '{"text":"CARD:1"}'],
        ['POST', '/passage', '{}'],
        ['GET', '/relay/pulses', undefined],
      ] as const) {
        const r = await call(d.port, method, path, { headers, ...(body ? { body } : {}) });
        expect(r.status, path).toBe(404);
        expect(r.json).toMatchObject({ error: { code: 'not_found' } });
        // Without a token it is the same 404: there is nothing there to protect.
        expect(
          (await call(d.port, method, path, { headers: { 'content-type': 'application/json' }, ...(body ? { body } : {}) })).status,
        ).toBe(404);
      }
      // The control routes are there, behind the token.
      expect((await call(d.port, 'POST', '/open', { headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
      const open = await call(d.port, 'POST', '/open', { headers, body: '{}' });
      expect(open).toMatchObject({ status: 200, json: { event: { type: 'manual', allow: true } } });
      expect(gpio.lines.get(17)?.writes).toContain(1);
    } finally {
      await d.stop();
    }
  });

  it('with simulated hardware the simulation routes need the token like any control route', async () => {
    const dataDir = join(t.dir, 'sim');
    const d = new Daemon(
      parseConfig({
        dataDir,
        localPort: 0,
        readers: [{ type: 'simulated', direction: 'in' }],
        relay: { type: 'simulated', pulseMs: 20 },
        passageSensor: { type: 'simulated' },
      }),
      silent,
    );
    await d.start();
    try {
      const h = { 'content-type': 'application/json' };
      expect((await call(d.port, 'POST', '/scan', { headers: h, body: '{"text":"CARD:1"}' })).status).toBe(401);
      expect((await call(d.port, 'POST', '/passage', { headers: h, body: '{}' })).status).toBe(401);
      expect((await call(d.port, 'GET', '/relay/pulses')).status).toBe(401);
    } finally {
      await d.stop();
    }
  });

  it('ALARM-1, CMD-4: a simulated door contact moved through POST /door raises and clears held_open; a GPIO one has no such route', async () => {
    const dataDir = join(t.dir, 'door');
    const d = new Daemon(
      parseConfig({
        dataDir,
        localPort: 0,
        readers: [{ type: 'simulated', direction: 'in' }],
        relay: { type: 'simulated', pulseMs: 20 },
        doorContact: { type: 'simulated' },
        heldOpenSeconds: 1,
      }),
      silent,
    );
    await d.start();
    try {
      const token = readFileSync(join(dataDir, LOCAL_TOKEN_FILE), 'utf8').trim();
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      expect((await call(d.port, 'POST', '/door', { headers: { 'content-type': 'application/json' }, body: '{"open":true}' })).status).toBe(
        401,
      );
      expect((await call(d.port, 'POST', '/door', { headers, body: '{"open":"yes"}' })).status).toBe(400);
      // Opened with no unlock: forced at once; closed within heldOpenSeconds, nothing more.
      expect(await call(d.port, 'POST', '/door', { headers, body: '{"open":true}' })).toMatchObject({ status: 200, json: { open: true } });
      expect((await call(d.port, 'GET', '/health')).json).toMatchObject({ door: { open: true }, emergency: false });
      await call(d.port, 'POST', '/door', { headers, body: '{"open":false}' });
      // After an unlock it may stay open up to heldOpenSeconds.
      await call(d.port, 'POST', '/open', { headers, body: '{}' });
      await call(d.port, 'POST', '/door', { headers, body: '{"open":true}' });
      const alarms = async () =>
        ((await call(d.port, 'GET', '/events/recent?limit=50', { headers })).json as { items: EdgeEvent[] }).items
          .filter((e) => e.type === 'alarm' || e.type === 'forced')
          .map((e) => (e.type === 'forced' ? 'forced' : `${e.alarm?.kind}:${e.alarm?.state}`))
          .reverse();
      expect(await alarms()).toEqual(['forced']);
      for (let i = 0; i < 100 && (await alarms()).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await alarms()).toEqual(['forced', 'held_open:raised']);
      const metrics = ((await call(d.port, 'GET', '/metrics')).json as string).toString();
      expect(metrics).toMatch(/gatehouse_alarms_total\{kind="held_open",state="raised"\} 1/);
      expect(metrics).toMatch(/gatehouse_alarms_total\{kind="forced",state="raised"\} 1/);
      expect(metrics).toMatch(/gatehouse_gate_mode\{mode="normal"\} 1/);
      await call(d.port, 'POST', '/lockdown', { headers, body: '{}' });
      const locked = ((await call(d.port, 'GET', '/metrics')).json as string).toString();
      expect(locked).toMatch(/gatehouse_gate_mode\{mode="lockdown"\} 1/);
      expect(locked).toMatch(/gatehouse_gate_mode\{mode="normal"\} 0/);
    } finally {
      await d.stop();
    }
    const gpio = new FakeGpio();
    const real = new Daemon(
      parseConfig({
        dataDir: join(t.dir, 'door-gpio'),
        localPort: 0,
        readers: [{ type: 'wiegand', d0: 5, d1: 6, direction: 'in' }],
        relay: { type: 'gpio', pin: 17 },
        doorContact: { type: 'gpio', pin: 22 },
      }),
      silent,
      { gpio: () => gpio },
    );
    await real.start();
    try {
      expect(
        (await call(real.port, 'POST', '/door', { headers: { 'content-type': 'application/json' }, body: '{"open":true}' })).status,
      ).toBe(404);
      expect(real.hardware().map((h) => h.name)).toContain('door-contact');
    } finally {
      await real.stop();
    }
  });
});
