/**
 * The gate state machine: reader input → parseCredential → lookup → decide()
 * → (event + pass state) into the store in one transaction → relay pulse.
 * Plain and synchronous on the scan path; the store, relay, sensor, clocks
 * and metrics are injected so tests drive it with fakes.
 *
 * Ordering: the event is committed BEFORE the relay is commanded. If the
 * process dies between the two, the outbox holds an "allowed" attempt for an
 * unlock that never happened — the person scans again and the log shows two
 * attempts. The other order could open the gate and lose the record of it,
 * which an access log must never do. A commit survives kill -9 (WAL write is
 * in the kernel once commit returns; see store/open.ts for power loss).
 *
 * Passage sensor: when one is configured, an allowed pass counts as used
 * (use count, direction for anti-passback) only when someone actually walks
 * through within the pulse; the TOTP step is burned at once, so a screenshot
 * cannot be replayed while the gate is open. An unlock with no passage is a
 * `no_passage` event; a passage with no unlock is a `forced` alarm.
 */
import {
  cardKey,
  type Decision,
  type Direction,
  decide,
  type GateContext,
  nextPassState,
  type PassState,
  parseCredential,
  uuidv7,
} from '@gatehouse/protocol';
import type { EdgeEvent as CheckinEvent } from './event.js';
import type { PassageSensor, ReaderCondition, ReaderInput, Relay } from './hardware/types.js';
import type { PassLookup } from './store/cache.js';

export interface GateStore {
  context(direction: Direction): GateContext;
  findByPassId(passId: string): PassLookup;
  findByCard(key: string): PassLookup;
  /** Event and (optional) new pass state, atomically. */
  record(event: CheckinEvent, passId?: string | null, state?: PassState | null): void;
  localLockdown: boolean;
}

export interface GateMetrics {
  decision(seconds: number, allow: boolean, reason: string): void;
  debounced(reader: string): void;
}

export interface GateLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface GateOptions {
  store: GateStore;
  relay: Relay;
  sensor?: PassageSensor | null;
  debounceMs?: number;
  /** Epoch ms for decisions and events. */
  now?: () => number;
  /** Monotonic ms for latency. */
  clock?: () => number;
  metrics?: GateMetrics;
  log?: GateLog;
  /** Direction of manual opens and forced passages (the gate's main direction). */
  defaultDirection?: Direction;
  /** Malformed reads are counted always, but written to the outbox at most once per this interval per reader. */
  malformedEventIntervalMs?: number;
}

export interface ScanOutcome {
  debounced: boolean;
  decision: Decision | null;
  event: CheckinEvent | null;
}

interface PendingUnlock {
  passId: string | null;
  decision: Decision | null;
  direction: Direction;
  reader: string | undefined;
  timer: NodeJS.Timeout;
}

const DEBOUNCED: ScanOutcome = Object.freeze({ debounced: true, decision: null, event: null });

export class Gate {
  readonly #store: GateStore;
  readonly #relay: Relay;
  readonly #sensor: PassageSensor | null;
  readonly #debounceMs: number;
  readonly #now: () => number;
  readonly #clock: () => number;
  readonly #metrics: GateMetrics | undefined;
  readonly #log: GateLog | undefined;
  readonly #defaultDirection: Direction;
  readonly #malformedEveryMs: number;
  /** Last text per reader, for the debounce. */
  readonly #last = new Map<string, { text: string; at: number }>();
  readonly #lastMalformedEvent = new Map<string, number>();
  readonly #pending: PendingUnlock[] = [];
  /** DEC-15: when an escort's credential was last admitted at this gate (both its readers share it). */
  #escortAt: number | null = null;

  constructor(o: GateOptions) {
    this.#store = o.store;
    this.#relay = o.relay;
    this.#sensor = o.sensor ?? null;
    this.#debounceMs = o.debounceMs ?? 1500;
    this.#now = o.now ?? Date.now;
    this.#clock = o.clock ?? (() => performance.now());
    this.#metrics = o.metrics;
    this.#log = o.log;
    this.#defaultDirection = o.defaultDirection ?? 'in';
    this.#malformedEveryMs = o.malformedEventIntervalMs ?? 1000;
    this.#sensor?.onPassage(() => this.passage());
  }

  get lockdown(): boolean {
    return this.#store.context(this.#defaultDirection).lockdown;
  }

