/**
 * The daemon as a real child process reading a real pseudo-terminal (socat),
 * the test typing QR lines into the other end like a USB scanner would.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { dynamicQrAt, type PassRecord, uuidv7 } from '@gatehouse/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EdgeEvent } from '../src/event.js';
import { applySeed, parseSeed } from '../src/seed.js';
import { EdgeStore } from '../src/store/index.js';
import { makeFixture } from './fixtures.js';
import { type DaemonProc, hasSocat, PtyPair, sleep, startDaemon, until, writeConfig } from './harness.js';
import { tempDir } from './tmp.js';

type Recent = { items: EdgeEvent[] };
type Health = { outboxDepth: number; hardware: { name: string; healthy: boolean; detail?: string }[]; relay: { pulses: number } };

describe.skipIf(!hasSocat)('daemon on a real pty (socat)', () => {
  let t: ReturnType<typeof tempDir>;
  let pty: PtyPair;
  let daemon: DaemonProc | null = null;
  const fx = makeFixture();
  const relayLog = () => join(t.dir, 'relay.log');

  beforeEach(async () => {
    t = tempDir();
    pty = new PtyPair(join(t.dir, 'scanner'), join(t.dir, 'wire'));
    await pty.start();
  });
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = null;
    await pty.stop();
    t.cleanup();
  });

  const setup = async (extraPasses: PassRecord[] = [], extraConfig: Record<string, unknown> = {}) => {
    const store = new EdgeStore(join(t.dir, 'data', 'edge.db'));
    const seed = fx.seed();
    applySeed(store, parseSeed({ ...seed, passes: [...seed.passes, ...extraPasses] }));
    store.close();
    const config = writeConfig(t.dir, {
      dataDir: join(t.dir, 'data'),
      localPort: 0,
      debounceMs: 300,
      logLevel: 'info',
      readers: [{ type: 'serial-qr', name: 'qr', path: pty.a, baudRate: 9600, direction: 'in', lineEnding: 'CR' }],
      relay: { type: 'simulated', pulseMs: 200, logFile: relayLog() },
      ...extraConfig,
    });
    daemon = await startDaemon(config);
    await until(async () => ((await daemon!.get('/health')) as Health).hardware[0]?.healthy, 'reader open');
    return config;
  };
  const type = (text: string | Buffer) => {
    const fd = openSync(pty.b, 'w');
    try {
      writeSync(fd, typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
    } finally {
      closeSync(fd);
    }
  };
  const recent = async () => ((await daemon!.get('/events/recent?limit=1000')) as Recent).items.slice().reverse();
  const waitEvents = (n: number) => until(async () => ((await recent()).length >= n ? recent() : null), `${n} events`);

  it('admits a valid pass and denies the rest with the right reasons; the relay fires only for the allowed', async () => {
    await setup();
    const now = Date.now();
    type(`${dynamicQrAt(fx.passes.multi.id, fx.passes.multi.totpSecret!, now)}\r`);
    type('CARD:31337\r');
    type(`${dynamicQrAt(fx.passes.revoked.id, fx.passes.revoked.totpSecret!, now)}\r`);
    type(`${dynamicQrAt(fx.passes.expired.id, fx.passes.expired.totpSecret!, now)}\r`);
    type(`${fx.wiegand}\r`);
    type(`${fx.staticQr()}\r`);
    const evs = await waitEvents(6);
    expect(evs.map((e) => `${e.allow ? 'allow' : 'deny'}:${e.reason}:${e.credentialKind}`)).toEqual([
      'allow:ok:dynamic',
      'deny:unknown:card',
      'deny:revoked:dynamic',
      'deny:expired:dynamic',
      'allow:ok:card',
      'allow:ok:static',
    ]);
    expect(evs.every((e) => e.gateId === 'gate-1' && e.reader === 'qr' && e.direction === 'in')).toBe(true);
    const pulses = (await daemon!.get('/relay/pulses')) as { count: number };
    expect(pulses.count).toBe(3);
    expect(readFileSync(relayLog(), 'utf8').trim().split('\n')).toHaveLength(3);
    const metrics = await (await fetch(`http://127.0.0.1:${daemon!.port}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_decisions_total\{result="deny",reason="revoked"\} 1/);
    expect(metrics).toMatch(/gatehouse_decision_seconds_count 6/);
    expect(metrics).toMatch(/gatehouse_outbox_depth 6/);
  });

  it('garbage bytes, an over-long line and a half line do not stop the next good scan', async () => {
    await setup();
    type(Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x41, 0x0d]));
    type(`${'Z'.repeat(2000)}\r`);
    type('GHD1:HALF');
    await sleep(400);
    type('CARD:1\r');
    const evs = await until(async () => {
      const e = await recent();
      return e.some((x) => x.credentialKind === 'card') ? e : null;
    }, 'the good scan');
    expect(evs.at(-1)).toMatchObject({ credentialKind: 'card', reason: 'unknown' });
    expect(evs.slice(0, -1).every((e) => e.reason === 'malformed')).toBe(true);
    const health = (await daemon!.get('/health')) as Health;
    expect(health.hardware[0]).toMatchObject({ name: 'qr', healthy: true });
  });

  it('survives the pty disappearing and coming back (USB unplug/replug)', async () => {
    await setup();
    type('CARD:1\r');
    await waitEvents(1);
    await pty.stop();
    await until(async () => !((await daemon!.get('/health')) as Health).hardware[0]?.healthy, 'reader reported down');
    const down = ((await daemon!.get('/health')) as Health).hardware[0];
    expect(down?.detail).toBeTruthy();
    await sleep(300);
    await pty.start();
    await until(async () => ((await daemon!.get('/health')) as Health).hardware[0]?.healthy, 'reader reopened', 15_000);
    type('CARD:2\r');
    const evs = await waitEvents(2);
    expect(evs.map((e) => e.credentialKind)).toEqual(['card', 'card']);
    expect(daemon!.proc.exitCode).toBeNull();
  });

  it('ALARM-1: a serial reader whose pty disappears raises reader_offline after readerOfflineSeconds, cleared when it is back', async () => {
    await setup([], { readerOfflineSeconds: 1 });
    const alarms = async () =>
      (await recent()).filter((e) => e.type === 'alarm').map((e) => `${e.reader}:${e.alarm?.kind}:${e.alarm?.state}`);
    await pty.stop();
    await until(async () => ((await alarms()).length >= 1 ? true : null), 'reader_offline raised', 10_000);
    const raised = (await recent()).find((e) => e.type === 'alarm');
    expect(raised?.alarm?.detail).toBeTruthy();
    await sleep(1500);
    expect(await alarms()).toEqual(['qr:reader_offline:raised']); // once, not every second
    await pty.start();
    await until(async () => ((await alarms()).length >= 2 ? true : null), 'reader_offline cleared', 15_000);
    expect(await alarms()).toEqual(['qr:reader_offline:raised', 'qr:reader_offline:cleared']);
    const metrics = await (await fetch(`http://127.0.0.1:${daemon!.port}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_alarms_total\{kind="reader_offline",state="raised"\} 1/);
  });

  it('kill -9 during a burst loses no event whose relay fired; a restart comes up closed and keeps the outbox', async () => {
    const day = 86_400_000;
    const cards: PassRecord[] = Array.from({ length: 400 }, (_, i) => ({
      id: uuidv7(),
      orgId: 'org-1',
      ruleId: fx.rule.id,
      type: 'multi',
      status: 'active',
      validFrom: Date.now() - day,
      validTo: Date.now() + day,
      maxUses: null,
      totpSecret: null,
      card: { format: 'raw', number: String(100_000 + i) },
      escort: false,
    }));
    const config = await setup(cards);
    const fd = openSync(pty.b, 'w');
    let sent = 0;
    const writer = (async () => {
      for (const c of cards) {
        writeSync(fd, `CARD:${c.card!.number}\r`);
        sent++;
        await sleep(1);
      }
    })();
    await until(() => {
      try {
        return readFileSync(relayLog(), 'utf8').split('\n').length > 60;
      } catch {
        return false;
      }
    }, 'relay firing');
    daemon!.proc.kill('SIGKILL');
    await new Promise((r) => daemon!.proc.once('exit', r));
    await writer;
    closeSync(fd);
    const fired = readFileSync(relayLog(), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { eventId: string }).eventId);
    const db = new Database(join(t.dir, 'data', 'edge.db'), { readonly: true });
    const rows = db.prepare('SELECT event FROM outbox ORDER BY seq').all() as { event: string }[];
    db.close();
    const allowed = new Map(
      rows
        .map((r) => JSON.parse(r.event) as EdgeEvent)
        .filter((e) => e.allow)
        .map((e) => [e.id, e]),
    );
    const pulses = fired.length;
    expect(sent).toBe(400);
    expect(pulses).toBeGreaterThanOrEqual(60);
    expect(pulses).toBeLessThan(400); // the kill really landed mid-burst
    // Every pulse names its event, and every one of those events is in the outbox, allowed.
    expect(fired.filter((id) => !allowed.has(id))).toEqual([]);
    // At most one committed event lost its pulse to the kill (commit, then pulse).
    expect(allowed.size).toBeLessThanOrEqual(pulses + 1);

    daemon = await startDaemon(config);
    const h = (await daemon.get('/health')) as Health;
    expect(h.outboxDepth).toBe(rows.length);
    expect(h.relay).toMatchObject({ active: false, pulses: 0 });
  });

  it('SIGTERM shuts down cleanly (exit 0) and releases the port', async () => {
    await setup();
    expect(await daemon!.stop('SIGTERM')).toBe(0);
    expect(daemon!.logs.some((l) => l.includes('"stopped"'))).toBe(true);
  });
});
