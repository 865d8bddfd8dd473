import { dynamicQrAt, validators } from '@gatehouse/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Gate, type GateOptions } from '../src/gate.js';
import { FakeRelay, FakeSensor, FakeStore, type Journal } from './fakes.js';
import { type Fixture, makeFixture } from './fixtures.js';

const T0 = Date.UTC(2026, 0, 7, 10, 0, 0); // a Wednesday, 11:00 in Berlin

describe('gate state machine', () => {
  let journal: Journal;
  let fx: Fixture;
  let store: FakeStore;
  let relay: FakeRelay;
  let now: number;
  let mono: number;
  const decisions: { seconds: number; allow: boolean; reason: string }[] = [];

  const make = (extra: Partial<GateOptions> = {}) =>
    new Gate({
      store,
      relay,
      debounceMs: 1500,
      now: () => now,
      clock: () => mono,
      metrics: { decision: (seconds, allow, reason) => decisions.push({ seconds, allow, reason }), debounced: () => {} },
      ...extra,
    });
  const scan = (gate: Gate, data: string, reader = 'r1', direction: 'in' | 'out' = 'in') =>
    gate.handle({ reader, direction, data, receivedAt: mono });

  beforeEach(() => {
    vi.useFakeTimers();
    journal = [];
    decisions.length = 0;
    now = T0;
    mono = 1000;
    fx = makeFixture(T0);
    store = new FakeStore(journal, [fx.key.publicKey]);
    store.rules.set(fx.rule.id, fx.rule);
    for (const p of Object.values(fx.passes)) store.passes.set(p.id, p);
    relay = new FakeRelay(journal, 3000);
  });
  afterEach(() => {
    vi.useRealTimers();
    // Every event the gate writes is a valid protocol CheckinEvent.
    for (const e of store.events) expect(validators.checkinEvent.validate(e)).toEqual({ ok: true, value: e });
  });

  it('allows a valid dynamic QR: event committed before the relay command, state advanced', () => {
    const gate = make();
    const p = fx.passes.multi;
    const out = scan(gate, dynamicQrAt(p.id, p.totpSecret!, now));
    expect(out.decision).toMatchObject({ allow: true, reason: 'ok', passId: p.id, credentialKind: 'dynamic' });
    expect(journal).toEqual(['record:attempt:ok', 'pulse']);
    expect(store.states.get(p.id)).toMatchObject({ useCount: 1, lastDirection: 'in' });
    expect(store.states.get(p.id)?.lastTotpStep).toBe(Math.floor(now / 30_000));
    expect(out.event).toMatchObject({ type: 'attempt', gateId: 'gate-1', passId: p.id, allow: true, direction: 'in', reader: 'r1' });
    expect(relay.eventIds).toEqual([out.event!.id]);
    expect(decisions).toHaveLength(1);
  });

  it('does not pulse the relay when the event cannot be recorded (fail-secure, the default): denied, kept in memory', () => {
    const gate = make();
    const p = fx.passes.multi;
    store.failNextRecord = true;
    const out = scan(gate, dynamicQrAt(p.id, p.totpSecret!, now));
    expect(out.decision).toMatchObject({ allow: false, reason: 'unknown' });
    expect(journal).toEqual(['record-failed']);
    expect(relay.pulses).toBe(0);
    expect(gate.storage).toMatchObject({ ok: false, buffered: 2 });
  });

  it('CRED-3, DEC-6: the same code again within the debounce window is one attempt; after it, a replay', () => {
    const gate = make();
    const p = fx.passes.multi;
    const qr = dynamicQrAt(p.id, p.totpSecret!, now);
    scan(gate, qr);
    mono += 500;
    expect(scan(gate, qr).debounced).toBe(true);
    mono += 1400; // still within 1.5 s of the last read: a held phone keeps extending the window
    expect(scan(gate, qr).debounced).toBe(true);
    mono += 1600;
    const again = scan(gate, qr);
    expect(again.decision).toMatchObject({ allow: false, reason: 'replay' });
    expect(store.events.map((e) => e.reason)).toEqual(['ok', 'replay']);
    expect(relay.pulses).toBe(1);
  });

  it('a different code from the same reader is not debounced', () => {
    const gate = make();
    scan(gate, 'CARD:1');
    expect(scan(gate, 'CARD:2').debounced).toBe(false);
    expect(store.events).toHaveLength(2);
  });

  it('DEC-4, DEC-5, DEC-9: denies unknown, revoked, expired and single-use-again with their reasons and never pulses', () => {
    const gate = make();
    const r = (t: string) => scan(gate, t, `r${Math.random()}`).decision?.reason;
    expect(r('CARD:999')).toBe('unknown');
    expect(r(dynamicQrAt(fx.passes.revoked.id, fx.passes.revoked.totpSecret!, now))).toBe('revoked');
    expect(r(dynamicQrAt(fx.passes.expired.id, fx.passes.expired.totpSecret!, now))).toBe('expired');
    expect(relay.pulses).toBe(0);
    const single = fx.passes.dynamic;
    expect(r(dynamicQrAt(single.id, single.totpSecret!, now))).toBe('ok');
    now += 30_000;
    expect(r(dynamicQrAt(single.id, single.totpSecret!, now))).toBe('used_up');
    expect(relay.pulses).toBe(1);
  });

  it('CRED-5, CRED-8: admits a Wiegand card by its cache key and a signed static QR without a cached pass', () => {
    const gate = make();
    expect(scan(gate, fx.wiegand).decision).toMatchObject({ allow: true, passId: fx.passes.card.id, credentialKind: 'card' });
    const out = scan(gate, fx.staticQr(), 'r2');
    expect(out.decision).toMatchObject({ allow: true, credentialKind: 'static' });
    expect(store.states.get(out.decision!.passId!)).toMatchObject({ useCount: 1 });
  });

  it('records malformed reads, but at most one outbox event per reader per second', () => {
    const gate = make();
    scan(gate, 'garbage-1');
    scan(gate, 'garbage-2');
    scan(gate, '\x00\x01\x02');
    expect(store.events.filter((e) => e.reason === 'malformed')).toHaveLength(1);
    expect(decisions.filter((d) => d.reason === 'malformed')).toHaveLength(3);
    mono += 1001;
    scan(gate, 'garbage-3');
    expect(store.events.filter((e) => e.reason === 'malformed')).toHaveLength(2);
  });

  it('CMD-1: lockdown denies everything and cuts a running pulse; release restores', () => {
    const gate = make();
    const p = fx.passes.multi;
    gate.setLockdown(true);
    expect(journal).toContain('off');
    expect(scan(gate, dynamicQrAt(p.id, p.totpSecret!, now)).decision?.reason).toBe('lockdown');
    expect(gate.manualOpen()).toMatchObject({ type: 'manual', allow: false, reason: 'lockdown' });
    expect(relay.pulses).toBe(0);
    gate.setLockdown(false);
    mono += 2000;
    expect(scan(gate, dynamicQrAt(p.id, p.totpSecret!, now)).decision?.reason).toBe('ok');
  });

  it('CMD-1, DEC-1: manual open records a manual event, then pulses', () => {
    const gate = make();
    const e = gate.manualOpen('out');
    expect(e).toMatchObject({ type: 'manual', allow: true, reason: 'manual', direction: 'out', passId: null, credentialKind: 'none' });
    expect(journal).toEqual(['record:manual:manual', 'pulse']);
  });

  describe('with a passage sensor', () => {
    it('DEC-12: counts the use only when someone walks through; the TOTP step is burned at once', () => {
      const sensor = new FakeSensor();
      const gate = make({ sensor });
      const p = fx.passes.multi;
      scan(gate, dynamicQrAt(p.id, p.totpSecret!, now));
      expect(store.states.get(p.id)).toMatchObject({ useCount: 0, lastDirection: null, lastTotpStep: Math.floor(now / 30_000) });
      vi.advanceTimersByTime(1000);
      sensor.walk();
      expect(store.states.get(p.id)).toMatchObject({ useCount: 1, lastDirection: 'in' });
      expect(store.events.map((e) => e.type)).toEqual(['attempt', 'passage']);
      vi.advanceTimersByTime(5000);
      expect(store.events.map((e) => e.type)).toEqual(['attempt', 'passage']);
    });

    it('MSG-2, DEC-12: an unlock with nobody passing is a no_passage event and leaves the use uncounted', () => {
      const sensor = new FakeSensor();
      const gate = make({ sensor });
      scan(gate, fx.wiegand);
      vi.advanceTimersByTime(3001);
      expect(store.events.map((e) => e.type)).toEqual(['attempt', 'no_passage']);
      expect(store.events[1]).toMatchObject({ passId: fx.passes.card.id, credentialKind: 'card' });
      expect(store.states.get(fx.passes.card.id)?.useCount ?? 0).toBe(0);
    });

    it('MSG-2: a passage without an unlock is a forced alarm', () => {
      const sensor = new FakeSensor();
      make({ sensor });
      sensor.walk();
      expect(store.events).toEqual([expect.objectContaining({ type: 'forced', allow: false, passId: null })]);
    });

    it('two unlocks, two passages: each confirms its own pass', () => {
      const sensor = new FakeSensor();
      const gate = make({ sensor });
      scan(gate, fx.wiegand, 'a');
      gate.manualOpen();
      sensor.walk();
      sensor.walk();
      sensor.walk();
      expect(store.events.map((e) => `${e.type}:${e.passId === null ? '-' : 'pass'}`)).toEqual([
        'attempt:pass',
        'manual:-',
        'passage:pass',
        'passage:-',
        'forced:-',
      ]);
      expect(gate).toBeDefined();
    });
  });

  it('DEC-10: leaving (direction out) is allowed for an expired pass but a revoked one stays out', () => {
    const gate = make();
    const e = fx.passes.expired;
    expect(scan(gate, dynamicQrAt(e.id, e.totpSecret!, now), 'o', 'out').decision?.reason).toBe('ok');
    const r = fx.passes.revoked;
    expect(scan(gate, dynamicQrAt(r.id, r.totpSecret!, now), 'o2', 'out').decision?.reason).toBe('revoked');
  });
});
