/**
 * The second round's decision rules through Gate with fakes: escort (DEC-15), soft and timed anti-passback
 * (DEC-11), group passes (DEC-16), the `counted` flag (DEC-12), emergency and lockdown (CMD-1, CMD-4), the
 * held-open alarm (ALARM-1) and reader_offline for readers without their own conditions.
 */
import { dynamicQrAt, type PassRecord, type RuleRecord, uuidv7, validators } from '@gatehouse/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EdgeEvent } from '../src/event.js';
import { Gate, type GateOptions } from '../src/gate.js';
import { SimulatedDoorContact, SimulatedRelay } from '../src/hardware/simulated.js';
import { FakeRelay, FakeSensor, FakeStore, type Journal } from './fakes.js';
import { type Fixture, makeFixture } from './fixtures.js';

const T0 = Date.UTC(2026, 0, 7, 10, 0, 0); // a Wednesday, 11:00 in Berlin
const MIN = 60_000;

describe('gate: decision rules, modes and alarms', () => {
  let journal: Journal;
  let fx: Fixture;
  let store: FakeStore;
  let relay: FakeRelay;
  let now: number;
  let mono: number;
  const alerts: string[] = [];
  const alarms: string[] = [];
  const decisions: string[] = [];

  const make = (extra: Partial<GateOptions> = {}) =>
    new Gate({
      store,
      relay,
      debounceMs: 0,
      now: () => now,
      clock: () => mono,
      metrics: {
        decision: (_s, allow, reason) => decisions.push(`${allow ? 'allow' : 'deny'}:${reason}`),
        debounced: () => {},
        alert: (k) => alerts.push(k),
        alarm: (k, s) => alarms.push(`${k}:${s}`),
      },
      ...extra,
    });
  const scan = (gate: Gate, data: string, reader = 'r1', direction: 'in' | 'out' = 'in') =>
    gate.handle({ reader, direction, data, receivedAt: mono });
  const qr = (p: PassRecord) => dynamicQrAt(p.id, p.totpSecret!, now);
  const rule = (over: Partial<RuleRecord>): RuleRecord => {
    const r = { ...fx.rule, id: `rule-${uuidv7()}`, ...over };
    store.rules.set(r.id, r);
    return r;
  };
  const pass = (over: Partial<PassRecord>): PassRecord => {
    const p: PassRecord = { ...fx.passes.multi, id: uuidv7(), ...over };
    store.passes.set(p.id, p);
    return p;
  };
  const later = (ms: number) => {
    now += ms;
    mono += ms;
  };
  const kinds = () => store.events.map((e) => `${e.type}:${e.reason}${e.counted ? ':counted' : ''}`);

  beforeEach(() => {
    vi.useFakeTimers();
    journal = [];
    alerts.length = 0;
    alarms.length = 0;
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
    for (const e of store.events) expect(validators.checkinEvent.validate(e)).toEqual({ ok: true, value: e });
  });

  describe('DEC-15 escort', () => {
    let visitorRule: RuleRecord;
    let visitor: PassRecord;
    let host: PassRecord;
    beforeEach(() => {
      visitorRule = rule({ escortRequired: true, escortSeconds: 30 });
      visitor = pass({ ruleId: visitorRule.id });
      host = pass({ escort: true, card: { format: 'raw', number: '777' } });
    });

    it('an escort shown before: the visitor is admitted within escortSeconds, not after', () => {
      const gate = make();
      expect(scan(gate, 'CARD:777', 'r2').decision?.reason).toBe('ok');
      later(20_000);
      expect(scan(gate, qr(visitor)).decision?.reason).toBe('ok');
      const late = pass({ ruleId: visitorRule.id });
      later(11_000); // 31 s after the escort
      expect(scan(gate, qr(late)).decision?.reason).toBe('escort_required');
      expect(relay.pulses).toBe(2);
    });

    it('an escort shown after: the waiting visitor is decided again and admitted with their own event, on the escort’s pulse', () => {
      const gate = make();
      const denied = scan(gate, qr(visitor));
      expect(denied.decision?.reason).toBe('escort_required');
      expect(relay.pulses).toBe(0);
      later(10_000);
      const escort = scan(gate, 'CARD:777', 'r2');
      expect(escort.decision?.reason).toBe('ok');
      expect(kinds()).toEqual(['attempt:escort_required', 'attempt:ok:counted', 'attempt:ok:counted']);
      const admitted = store.events[2] as EdgeEvent;
      expect(admitted).toMatchObject({ passId: visitor.id, reader: 'r1', allow: true, credentialKind: 'dynamic', occurredAt: now });
      expect(admitted.id).not.toBe(denied.event?.id);
      // One pulse covers both, and it is the escort's.
      expect(relay.pulses).toBe(1);
      expect(relay.eventIds).toEqual([escort.event?.id]);
      expect(store.states.get(visitor.id)).toMatchObject({ useCount: 1, lastDirection: 'in', lastAt: now });
      expect(decisions).toEqual(['deny:escort_required', 'allow:ok', 'allow:ok']);
      // Taken in once: the next escort brings nobody else.
      later(2000);
      scan(gate, 'CARD:777', 'r2');
      expect(store.events.filter((e) => e.passId === visitor.id)).toHaveLength(2);
    });

    it('an escort too late: the visitor’s wait expired silently', () => {
      const gate = make();
      scan(gate, qr(visitor));
      later(31_000);
      scan(gate, 'CARD:777', 'r2');
      expect(kinds()).toEqual(['attempt:escort_required', 'attempt:ok:counted']);
      expect(store.states.get(visitor.id)).toBeUndefined();
    });

    it('the escort itself needs no escort under an escort-required rule; an exit needs none either', () => {
      const gate = make();
      const staff = pass({ ruleId: visitorRule.id, escort: true });
      expect(scan(gate, qr(staff)).decision?.reason).toBe('ok');
      const leaving = pass({ ruleId: visitorRule.id });
      // The staff scan above counts as an escort at this gate for 30 s, so go past it first.
      later(31_000);
      expect(scan(gate, qr(leaving), 'o', 'out').decision?.reason).toBe('ok');
      later(31_000); // the next TOTP step, or the same code would be a replay
      expect(scan(gate, qr(leaving), 'r1', 'in').decision?.reason).toBe('escort_required');
    });

    it('a waiting visitor’s dynamic QR is re-checked: a code gone stale meanwhile is not admitted', () => {
      const slow = rule({ escortRequired: true, escortSeconds: 300 });
      const v = pass({ ruleId: slow.id });
      const gate = make();
      scan(gate, qr(v));
      later(120_000); // four TOTP steps: the code shown two minutes ago is outside ±1 step now
      scan(gate, 'CARD:777', 'r2');
      expect(kinds()).toEqual(['attempt:escort_required', 'attempt:ok:counted']);
      // Scanning the fresh code now is admitted: the escort was just here.
      expect(scan(gate, qr(v)).decision?.reason).toBe('ok');
    });

    it('with a passage sensor: escort and visitor each expect their passage', () => {
      const sensor = new FakeSensor();
      const gate = make({ sensor });
      scan(gate, qr(visitor));
      later(1000);
      scan(gate, 'CARD:777', 'r2');
      sensor.walk();
      sensor.walk();
      expect(kinds()).toEqual(['attempt:escort_required', 'attempt:ok', 'attempt:ok', 'passage:ok:counted', 'passage:ok:counted']);
      expect(store.events.slice(3).map((e) => e.passId)).toEqual([host.id, visitor.id]);
      expect(store.states.get(visitor.id)?.useCount).toBe(1);
      expect(relay.pulses).toBe(1);
    });
  });

  describe('DEC-11 anti-passback', () => {
    it('soft: the second entry is admitted and its event carries alert passback; the first carries none', () => {
      const soft = rule({ antiPassback: 'soft' });
      const p = pass({ ruleId: soft.id });
      const gate = make();
      expect(scan(gate, qr(p)).event?.alert).toBeUndefined();
      later(31_000);
      const second = scan(gate, qr(p));
      expect(second.decision).toMatchObject({ allow: true, alert: 'passback' });
      expect(second.event).toMatchObject({ allow: true, reason: 'ok', alert: 'passback', counted: true });
      expect(alerts).toEqual(['passback']);
    });

    it('hard and timed: an entry after an entry is passback until passbackMinutes after the last, then forgiven', () => {
      const timed = rule({ antiPassback: 'hard', passbackMinutes: 10 });
      const p = pass({ ruleId: timed.id });
      const gate = make();
      expect(scan(gate, qr(p)).decision?.reason).toBe('ok');
      later(9 * MIN);
      expect(scan(gate, qr(p)).decision?.reason).toBe('passback');
      later(MIN);
      expect(scan(gate, qr(p)).decision?.reason).toBe('ok');
      expect(store.states.get(p.id)).toMatchObject({ useCount: 2, lastAt: now });
    });
  });

  describe('DEC-16 group passes and DEC-12 counted', () => {
    it('without a sensor each admitted scan counts one, anti-passback aside, up to the group size', () => {
      const hard = rule({ antiPassback: 'hard' });
      const group = pass({ ruleId: hard.id, type: 'group', maxUses: 3, card: { format: 'raw', number: '900' } });
      const gate = make();
      const reasons = [0, 1, 2, 3].map(() => {
        later(1000);
        return scan(gate, 'CARD:900').decision?.reason;
      });
      expect(reasons).toEqual(['ok', 'ok', 'ok', 'used_up']);
      expect(kinds()).toEqual(['attempt:ok:counted', 'attempt:ok:counted', 'attempt:ok:counted', 'attempt:used_up']);
      expect(store.states.get(group.id)?.useCount).toBe(3);
    });

    it('with a sensor each passage counts one; an unlock nobody used counts none', () => {
      const group = pass({ type: 'group', maxUses: 2, card: { format: 'raw', number: '901' } });
      const sensor = new FakeSensor();
      const gate = make({ sensor });
      scan(gate, 'CARD:901');
      sensor.walk();
      later(1000);
      scan(gate, 'CARD:901');
      vi.advanceTimersByTime(3001); // nobody went through
      later(4000);
      scan(gate, 'CARD:901');
      sensor.walk();
      later(1000);
      expect(scan(gate, 'CARD:901').decision?.reason).toBe('used_up');
      expect(kinds()).toEqual([
        'attempt:ok',
        'passage:ok:counted',
        'attempt:ok',
        'no_passage:ok',
        'attempt:ok',
        'passage:ok:counted',
        'attempt:used_up',
      ]);
      expect(store.states.get(group.id)?.useCount).toBe(2);
    });

    it('counted is on exactly the events that moved a state: not on denials, manual opens, forced or alarms', () => {
      const sensor = new FakeSensor();
      const gate = make({ sensor });
      scan(gate, 'CARD:31337'); // unknown
      gate.manualOpen();
      sensor.walk(); // the manual open's passage: no pass
      sensor.walk(); // forced
      scan(gate, fx.wiegand, 'r1', 'out');
      sensor.walk();
      gate.readerCondition('r1', { kind: 'tamper', state: 'raised' });
      const counted = store.events.filter((e) => e.counted);
      expect(counted).toEqual([expect.objectContaining({ type: 'passage', passId: fx.passes.card.id, direction: 'out' })]);
      expect(store.events.filter((e) => e.counted === false)).toEqual([]);
      expect(alarms).toEqual(['forced:raised', 'tamper:raised']);
    });
  });

  describe('CMD-1, CMD-4 modes', () => {
    it('emergency holds the relay through pulses until release; attempts are still decided and logged', () => {
      const sim = new SimulatedRelay(50);
      const gate = new Gate({ store, relay: sim, now: () => now, clock: () => mono, debounceMs: 0 });
      gate.setEmergency(true);
      expect(sim.held).toBe(true);
      expect(gate.emergency).toBe(true);
      expect(scan(gate, fx.wiegand).decision?.reason).toBe('ok');
      expect(scan(gate, 'CARD:31337').decision?.reason).toBe('unknown');
      vi.advanceTimersByTime(1000); // far past the pulse's 50 ms: the hold stays
      expect(sim.active).toBe(true);
      expect(sim.recordedPulses()).toHaveLength(1);
      expect(kinds()).toEqual(['attempt:ok:counted', 'attempt:unknown']);
      gate.release();
      expect(sim.held).toBe(false);
      expect(sim.active).toBe(false);
    });

    it('lockdown ends an emergency (relay de-energised, every attempt lockdown) and emergency ends a lockdown', () => {
      const gate = make();
      gate.setEmergency(true);
      gate.setLockdown(true);
      expect(relay.held).toBe(false);
      expect(relay.active).toBe(false);
      expect(gate.emergency).toBe(false);
      expect(scan(gate, fx.wiegand).decision?.reason).toBe('lockdown');
      gate.setEmergency(true);
      expect(gate.lockdown).toBe(false);
      expect(relay.held).toBe(true);
      later(2000);
      expect(scan(gate, fx.wiegand).decision?.reason).toBe('ok');
      gate.setLockdown(false); // the local API's /release: ends either
      expect(gate.emergency).toBe(false);
      expect(relay.held).toBe(false);
      expect(journal.filter((j) => j === 'hold' || j === 'unhold' || j === 'off')).toEqual(['hold', 'off', 'hold', 'unhold']);
    });

    it('takes up the store’s mode at start and after a sync (syncMode)', () => {
      store.emergency = true;
      const gate = make();
      expect(relay.held).toBe(true);
      store.emergency = false;
      store.gateLockdown = true;
      gate.syncMode();
      expect(relay.held).toBe(false);
      expect(gate.lockdown).toBe(true);
    });

    it('a passage during an emergency is not a forced entry', () => {
      const sensor = new FakeSensor();
      const gate = make({ sensor });
      gate.setEmergency(true);
      sensor.walk();
      expect(store.events).toEqual([expect.objectContaining({ type: 'passage', reason: 'manual', passId: null })]);
      expect(alarms).toEqual([]);
    });
  });

  describe('ALARM-1 held open', () => {
    it('open past heldOpenSeconds after an unlock raises held_open once; closing clears it', () => {
      const door = new SimulatedDoorContact();
      const gate = make({ door, heldOpenSeconds: 30 });
      scan(gate, fx.wiegand);
      later(1000);
      door.simulate(true);
      vi.advanceTimersByTime(28_000);
      mono += 28_000;
      expect(store.events.filter((e) => e.type === 'alarm')).toEqual([]);
      vi.advanceTimersByTime(1500);
      const raised = store.events.filter((e) => e.type === 'alarm');
      expect(raised).toEqual([expect.objectContaining({ alarm: expect.objectContaining({ kind: 'held_open', state: 'raised' }) })]);
      vi.advanceTimersByTime(60_000);
      door.simulate(false);
      expect(store.events.filter((e) => e.type === 'alarm').map((e) => `${e.alarm?.kind}:${e.alarm?.state}`)).toEqual([
        'held_open:raised',
        'held_open:cleared',
      ]);
      expect(alarms).toEqual(['held_open:raised', 'held_open:cleared']);
    });

    it('a door closed in time raises nothing; a door opened with no unlock is forced at once, and held open if left open', () => {
      const door = new SimulatedDoorContact();
      const gate = make({ door, heldOpenSeconds: 30 });
      scan(gate, fx.wiegand);
      door.simulate(true);
      later(5000);
      door.simulate(false);
      vi.advanceTimersByTime(60_000);
      expect(store.events.filter((e) => e.type === 'alarm')).toEqual([]);
      relay.endPulse();
      later(60_000);
      door.simulate(true);
      expect(store.events.at(-1)).toMatchObject({ type: 'forced', allow: false });
      later(29_000);
      vi.advanceTimersByTime(29_000);
      expect(store.events.at(-1)).toMatchObject({ type: 'forced' });
      later(1_000);
      vi.advanceTimersByTime(1_000);
      expect(store.events.at(-1)).toMatchObject({ type: 'alarm', alarm: { kind: 'held_open', state: 'raised' } });
      door.simulate(false);
      expect(store.events.at(-1)).toMatchObject({ type: 'alarm', alarm: { kind: 'held_open', state: 'cleared' } });
    });

    it('no held-open alarm during an emergency; the window starts when it is released', () => {
      const door = new SimulatedDoorContact();
      const gate = make({ door, heldOpenSeconds: 10 });
      gate.setEmergency(true);
      door.simulate(true);
      vi.advanceTimersByTime(60_000);
      expect(store.events.filter((e) => e.type === 'alarm')).toEqual([]);
      gate.release();
      vi.advanceTimersByTime(9_000);
      expect(store.events.filter((e) => e.type === 'alarm')).toEqual([]);
      vi.advanceTimersByTime(1_001);
      expect(store.events.filter((e) => e.type === 'alarm')).toHaveLength(1);
    });

    it('a failing store in the timer is not thrown: the alarm is kept in memory with the storage alarm', () => {
      const errors: unknown[] = [];
      const door = new SimulatedDoorContact();
      const gate = make({ door, heldOpenSeconds: 1, log: { info() {}, warn() {}, error: (o) => errors.push(o) } });
      scan(gate, fx.wiegand);
      door.simulate(true);
      store.failNextRecord = true;
      expect(() => vi.advanceTimersByTime(2000)).not.toThrow();
      expect(errors).toHaveLength(0);
      expect(gate.storage).toMatchObject({ ok: false, buffered: 2 });
    });
  });

  it('ALARM-1 reader_offline: raised once after readerOfflineMs unhealthy, cleared when healthy; a blip raises nothing', () => {
    const gate = make({ readerOfflineMs: 5000 });
    expect(gate.readerHealth('qr', false, 'port closed')).toBeNull();
    mono += 2000;
    expect(gate.readerHealth('qr', true)).toBeNull(); // a two-second blip
    expect(gate.readerHealth('qr', false, 'port closed')).toBeNull();
    mono += 5000;
    expect(gate.readerHealth('qr', false, 'port closed')?.alarm).toEqual({
      kind: 'reader_offline',
      state: 'raised',
      detail: 'port closed',
    });
    mono += 5000;
    expect(gate.readerHealth('qr', false, 'port closed')).toBeNull();
    expect(gate.readerHealth('qr', true)?.alarm).toEqual({ kind: 'reader_offline', state: 'cleared' });
    expect(store.events.map((e) => e.reader)).toEqual(['qr', 'qr']);
    expect(alarms).toEqual(['reader_offline:raised', 'reader_offline:cleared']);
  });
});
