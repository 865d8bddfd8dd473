/**
 * The edge's disk failing (SQLITE_FULL made real with PRAGMA max_page_count): the finding (SELECT 1 says the
 * store is fine while no event can be written), fail-secure and fail-safe, the storage alarm, and recovery with
 * every kept event written once, in order.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { Daemon } from '../src/daemon.js';
import type { EdgeEvent } from '../src/event.js';
import { Gate } from '../src/gate.js';
import { applySeed, parseSeed } from '../src/seed.js';
import { EdgeStore } from '../src/store/index.js';
import { FakeRelay, FakeStore } from './fakes.js';
import { makeFixture } from './fixtures.js';
import { fillDisk, freeDisk } from './full-disk.js';
import { tempDir } from './tmp.js';

const T0 = Date.UTC(2026, 0, 7, 10, 0, 0);

describe('storage failure', () => {
  let t: ReturnType<typeof tempDir>;
  let store: EdgeStore;
  let now: number;
  let mono: number;
  const fx = makeFixture(T0);

  beforeEach(() => {
    t = tempDir();
    store = new EdgeStore(join(t.dir, 'edge.db'));
    applySeed(store, parseSeed(fx.seed()));
    now = T0;
    mono = 1000;
  });
  afterEach(() => {
    store.close();
    t.cleanup();
  });

  const gateOf = (failMode: 'secure' | 'safe', relay: FakeRelay) => new Gate({ store, relay, now: () => now, clock: () => mono, failMode });
  const scanStatic = (gate: Gate) => {
    now += 2000;
    mono += 2000;
    return gate.handle({ reader: 'r1', direction: 'in', data: fx.staticQr(undefined, undefined, randomUUID()), receivedAt: mono });
  };
  const outbox = () => store.outbox.pending(1000).map((r) => r.event);
  const kinds = (events: EdgeEvent[]) =>
    events.map((e) => (e.type === 'alarm' ? `alarm:${e.alarm?.kind}:${e.alarm?.state}` : `${e.type}:${e.allow}`));

  it('the finding: a full disk denies writes while SELECT 1 (the old health) still says ok; the write probe does not', () => {
    fillDisk(store);
    expect(store.healthy()).toBe(true);
    expect(() => store.probeWrite()).toThrow(expect.objectContaining({ code: 'SQLITE_FULL' }));
    const relay = new FakeRelay([], 3000);
    const gate = gateOf('secure', relay);
    const out = scanStatic(gate);
    expect(out.decision).toMatchObject({ allow: false, reason: 'unknown' });
    expect(gate.storage).toMatchObject({ ok: false, buffered: 2 });
    expect(gate.storage.reason).toMatch(/SQLITE_FULL/);
  });

  it('fail-secure: denies while records cannot be written, raises the storage alarm, writes it all once the disk has room', () => {
    const relay = new FakeRelay([], 3000);
    const gate = gateOf('secure', relay);
    expect(scanStatic(gate).decision?.allow).toBe(true);
    fillDisk(store);
    const denied = [scanStatic(gate), scanStatic(gate)];
    for (const d of denied) expect(d.decision).toMatchObject({ allow: false, reason: 'unknown' });
    expect(relay.eventIds).toHaveLength(1);
    expect(gate.probeStorage(() => store.probeWrite()).ok).toBe(false);
    freeDisk(store);
    expect(gate.probeStorage(() => store.probeWrite())).toMatchObject({ ok: true, buffered: 0, reason: null });
    const events = outbox();
    expect(kinds(events)).toEqual(['attempt:true', 'alarm:storage:raised', 'attempt:false', 'attempt:false', 'alarm:storage:cleared']);
    expect(events.slice(2, 4).map((e) => e.id)).toEqual(denied.map((d) => d.event?.id));
    expect(events.slice(2, 4).every((e) => e.reason === 'unknown' && !e.counted)).toBe(true);
    expect(scanStatic(gate).decision?.allow).toBe(true);
  });

  it('fail-safe: admits valid credentials, keeps events in memory, writes each once and in order after the disk has room', () => {
    const relay = new FakeRelay([], 3000);
    const gate = gateOf('safe', relay);
    fillDisk(store);
    const admitted = [scanStatic(gate), scanStatic(gate), scanStatic(gate)];
    for (const a of admitted) expect(a.decision?.allow).toBe(true);
    expect(relay.eventIds).toEqual(admitted.map((a) => a.event?.id));
    expect(gate.storage).toMatchObject({ ok: false, buffered: 4 });
    expect(outbox()).toHaveLength(0);
    freeDisk(store);
    // The next scan writes the queue first, then itself.
    const after = scanStatic(gate);
    expect(after.decision?.allow).toBe(true);
    const events = outbox();
    expect(kinds(events)).toEqual([
      'alarm:storage:raised',
      'attempt:true',
      'attempt:true',
      'attempt:true',
      'alarm:storage:cleared',
      'attempt:true',
    ]);
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(1, 4)).toEqual(admitted.map((a) => a.event?.id));
    for (const a of admitted) expect(store.findByPassId(a.event?.passId as string).state?.useCount).toBe(1);
    expect(gate.storage).toMatchObject({ ok: true, buffered: 0 });
  });

  it('gate level: a store whose writes throw SQLITE_FULL never throws out of handle; secure denies, safe admits', () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    for (const failMode of ['secure', 'safe'] as const) {
      const journal: string[] = [];
      const fake = new FakeStore(journal, [fx.key.publicKey]);
      fake.rules.set(fx.rule.id, fx.rule);
      for (const p of Object.values(fx.passes)) fake.passes.set(p.id, p);
      fake.record = () => {
        throw full;
      };
      const relay = new FakeRelay(journal, 3000);
      const gate = new Gate({ store: fake, relay, now: () => now, clock: () => mono, failMode, maxBuffered: 3 });
      const outs = [scanStatic(gate), scanStatic(gate), scanStatic(gate)];
      const allowed = outs.map((o) => o.decision?.allow);
      // safe: the bound is 3 (the alarm takes one place), so the third is denied: it could not be kept.
      expect(allowed).toEqual(failMode === 'secure' ? [false, false, false] : [true, true, false]);
      expect(relay.eventIds).toHaveLength(failMode === 'secure' ? 0 : 2);
      expect(gate.storage).toMatchObject({ ok: false, reason: 'SQLITE_FULL: database or disk is full' });
      expect(gate.manualOpen()).toBeTruthy();
      gate.stop();
    }
  });
});

describe('storage failure: the daemon', () => {
  it('/health says degraded with the reason while the write probe fails, and ok again once it writes', async () => {
    const t = tempDir();
    const cfg = parseConfig({
      dataDir: join(t.dir, 'data'),
      localPort: 0,
      failMode: 'safe',
      readers: [{ type: 'simulated', direction: 'in' }],
      relay: { type: 'simulated', pulseMs: 20 },
    });
    const daemon = new Daemon(cfg, pino({ level: 'silent' }));
    await daemon.start();
    try {
      const fx = makeFixture();
      applySeed(daemon.store, parseSeed(fx.seed()));
      const health = async () =>
        (await (await fetch(`http://127.0.0.1:${daemon.port}/health`)).json()) as {
          status: string;
          storage: { ok: boolean; reason: string | null; buffered: number; failMode: string };
        };
      expect(await health()).toMatchObject({ status: 'ok', storage: { ok: true, reason: null, failMode: 'safe' } });
      fillDisk(daemon.store);
      const bad = await health();
      expect(bad).toMatchObject({ status: 'degraded', storage: { ok: false, buffered: 1, failMode: 'safe' } });
      expect(bad.storage.reason).toMatch(/SQLITE_FULL/);
      const metrics = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
      expect(metrics).toMatch(/^gatehouse_storage_ok 0$/m);
      expect(metrics).toMatch(/^gatehouse_storage_buffered 1$/m);
      // The watchdog's question is unchanged: a restart would not free the disk and would lose what is kept.
      expect(daemon.store.healthy()).toBe(true);
      freeDisk(daemon.store);
      expect(await health()).toMatchObject({ status: 'ok', storage: { ok: true, reason: null, buffered: 0 } });
      const alarms = daemon.store.outbox
        .pending(100)
        .map((r) => r.event)
        .filter((e) => e.type === 'alarm')
        .map((e) => e.alarm?.state);
      expect(alarms).toEqual(['raised', 'cleared']);
    } finally {
      await daemon.stop();
      t.cleanup();
    }
  });
});