  /** One read from a reader. Never throws for anything a reader can send. */
  handle(input: ReaderInput): ScanOutcome {
    const t0 = input.receivedAt;
    const d0 = input.data;
    const text =
      typeof d0 === 'string' ? d0 : (Buffer.isBuffer(d0) ? d0 : Buffer.from(d0.buffer, d0.byteOffset, d0.byteLength)).toString('latin1');
    const last = this.#last.get(input.reader);
    const mono = this.#clock();
    if (last && last.text === text && mono - last.at < this.#debounceMs) {
      last.at = mono;
      this.#metrics?.debounced(input.reader);
      return DEBOUNCED;
    }
    this.#last.set(input.reader, { text, at: mono });

    const cred = parseCredential(input.data);
    let found: PassLookup | undefined;
    if (cred.kind === 'dynamic' || cred.kind === 'static') found = this.#store.findByPassId(cred.passId);
    else if (cred.kind === 'card') found = this.#store.findByCard(cardKey(cred));
    const now = this.#now();
    const base = this.#store.context(input.direction);
    // The cached context is shared; the escort time is this gate's own and changes between scans.
    const ctx = this.#escortAt === null ? base : { ...base, escortAt: this.#escortAt };
    const d = decide(cred, found?.pass, found?.rule, ctx, found?.state, now);
    const event: CheckinEvent = {
      id: uuidv7(now),
      type: 'attempt',
      gateId: ctx.gateId,
      passId: d.passId,
      credentialKind: d.credentialKind,
      direction: input.direction,
      allow: d.allow,
      reason: d.reason,
      occurredAt: now,
      reader: input.reader,
      ...(d.alert ? { alert: d.alert } : {}),
    };

    if (!d.allow) {
      if (d.reason !== 'malformed' || this.#malformedDue(input.reader, mono)) this.#store.record(event);
    } else {
      const passId = d.passId;
      let state: PassState | null = null;
      if (passId !== null) {
        if (this.#sensor) {
          // Burn the TOTP step now; count the use when the passage is seen.
          const s = found?.state;
          state = {
            useCount: s?.useCount ?? 0,
            lastDirection: s?.lastDirection ?? null,
            lastTotpStep: d.totpStep ?? s?.lastTotpStep ?? null,
            lastAt: s?.lastAt ?? null,
          };
        } else {
          state = nextPassState(found?.state, d, input.direction, now);
        }
      }
      this.#store.record(event, passId, state);
      this.#relay.pulse(undefined, event.id);
      if (found?.pass?.escort && input.direction === 'in') this.escortSeen(now);
      if (this.#sensor) this.#expectPassage(passId, d, input.direction, input.reader);
    }
    this.#metrics?.decision((this.#clock() - t0) / 1000, d.allow, d.reason);
    return { debounced: false, decision: d, event };
  }

  #malformedDue(reader: string, mono: number): boolean {
    const last = this.#lastMalformedEvent.get(reader);
    if (last !== undefined && mono - last < this.#malformedEveryMs) return false;
    this.#lastMalformedEvent.set(reader, mono);
    return true;
  }

  #event(type: CheckinEvent['type'], fields: Partial<CheckinEvent>): CheckinEvent {
    const now = this.#now();
    return {
      id: uuidv7(now),
      type,
      gateId: this.#store.context(this.#defaultDirection).gateId,
      passId: null,
      credentialKind: 'none',
      direction: this.#defaultDirection,
      allow: true,
      reason: 'ok',
      occurredAt: now,
      ...fields,
    };
  }

  #expectPassage(passId: string | null, decision: Decision | null, direction: Direction, reader: string | undefined): void {
    const pending: PendingUnlock = {
      passId,
      decision,
      direction,
      reader,
      timer: setTimeout(() => {
        const i = this.#pending.indexOf(pending);
        if (i < 0) return;
        this.#pending.splice(i, 1);
        const e = this.#event('no_passage', {
          passId,
          direction,
          credentialKind: decision?.credentialKind ?? 'none',
          reason: decision ? 'ok' : 'manual',
          ...(reader ? { reader } : {}),
        });
        this.#store.record(e);
        this.#log?.info({ passId, direction }, 'unlocked but nobody passed');
      }, this.#relay.pulseMs),
    };
    pending.timer.unref?.();
    this.#pending.push(pending);
  }

  /** The passage sensor saw someone go through. */
  passage(): CheckinEvent {
    const p = this.#pending.shift();
    if (!p) {
      const e = this.#event('forced', { allow: false, reason: 'unknown' });
      this.#store.record(e);
      this.#log?.warn({ eventId: e.id }, 'passage without unlock: forced');
      return e;
    }
    clearTimeout(p.timer);
    let state: PassState | null = null;
    if (p.passId !== null && p.decision) {
      state = nextPassState(this.#store.findByPassId(p.passId).state, p.decision, p.direction, this.#now());
    }
    const e = this.#event('passage', {
      passId: p.passId,
      direction: p.direction,
      credentialKind: p.decision?.credentialKind ?? 'none',
      reason: p.decision ? 'ok' : 'manual',
      ...(p.reader ? { reader: p.reader } : {}),
    });
    this.#store.record(e, p.passId, state);
    return e;
  }

  /** Open by command (local API now, signed MQTT command later). Refused in lockdown. */
  manualOpen(direction: Direction = this.#defaultDirection): CheckinEvent {
    const locked = this.lockdown;
    const e = this.#event('manual', { direction, allow: !locked, reason: locked ? 'lockdown' : 'manual' });
    this.#store.record(e);
    if (!locked) {
      this.#relay.pulse(undefined, e.id);
      if (this.#sensor) this.#expectPassage(null, null, direction, undefined);
    }
    return e;
  }

  /** A reader reported a condition (tamper, power, offline): an `alarm` event (SPEC ALARM-1). */
  readerCondition(reader: string, c: ReaderCondition): CheckinEvent {
    const e = this.#event('alarm', {
      allow: false,
      reason: 'unknown',
      reader,
      alarm: { kind: c.kind, state: c.state, ...(c.detail ? { detail: c.detail } : {}) },
    });
    this.#store.record(e);
    this.#log?.warn({ reader, alarm: c.kind, state: c.state }, 'reader condition');
    return e;
  }

  /** DEC-15: an escort's credential was admitted at this gate at `at`. */
  escortSeen(at: number): void {
    this.#escortAt = at;
  }

  setLockdown(on: boolean): void {
    this.#store.localLockdown = on;
    if (on) this.#relay.off();
    this.#log?.warn({ lockdown: on }, on ? 'lockdown' : 'lockdown released');
  }

  /** Drops timers (shutdown). The relay is the daemon's to close. */
  stop(): void {
    for (const p of this.#pending) clearTimeout(p.timer);
    this.#pending.length = 0;
  }
}
