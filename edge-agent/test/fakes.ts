/** Fakes for the gate's collaborators; every call lands in one shared journal so tests can check ordering. */
import {
  type Direction,
  type GateContext,
  KeyRing,
  type PassRecord,
  type PassState,
  type RuleRecord,
  cardKey as toCardKey,
} from '@gatehouse/protocol';
import type { EdgeEvent } from '../src/event.js';
import type { GateStore } from '../src/gate.js';
import type { HardwareHealth, PassageSensor, Relay } from '../src/hardware/types.js';
import type { PassLookup } from '../src/store/cache.js';

export type Journal = string[];

export class FakeStore implements GateStore {
  readonly passes = new Map<string, PassRecord>();
  readonly rules = new Map<string, RuleRecord>();
  readonly states = new Map<string, PassState>();
  readonly events: EdgeEvent[] = [];
  localLockdown = false;
  gateLockdown = false;
  emergency = false;
  /** DEC-14: the site calendar context() hands decide(). */
  holidays = new Map<string, { kind: 'closed' | 'special'; windows: { from: string; to: string }[] }>();
  failNextRecord = false;
  readonly #ring: KeyRing;

  constructor(
    readonly journal: Journal,
    keys: string[],
    readonly gate = { gateId: 'gate-1', zoneId: 'zone-lobby', siteId: 'site-hq', timezone: 'Europe/Berlin' },
  ) {
    this.#ring = new KeyRing(keys);
  }

  context(direction: Direction): GateContext {
    return {
      ...this.gate,
      direction,
      lockdown: !this.emergency && (this.gateLockdown || this.localLockdown),
      keys: this.#ring,
      holidays: this.holidays,
    };
  }

  #lookup(pass: PassRecord | undefined, id: string): PassLookup {
    return { pass, rule: pass?.ruleId ? this.rules.get(pass.ruleId) : undefined, state: this.states.get(pass?.id ?? id) };
  }

  findByPassId(passId: string): PassLookup {
    return this.#lookup(this.passes.get(passId), passId);
  }

  findByCard(key: string): PassLookup {
    const pass = [...this.passes.values()].find((p) => p.card && toCardKey(p.card) === key);
    return pass ? this.#lookup(pass, pass.id) : { pass: undefined, rule: undefined, state: undefined };
  }

  record(event: EdgeEvent, passId?: string | null, state?: PassState | null): void {
    if (this.failNextRecord) {
      this.failNextRecord = false;
      this.journal.push('record-failed');
      throw new Error('disk I/O error');
    }
    this.journal.push(`record:${event.type}:${event.reason}`);
    this.events.push(event);
    if (passId && state) this.states.set(passId, state);
  }
}

export class FakeRelay implements Relay {
  readonly type = 'fake';
  active = false;
  held = false;
  pulses = 0;
  constructor(
    readonly journal: Journal,
    readonly pulseMs = 3000,
  ) {}
  readonly eventIds: (string | undefined)[] = [];
  pulse(_ms?: number, eventId?: string): void {
    this.eventIds.push(eventId);
    this.journal.push('pulse');
    this.pulses++;
    this.active = true;
  }
  /** Like the real relays: the pulse's timer ends it; a pulse during a hold leaves the hold alone. */
  endPulse(): void {
    if (!this.held) this.active = false;
  }
  hold(on: boolean): void {
    this.journal.push(on ? 'hold' : 'unhold');
    this.held = on;
    this.active = on;
  }
  off(): void {
    this.journal.push('off');
    this.active = false;
    this.held = false;
  }
  close(): void {
    this.off();
  }
  health(): HardwareHealth {
    return { name: 'relay', type: 'fake', healthy: true };
  }
}

export class FakeSensor implements PassageSensor {
  readonly type = 'fake';
  #cb: (() => void) | null = null;
  onPassage(cb: () => void): void {
    this.#cb = cb;
  }
  walk(): void {
    this.#cb?.();
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  health(): HardwareHealth {
    return { name: 'sensor', type: 'fake', healthy: true };
  }
}
