/**
 * The OSDP driver (bus + reader) against the simulated PD over real pseudo-terminals (socat), as an RS-485
 * adapter would look to it; and the reader contract over an in-memory wire.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseCredential } from '@gatehouse/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OsdpReaderConfig } from '../src/config.js';
import { createReader, type HardwareDeps } from '../src/hardware/index.js';
import { OsdpBus } from '../src/hardware/osdp/bus.js';
import { OsdpKeyStore } from '../src/hardware/osdp/keys.js';
import { CMD, COLOR } from '../src/hardware/osdp/messages.js';
import { KEY_REJECTED, OsdpReader } from '../src/hardware/osdp/reader.js';
import { SCBK_D } from '../src/hardware/osdp/secure-channel.js';
import type { ReaderCondition, ReaderInput } from '../src/hardware/types.js';
import { hasSocat, PtyPair } from './harness.js';
import { memoryWire, SimBus, type SimPdOptions } from './osdp-pd.js';
import { readerContract } from './reader-contract.js';
import { tempDir } from './tmp.js';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const OTHER = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');
// Fast timings so offline/back-off paths run in a test's time (the reply timeout still roomy enough for a loaded
// CI box, where a spurious timeout would show up as a condition); the defaults are the spec's.
const FAST = {
  replyTimeoutMs: 150,
  retryMinMs: 50,
  retryMaxMs: 200,
  reconnectMinMs: 50,
  reconnectMaxMs: 200,
  keyRejectedMinMs: 300,
  keyRejectedMaxMs: 600,
};

const until = async <T>(cond: () => T, what: string, ms = 5000): Promise<NonNullable<T>> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

// A valid 26-bit Wiegand frame: facility 1, card 2 (even parity over the first half, odd over the second).
const W26 = (() => {
  const data = `${(1).toString(2).padStart(8, '0')}${(2).toString(2).padStart(16, '0')}`;
  const ones = (s: string) => [...s].filter((c) => c === '1').length;
  return `${ones(data.slice(0, 12)) % 2}${data}${(ones(data.slice(12)) + 1) % 2}`;
})();

describe.skipIf(!hasSocat)('OSDP reader over a pty (socat)', () => {
  let t: ReturnType<typeof tempDir>;
  let pty: PtyPair;
  let sim: SimBus | null = null;
  const readers: OsdpReader[] = [];

  beforeEach(async () => {
    t = tempDir('gh-osdp-');
    pty = new PtyPair(join(t.dir, 'cp'), join(t.dir, 'pd'));
    await pty.start();
  });
  afterEach(async () => {
    for (const r of readers.splice(0)) await r.stop();
    await sim?.stop();
    sim = null;
    await pty.stop();
    t.cleanup();
  });

  const startSim = async (pds: SimPdOptions[], baud = 9600) => {
    sim = new SimBus(pty.b, baud, pds);
    await sim.start();
    return sim;
  };
  const deps = (): HardwareDeps => ({ dataDir: t.dir, osdp: FAST });
  const reader = (cfg: Partial<OsdpReaderConfig> & { name?: string }, d: HardwareDeps = deps()) => {
    const full: OsdpReaderConfig & { name: string } = {
      type: 'osdp',
      path: pty.a,
      baudRate: 9600,
      address: 0,
      secureChannel: { scbk: KEY.toString('hex') },
      direction: 'in',
      ...cfg,
      name: cfg.name ?? 'door',
    };
    const r = createReader(full, d, () => {
      throw new Error('no gpio');
    }) as OsdpReader;
    readers.push(r);
    const got: ReaderInput[] = [];
    const conditions: ReaderCondition[] = [];
    r.onInput((i) => got.push(i));
    r.onCondition((c) => conditions.push(c));
    return { r, got, conditions, texts: () => got.map((g) => g.data as string) };
  };

  it('establishes Secure Channel, then card reads reach onInput as the credential texts', async () => {
    const s = await startSim([{ address: 0, scbk: KEY }]);
    const { r, got, texts } = reader({});
    await r.start();
    expect(r.status()).toMatchObject({ online: true, secureChannel: 'established', keySource: 'config', pd: { serial: 0x1000, model: 7 } });
    expect(r.health()).toMatchObject({ healthy: true, type: 'osdp' });
    expect(r.health().detail).toMatch(/secure channel established/);
    const pd = s.pd(0);
    expect(pd.secure).toBe(true);
    pd.presentBits(W26);
    pd.presentCard(31337n);
    pd.presentFormatted('4242');
    await until(() => got.length >= 3, 'three reads');
    expect(texts()).toEqual([`W26:${W26}`, 'CARD:31337', 'CARD:4242']);
    expect(parseCredential(got[0]!.data)).toMatchObject({ kind: 'card', format: 'w26', facility: 1, cardNumber: 2 });
    expect(got[0]).toMatchObject({ reader: 'door', direction: 'in' });
    // Every command after the handshake went MACed: the PD NAKs plain text, and it answered polls.
    expect(pd.seen.filter((c) => c === CMD.POLL).length).toBeGreaterThan(0);
  });

  it('a wrong key is refused and reported, never retried in plain text or with SCBK-D', async () => {
    const s = await startSim([{ address: 0, scbk: OTHER, install: true }]);
    const { r, conditions } = reader({});
    await r.start();
    await until(() => conditions.length, 'a condition');
    expect(conditions[0]).toEqual({ kind: 'reader_offline', state: 'raised', detail: KEY_REJECTED });
    expect(r.health()).toMatchObject({ healthy: false });
    expect(r.health().detail).toContain(KEY_REJECTED);
    expect(r.status().secureChannel).toBe('rejected');
    // It keeps trying at the slow back-off, each time with the configured key only.
    await until(() => s.pd(0).seen.filter((c) => c === CMD.CHLNG).length >= 2, 'a second attempt', 3000);
    const pd = s.pd(0);
    expect(pd.seen.every((c) => c === CMD.ID || c === CMD.CAP || c === CMD.CHLNG)).toBe(true);
    expect(pd.secure).toBe(false);
    expect(conditions).toHaveLength(1);
  });

  it('a PD without Secure Channel is refused when the config asks for it', async () => {
    await startSim([{ address: 0, scbk: null }]);
    const { r, conditions } = reader({});
    await r.start();
    await until(() => conditions.length, 'a condition');
    expect(conditions[0]?.detail).toMatch(/does not support Secure Channel/);
    expect(r.status().online).toBe(false);
  });

  it('install mode: SCBK-D once, KEYSET a fresh key, keep it (0600), reconnect with it; a restart uses it', async () => {
    const s = await startSim([{ address: 0, install: true }]);
    const { r } = reader({ secureChannel: { install: true } });
    await r.start();
    const pd = s.pd(0);
    await until(() => pd.keysets.length === 1 && r.status().online && r.status().keySource === 'stored', 'key set and reconnected');
    const newKey = pd.keysets[0]!;
    expect(newKey.equals(SCBK_D)).toBe(false);
    const file = join(t.dir, 'osdp-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(new OsdpKeyStore(t.dir).get('door').scbk?.equals(newKey)).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain('pending');
    pd.presentCard(5);
    await until(() => r.status().cards === 1, 'a read under the new key');
    await r.stop();
    readers.splice(0);
    // A new process: the stored key, not SCBK-D (the PD would refuse that now anyway).
    const again = reader({ secureChannel: { install: true } });
    await again.r.start();
    expect(again.r.status()).toMatchObject({ online: true, keySource: 'stored' });
    expect(pd.keysets).toHaveLength(1);
  });

  it('setKey rotates the key over the secure session; the stored key wins over the config afterwards', async () => {
    const s = await startSim([{ address: 0, scbk: KEY }]);
    const { r } = reader({});
    await r.start();
    await r.setKey(OTHER);
    expect(s.pd(0).scbk?.equals(OTHER)).toBe(true);
    expect(r.status()).toMatchObject({ online: true, keySource: 'stored' });
    expect(new OsdpKeyStore(t.dir).get('door').scbk?.equals(OTHER)).toBe(true);
  });

  it('setKey when the ACK to KEYSET is lost: the reconnect tries the pending key first, finds the PD took it, and resolves', async () => {
    const s = await startSim([{ address: 0, scbk: KEY }]);
    const { r } = reader({});
    await r.start();
    const pd = s.pd(0);
    pd.dropRepliesTo = { code: CMD.KEYSET, count: 2 };
    await r.setKey(OTHER);
    expect(pd.keysets).toHaveLength(1);
    expect(pd.dropRepliesTo.count).toBe(0);
    expect(r.status()).toMatchObject({ online: true, keySource: 'stored' });
    expect(new OsdpKeyStore(t.dir).get('door')).toEqual({ scbk: OTHER });
  });

  it('setKey refused by the PD (NAK): rejected and reported, the old key stays in use, nothing left pending', async () => {
    const s = await startSim([{ address: 0, scbk: KEY }]);
    const { r } = reader({});
    await r.start();
    await expect(r.setKey(Buffer.alloc(15))).rejects.toThrow(/16 bytes/);
    s.pd(0).refuseKeyset = true;
    await expect(r.setKey(OTHER)).rejects.toThrow(/KEYSET refused: unable to process/);
    expect(s.pd(0).scbk?.equals(KEY)).toBe(true);
    expect(r.status()).toMatchObject({ online: true, keySource: 'config' });
    expect(new OsdpKeyStore(t.dir).get('door').pending).toBeUndefined();
    expect(r.health()).toMatchObject({ healthy: true });
  });

  it('a PD that goes silent raises reader_offline; when it answers again the condition clears and Secure Channel is back', async () => {
    const s = await startSim([{ address: 0, scbk: KEY }]);
    const { r, conditions, got } = reader({});
    await r.start();
    const pd = s.pd(0);
    pd.silent = true;
    await until(() => conditions.some((c) => c.state === 'raised'), 'offline raised');
    expect(conditions[0]).toMatchObject({ kind: 'reader_offline', state: 'raised', detail: 'no reply from the PD' });
    expect(r.health().healthy).toBe(false);
    pd.silent = false;
    await until(() => conditions.some((c) => c.state === 'cleared'), 'offline cleared');
    expect(r.status()).toMatchObject({ online: true, secureChannel: 'established' });
    pd.presentCard(9);
    await until(() => got.length === 1, 'a read after coming back');
  });

  it('the adapter unplugged (socat killed) and plugged back in: offline, then online with a new session', async () => {
    await startSim([{ address: 0, scbk: KEY }]);
    const { r, conditions, got } = reader({});
    await r.start();
    await sim!.stop();
    await pty.stop();
    await until(() => conditions.some((c) => c.state === 'raised'), 'offline raised');
    expect(r.health().healthy).toBe(false);
    await pty.start();
    const s = await startSim([{ address: 0, scbk: KEY }]);
    await until(() => conditions.some((c) => c.state === 'cleared'), 'offline cleared', 10_000);
    expect(r.status().secureChannel).toBe('established');
    s.pd(0).presentCard(77);
    await until(() => got.length === 1, 'a read after the replug');
    expect(got[0]!.data).toBe('CARD:77');
  });

  it('a lost reply is recovered by resending the same packet: the PD repeats its reply, the card is read once', async () => {
    const s = await startSim([{ address: 0, scbk: KEY }]);
    const { r, got, conditions } = reader({});
    await r.start();
    const pd = s.pd(0);
    pd.presentCard(4711);
    pd.dropReplies = 1;
    await until(() => got.length === 1, 'the card');
    pd.presentCard(4712);
    await until(() => got.length === 2, 'the next card');
    expect(got.map((g) => g.data)).toEqual(['CARD:4711', 'CARD:4712']);
    expect(r.status()).toMatchObject({ online: true, secureChannel: 'established' });
    expect(conditions).toHaveLength(0);
  });

  it('a busy PD is asked again with the same packet: the command takes effect once, the PD stays online', async () => {
    const s = await startSim([{ address: 0, scbk: KEY }]);
    const { r, got, conditions } = reader({});
    await r.start();
    const pd = s.pd(0);
    pd.busy = 8; // more than the resends and misses allowed: without BUSY handling the PD would go offline
    pd.presentCard(815);
    await until(() => got.length === 1, 'the card after BUSY');
    r.feedback({ allow: true, reason: 'ok' });
    await until(() => pd.leds.length === 1, 'the LED');
    await new Promise((res) => setTimeout(res, 100));
    expect(got.map((g) => g.data)).toEqual(['CARD:815']);
    expect(pd.leds).toHaveLength(1);
    expect(pd.busy).toBe(0);
    expect(r.status()).toMatchObject({ online: true, secureChannel: 'established' });
    expect(conditions).toHaveLength(0);
  });

  it('no PD on the line: start() returns after the first attempt, unhealthy, reader_offline raised', async () => {
    const { r, conditions } = reader({ address: 9 });
    await startSim([{ address: 0, scbk: KEY }]);
    const t0 = Date.now();
    await r.start();
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(r.health()).toMatchObject({ healthy: false });
    expect(conditions).toEqual([{ kind: 'reader_offline', state: 'raised', detail: 'no reply from the PD' }]);
  });

  it('a port that cannot be opened is reported at start', async () => {
    const { r, conditions } = reader({ path: join(t.dir, 'no-such-tty') });
    await r.start();
    expect(r.health().healthy).toBe(false);
    expect(r.health().detail).toMatch(/cannot open/);
    expect(conditions[0]).toMatchObject({ kind: 'reader_offline', state: 'raised' });
  });

  it('a key left pending by a crash between KEYSET and its commit is tried first and then kept', async () => {
    const s = await startSim([{ address: 0, scbk: OTHER }]);
    const store = new OsdpKeyStore(t.dir);
    store.commit('door', KEY);
    store.setPending('door', OTHER);
    const { r } = reader({});
    await r.start();
    expect(r.status()).toMatchObject({ online: true, keySource: 'stored' });
    const after = new OsdpKeyStore(t.dir).get('door');
    expect(after.scbk?.equals(OTHER)).toBe(true);
    expect(after.pending).toBeUndefined();
    expect(s.pd(0).secure).toBe(true);
  });

  it('two readers on one bus, different addresses: one port, both read cards', async () => {
    const s = await startSim([
      { address: 1, scbk: KEY },
      { address: 2, scbk: OTHER },
    ]);
    const d = deps();
    const a = reader({ name: 'in', address: 1 }, d);
    const b = reader({ name: 'out', address: 2, direction: 'out', secureChannel: { scbk: OTHER.toString('hex') } }, d);
    await Promise.all([a.r.start(), b.r.start()]);
    expect(a.r.status().online && b.r.status().online).toBe(true);
    s.pd(1).presentCard(1001);
    s.pd(2).presentCard(2002);
    await until(() => a.got.length && b.got.length, 'both reads');
    expect(a.texts()).toEqual(['CARD:1001']);
    expect(b.texts()).toEqual(['CARD:2002']);
    expect(b.got[0]).toMatchObject({ reader: 'out', direction: 'out' });
  });

  it('feedback: green and one beep on allow, red and two beeps on deny, the reason as text on a display', async () => {
    const s = await startSim([{ address: 0, scbk: KEY, display: true }]);
    const { r } = reader({});
    await r.start();
    const pd = s.pd(0);
    r.feedback({ allow: true, reason: 'ok' });
    await until(() => pd.leds.length === 1 && pd.buzzes.length === 1, 'allow feedback');
    expect(pd.lastLed?.color).toBe(COLOR.green);
    expect(pd.buzzes[0]?.count).toBe(1);
    r.feedback({ allow: false, reason: 'expired' });
    await until(() => pd.leds.length === 2 && pd.texts.length === 2, 'deny feedback');
    expect(pd.lastLed?.color).toBe(COLOR.red);
    expect(pd.buzzes[1]?.count).toBe(2);
    expect(pd.texts).toEqual(['WELCOME', 'DENIED EXPIRED']);
  });

  it('tamper and power reports become conditions; a keypad entry is never a credential', async () => {
    const s = await startSim([{ address: 0, scbk: KEY }]);
    const { r, conditions, got } = reader({});
    await r.start();
    const pd = s.pd(0);
    pd.tamper = true;
    const reports = () => conditions.filter((c) => c.kind !== 'reader_offline');
    await until(() => reports().length === 1, 'tamper');
    pd.power = true;
    await until(() => reports().length === 2, 'power');
    pd.tamper = false;
    await until(() => reports().length === 3, 'tamper cleared');
    expect(reports().map((c) => `${c.kind}:${c.state}`)).toEqual(['tamper:raised', 'power:raised', 'tamper:cleared']);
    pd.keypad('1234#');
    await until(() => r.status().keypadEntries === 1, 'keypad');
    expect(got).toHaveLength(0);
  });
});

describe('OSDP config → bus sharing', () => {
  it('readers with the same path share one bus', () => {
    const d: HardwareDeps = {};
    const mk = (address: number) =>
      createReader({ type: 'osdp', name: `r${address}`, path: '/dev/null-osdp', address, secureChannel: false, direction: 'in' }, d, () => {
        throw new Error('no gpio');
      }) as OsdpReader;
    const a = mk(1);
    const b = mk(2);
    expect((a as unknown as { address: number }).address).toBe(1);
    expect(b.address).toBe(2);
    expect(OsdpBus).toBeTypeOf('function');
  });
});

// The reader contract over an in-memory wire: the same suite as every other driver.
const wires = new Map<OsdpReader, SimBus>();
readerContract({
  name: 'osdp (simulated PD, in-memory wire)',
  create: (direction) => {
    const wire = memoryWire();
    const s = new SimBus('mem', 9600, [{ address: 0, scbk: KEY }], () => wire.pd);
    void s.start();
    const bus = new OsdpBus('mem', 9600, { openPort: () => wire.cp, replyTimeoutMs: 150 });
    const r = new OsdpReader(
      { type: 'osdp', name: 'osdp-contract', path: 'mem', address: 0, secureChannel: { scbk: KEY.toString('hex') }, direction },
      { bus },
    );
    wires.set(r, s);
    return r;
  },
  deliver: async (r, text) => {
    wires
      .get(r as OsdpReader)
      ?.pd(0)
      .presentFormatted(text.replace(/^CARD:/, ''));
    await new Promise((res) => setTimeout(res, 5));
  },
  deliverGarbage: async (r) => {
    wires.get(r as OsdpReader)?.noise(Buffer.from([0x53, 0x00, 0xff, 0x13, 0x53, 0x01, 0x40, 0x00, 0x99]));
  },
  cleanup: async () => {
    for (const s of wires.values()) await s.stop();
    wires.clear();
  },
});
