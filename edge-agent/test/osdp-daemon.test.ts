/**
 * The daemon as a child process with an OSDP reader on a real pty (socat) and a simulated relay; the simulated
 * PD on the other end presents the cached pass's card. Card → relay pulse → decision recorded → LED on the PD.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EdgeEvent } from '../src/event.js';
import { COLOR } from '../src/hardware/osdp/messages.js';
import { applySeed, parseSeed } from '../src/seed.js';
import { EdgeStore } from '../src/store/index.js';
import { makeFixture } from './fixtures.js';
import { type DaemonProc, hasSocat, PtyPair, startDaemon, until, writeConfig } from './harness.js';
import { SimBus } from './osdp-pd.js';
import { tempDir } from './tmp.js';

type Health = { hardware: { name: string; healthy: boolean; detail?: string }[] };
const KEY = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';

describe.skipIf(!hasSocat)('daemon with an OSDP reader on a pty', () => {
  let t: ReturnType<typeof tempDir>;
  let pty: PtyPair;
  let sim: SimBus;
  let daemon: DaemonProc | null = null;
  const fx = makeFixture();

  beforeEach(async () => {
    t = tempDir('gh-osdp-daemon-');
    pty = new PtyPair(join(t.dir, 'rs485'), join(t.dir, 'pd'));
    await pty.start();
    sim = new SimBus(pty.b, 9600, [{ address: 3, scbk: Buffer.from(KEY, 'hex') }]);
    await sim.start();
  });
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = null;
    await sim.stop();
    await pty.stop();
    t.cleanup();
  });

  it('a cached card at the PD pulses the relay, records the decision and turns the PD green; an unknown card turns it red', async () => {
    const store = new EdgeStore(join(t.dir, 'data', 'edge.db'));
    applySeed(store, parseSeed(fx.seed()));
    store.close();
    const relayLog = join(t.dir, 'relay.log');
    const config = writeConfig(t.dir, {
      dataDir: join(t.dir, 'data'),
      localPort: 0,
      debounceMs: 300,
      logLevel: 'info',
      readers: [{ type: 'osdp', name: 'door', path: pty.a, baudRate: 9600, address: 3, secureChannel: { scbk: KEY }, direction: 'in' }],
      relay: { type: 'simulated', pulseMs: 200, logFile: relayLog },
    });
    daemon = await startDaemon(config);
    const health = await until(
      async () => {
        const h = (await daemon!.get('/health')) as Health;
        return h.hardware[0]?.healthy ? h : null;
      },
      'OSDP reader online',
      15_000,
    );
    expect(health.hardware[0]?.detail).toMatch(/secure channel established/);
    const pd = sim.pd(3);
    expect(pd.secure).toBe(true);

    pd.presentBits(fx.wiegand.slice(4));
    await until(() => pd.leds.length >= 1 && pd.buzzes.length >= 1, 'the LED and buzzer commands', 5000);
    expect(pd.lastLed?.color).toBe(COLOR.green);
    expect(pd.buzzes.at(-1)?.count).toBe(1);
    expect(readFileSync(relayLog, 'utf8').trim().split('\n')).toHaveLength(1);

    pd.presentCard(31337);
    await until(() => pd.leds.length >= 2 && pd.buzzes.length >= 2, 'the second LED and buzzer commands', 5000);
    expect(pd.lastLed?.color).toBe(COLOR.red);
    expect(pd.buzzes.at(-1)?.count).toBe(2);

    const recent = ((await daemon.get('/events/recent?limit=10')) as { items: EdgeEvent[] }).items.slice().reverse();
    const attempts = recent.filter((e) => e.type !== 'alarm');
    expect(attempts.map((e) => `${e.allow ? 'allow' : 'deny'}:${e.reason}:${e.credentialKind}:${e.reader}`)).toEqual([
      'allow:ok:card:door',
      'deny:unknown:card:door',
    ]);
    expect(attempts[0]?.passId).toBe(fx.passes.card.id);
    expect(readFileSync(relayLog, 'utf8').trim().split('\n')).toHaveLength(1);

    // The PD goes quiet: the daemon records a reader_offline alarm; it comes back: cleared.
    pd.silent = true;
    const raised = await until(
      async () => {
        const items = ((await daemon!.get('/events/recent?limit=20')) as { items: EdgeEvent[] }).items;
        return items.find((e) => e.type === 'alarm' && e.alarm?.kind === 'reader_offline' && e.alarm.state === 'raised');
      },
      'reader_offline alarm',
      10_000,
    );
    expect(raised.reader).toBe('door');
    pd.silent = false;
    await until(
      async () => {
        const items = ((await daemon!.get('/events/recent?limit=20')) as { items: EdgeEvent[] }).items;
        return items.find((e) => e.type === 'alarm' && e.alarm?.kind === 'reader_offline' && e.alarm.state === 'cleared');
      },
      'reader_offline cleared',
      15_000,
    );
  });
});
