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
 * `no_passage` event; a passage with no unlock is a `forced` alarm. The event
 * that moved the pass's state carries `counted: true` (DEC-12).
 *
 * Escort (DEC-15): an admitted escort credential (`pass.escort`) marks the
 * gate's escort time; a visitor denied `escort_required` waits here for the
 * rule's `escortSeconds`, and an escort admitted meanwhile decides each waiting
 * visitor again with the escort time now — the whole decision, so a dynamic QR
 * whose code went stale meanwhile (past ±1 step) is `bad_code` then, is not
 * admitted and records nothing more: the visitor scans again, and the escort
 * time still covers them. An admitted visitor gets their own event and rides
 * on the escort's pulse.
 *
 * Modes (CMD-1, CMD-4): lockdown de-energises the relay and every attempt is
 * `lockdown`; emergency holds it energised (Relay.hold) until released while
 * attempts are still decided and logged; each clears the other.
 *
 * Alarms (ALARM-1): forced doors, held open, reader conditions and
 * reader_offline are GateAlarms' (alarms.ts); the gate tells it of unlocks and
 * of emergencies. Timer callbacks never throw: a failure is logged.
 */
import {
  cardKey,
  type Decision,
  type Direction,
  decide,
  type GateContext,
  nextPassState,
  type ParsedCredential,
  type PassState,
  parseCredential,
  uuidv7,
} from '@gatehouse/protocol';
import { GateAlarms } from './alarms.js';
import type { EdgeEvent as CheckinEvent } from './event.js';
import type { DoorContact, PassageSensor, ReaderCondition, ReaderInput, Relay } from './hardware/types.js';
import { type FailMode, StorageGuard, type StorageStatus } from './storage.js';
import type { PassLookup } from './store/cache.js';

export interface GateStore {
  context(direction: Direction): GateContext;
  findByPassId(passId: string): PassLookup;
  findByCard(key: string): PassLookup;
  /** Event and (optional) new pass state, atomically. */
  record(event: CheckinEvent, passId?: string | null, state?: PassState | null): void;
  localLockdown: boolean;
  /** CMD-4; setting it does not touch localLockdown (the gate clears one when it sets the other). */
  emergency: boolean;
}

export interface GateMetrics {
  decision(seconds: number, allow: boolean, reason: string): void;
  debounced(reader: string): void;
  /** An admitted entry a soft rule reports (DEC-11). */
  alert?(kind: string): void;
  /** An alarm event recorded (ALARM-1), and the `forced` passage. */
  alarm?(kind: string, state: 'raised' | 'cleared'): void;
}

export interface GateLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error?(obj: object, msg: string): void;
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
  /** Door position contact for the held-open alarm (ALARM-1). */
  door?: DoorContact | null;
  heldOpenSeconds?: number;
  /** A reader unhealthy this long (readerHealth) raises `reader_offline`. */
  readerOfflineMs?: number;
  /**
   * While the store cannot write: `secure` (default) denies every attempt (reason `unknown`); `safe` admits as
   * decide() says and keeps the records in memory until the store writes again (storage.ts).
   */
  failMode?: FailMode;
  /** Bound of that memory queue; past it even `safe` denies. */
  maxBuffered?: number;
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

/** A visitor denied `escort_required`, waiting for an escort (DEC-15). */
interface WaitingVisitor {
  cred: ParsedCredential;
  passId: string;
  reader: string;
  direction: Direction;
  /** Epoch ms after which an escort no longer covers them. */
  until: number;
}

/** Bounds the waiting list: a queue of visitors at one door is a handful, never this many. */
const MAX_WAITING = 32;
/** RuleRecord.escortSeconds is at most 600. */
const MAX_ESCORT_MS = 600_000;

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
  readonly #waiting: WaitingVisitor[] = [];
  readonly #alarms: GateAlarms;
  readonly #storage: StorageGuard;
  readonly #failMode: FailMode;

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
    const door = o.door ?? null;
    this.#failMode = o.failMode ?? 'secure';
    this.#storage = new StorageGuard({
      write: (e, passId, state) => this.#store.record(e, passId, state),
      alarm: (state, detail) =>
        this.#event('alarm', { allow: false, reason: 'unknown', alarm: { kind: 'storage', state, ...(detail ? { detail } : {}) } }),
      now: this.#now,
      maxBuffered: o.maxBuffered,
      log: this.#log,
      metrics: this.#metrics,
    });
    this.#alarms = new GateAlarms({
      record: (e) => void this.#storage.record(e),
      emergency: () => this.#store.emergency,
      event: (type, fields) => this.#event(type, fields),
      guard: (what, fn) => this.#guard(what, fn),
      relay: this.#relay,
      door,
      heldOpenMs: (o.heldOpenSeconds ?? 30) * 1000,
      readerOfflineMs: o.readerOfflineMs ?? 5000,
      clock: this.#clock,
      metrics: this.#metrics,
      log: this.#log,
    });
    this.#sensor?.onPassage(() => this.#guard('passage', () => this.passage()));
    door?.onChange((open) => this.#guard('door', () => this.door(open)));
    // A restart in emergency holds the door free again; in lockdown it stays de-energised.
    this.syncMode();
  }

  get lockdown(): boolean {
    return this.#store.context(this.#defaultDirection).lockdown;
  }

  get emergency(): boolean {
    return this.#store.emergency;
  }

  /** Runs a callback of a driver or a timer: logged, never thrown into the event loop. */
  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      (this.#log?.error ?? this.#log?.warn)?.call(this.#log, { err: e, what }, 'gate callback failed');
    }
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
    // The cached context is shared; the escort time is this gate's own and changes between scans. Past the
    // longest escort window (600 s) it covers nobody, and the scan path goes back to the shared context.
    if (this.#escortAt !== null && now - this.#escortAt > MAX_ESCORT_MS) this.#escortAt = null;
    const ctx = this.#escortAt === null ? base : { ...base, escortAt: this.#escortAt };
    const passKey = cred.kind === 'card' ? found?.pass?.id : cred.kind === 'dynamic' || cred.kind === 'static' ? cred.passId : undefined;
    const state = (passKey !== undefined ? this.#storage.stateOf(passKey) : undefined) ?? found?.state;
    let d = decide(cred, found?.pass, found?.rule, ctx, state, now);
    const event = attempt(d, ctx.gateId, input.direction, input.reader, now);

    if (d.allow && !this.#admit(event, d, state, input.direction, input.reader, now, true)) {
      // Fail-secure (or the memory queue is full): the store cannot keep the record, so nobody is let in.
      d = { ...d, allow: false, reason: 'unknown' };
    } else if (!d.allow) {
      if (d.reason !== 'malformed' || this.#malformedDue(input.reader, mono)) void this.#storage.record(event);
      if (d.reason === 'escort_required' && d.passId !== null) this.#wait(cred, d.passId, input, found?.rule?.escortSeconds, now);
    } else {
      // DEC-15: an escort going in marks the gate and brings in whoever was waiting for one.
      if (found?.pass?.escort && input.direction === 'in') {
        this.escortSeen(now);
        this.#metrics?.decision((this.#clock() - t0) / 1000, d.allow, d.reason);
        this.#releaseWaiting(now, t0);
        return { debounced: false, decision: d, event };
      }
    }
    this.#metrics?.decision((this.#clock() - t0) / 1000, d.allow, d.reason);
    return { debounced: false, decision: d, event };
  }

  /**
   * Records an admitted attempt with the state it implies, then unlocks (`pulse`: false when the visitor rides
   * on an escort's pulse). Without a passage sensor the attempt moved the pass's state, so it is `counted`;
   * with one only the TOTP step is burned now, and the passage counts.
   */
  #admit(
    event: CheckinEvent,
    d: Decision,
    prior: PassState | undefined,
    direction: Direction,
    reader: string,
    now: number,
    pulse: boolean,
  ): boolean {
    const passId = d.passId;
    let state: PassState | null = null;
    if (passId !== null) {
      if (this.#sensor) {
        state = {
          useCount: prior?.useCount ?? 0,
          lastDirection: prior?.lastDirection ?? null,
          lastTotpStep: d.totpStep ?? prior?.lastTotpStep ?? null,
          lastAt: prior?.lastAt ?? null,
        };
      } else {
        state = nextPassState(prior, d, direction, now);
        event.counted = true;
      }
    }
    if (!this.#storage.ok && this.#failMode === 'secure' && this.#storage.flush() === false) return this.#deny(event);
    const r = this.#storage.record(event, passId, state);
    if (r === 'dropped') return false;
    if (r === 'buffered' && this.#failMode === 'secure') return this.#deny(event, true);
    if (pulse) this.#unlock(event.id);
    if (d.alert) {
      this.#metrics?.alert?.(d.alert);
      this.#log?.warn({ passId, alert: d.alert, eventId: event.id }, 'admitted with an alert');
    }
    if (this.#sensor) this.#expectPassage(passId, d, direction, reader);
    return true;
  }

  /**
   * Fail-secure: the attempt becomes a denial (reason `unknown`, no state), kept in memory like any record. `queued`:
   * the admitted version is already at the queue's tail (the write just failed), so it is turned round in place.
   */
  #deny(event: CheckinEvent, queued = false): false {
    event.allow = false;
    event.reason = 'unknown';
    delete event.counted;
    if (!queued) void this.#storage.record(event);
    else this.#storage.unstate(event.id);
    return false;
  }

  /** Store health for /health: a failing write probe or record is `degraded` with the reason. */
  get storage(): StorageStatus {
    return this.#storage.status();
  }

  /** The daemon's write probe: `probe` writes a row; a success writes the memory queue out. Never throws. */
  probeStorage(probe: () => void): StorageStatus {
    try {
      probe();
      this.#storage.probeOk();
    } catch (e) {
      this.#storage.failed(e);
    }
    return this.#storage.status();
  }

  #unlock(eventId: string): void {
    this.#relay.pulse(undefined, eventId);
    this.#alarms.unlocked();
  }

  /** DEC-15: keeps a visitor denied for want of an escort, for the rule's escortSeconds. */
  #wait(cred: ParsedCredential, passId: string, input: ReaderInput, escortSeconds: number | undefined, now: number): void {
    this.#pruneWaiting(now);
    const i = this.#waiting.findIndex((w) => w.passId === passId);
    if (i >= 0) this.#waiting.splice(i, 1);
    if (this.#waiting.length >= MAX_WAITING) this.#waiting.shift();
    this.#waiting.push({ cred, passId, reader: input.reader, direction: input.direction, until: now + (escortSeconds ?? 60) * 1000 });
  }

  #pruneWaiting(now: number): void {
    // Expired visitors go silently: their denial is already recorded.
    for (let i = this.#waiting.length - 1; i >= 0; i--) if ((this.#waiting[i]?.until ?? 0) < now) this.#waiting.splice(i, 1);
  }

  /** DEC-15: an escort was admitted at `now`: decide every waiting visitor again with the escort time now. */
  #releaseWaiting(now: number, t0: number): void {
    this.#pruneWaiting(now);
    if (this.#waiting.length === 0) return;
    const waiting = this.#waiting.splice(0, this.#waiting.length);
    for (const w of waiting) this.#guard('escorted visitor', () => this.#admitWaiting(w, now, t0));
  }

  #admitWaiting(w: WaitingVisitor, now: number, t0: number): void {
    const found = this.#store.findByPassId(w.passId);
    const ctx = { ...this.#store.context(w.direction), escortAt: now };
    const state = this.#storage.stateOf(w.passId) ?? found.state;
    const d = decide(w.cred, found.pass, found.rule, ctx, state, now);
    if (!d.allow) {
      // A stale dynamic code, a revocation or a lockdown meanwhile: not admitted, and nothing more recorded.
      this.#log?.info({ passId: w.passId, reason: d.reason }, 'escort arrived, waiting visitor not admitted');
      return;
    }
    const event = attempt(d, ctx.gateId, w.direction, w.reader, now);
    // One pulse covers the escort and their visitors: the relay is already open for them.
    if (!this.#admit(event, d, state, w.direction, w.reader, now, false)) return;
    this.#log?.info({ passId: w.passId, eventId: event.id }, 'escorted visitor admitted');
    this.#metrics?.decision((this.#clock() - t0) / 1000, true, d.reason);
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
      timer: setTimeout(
        () =>
          this.#guard('no_passage', () => {
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
            void this.#storage.record(e);
            this.#log?.info({ passId, direction }, 'unlocked but nobody passed');
          }),
        this.#relay.pulseMs,
      ),
    };
    pending.timer.unref?.();
    this.#pending.push(pending);
  }

  /** The passage sensor saw someone go through. */
  passage(): CheckinEvent {
    const p = this.#pending.shift();
    if (!p) {
      if (this.#store.emergency) {
        // The door is held free for an evacuation: people going through is the point, not a forced entry.
        const e = this.#event('passage', { reason: 'manual' });
        void this.#storage.record(e);
        return e;
      }
      return this.#alarms.forced('passage without unlock');
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
      ...(state ? { counted: true } : {}),
    });
    void this.#storage.record(e, p.passId, state);
    return e;
  }

  /** Open by command (local API now, signed MQTT command later). Refused in lockdown. */
  manualOpen(direction: Direction = this.#defaultDirection): CheckinEvent {
    const locked = this.lockdown;
    const e = this.#event('manual', { direction, allow: !locked, reason: locked ? 'lockdown' : 'manual' });
    void this.#storage.record(e);
    if (!locked) {
      this.#unlock(e.id);
      if (this.#sensor) this.#expectPassage(null, null, direction, undefined);
    }
    return e;
  }

  /** A reader reported a condition (tamper, power, offline): an `alarm` event (SPEC ALARM-1). */
  readerCondition(reader: string, c: ReaderCondition): CheckinEvent {
    return this.#alarms.condition(reader, c);
  }

  /**
   * A reader's health as the daemon polls it, for readers that do not report their own conditions: unhealthy
   * for readerOfflineMs raises `reader_offline` once; healthy again clears it. Returns the event when one was recorded.
   */
  readerHealth(reader: string, healthy: boolean, detail?: string): CheckinEvent | null {
    return this.#alarms.readerHealth(reader, healthy, detail);
  }

  /** The door contact moved (ALARM-1 forced door, held open). */
  door(open: boolean): CheckinEvent | null {
    return this.#alarms.door(open);
  }

  /** DEC-15: an escort's credential was admitted at this gate at `at`. */
  escortSeen(at: number): void {
    this.#escortAt = at;
  }

  /** CMD-1: lockdown on (it ends an emergency: the relay is de-energised), or off (a release: both end). */
  setLockdown(on: boolean): void {
    if (!on) {
      this.release();
      return;
    }
    this.#store.emergency = false;
    this.#store.localLockdown = true;
    // De-energised whatever the relay was doing: a running pulse is cut, a hold ends.
    this.#relay.off();
    this.#log?.warn({ lockdown: true }, 'lockdown');
  }

  /** CMD-4: emergency release on (it ends a lockdown: the relay is held energised), or off (a release). */
  setEmergency(on: boolean): void {
    if (!on) {
      this.release();
      return;
    }
    this.#store.localLockdown = false;
    this.#store.emergency = true;
    this.syncMode();
    this.#log?.warn({ emergency: true }, 'emergency release: door held open');
  }

  /** CMD-1, CMD-4: release ends a lockdown and an emergency alike. */
  release(): void {
    this.#store.localLockdown = false;
    this.#store.emergency = false;
    this.syncMode();
    this.#log?.warn({}, 'released');
  }

  /**
   * Puts the relay in the state the store's mode says: held in an emergency, de-energised in a lockdown, a
   * hold ended otherwise. After a sync (the gate record may have changed it) and at start.
   */
  syncMode(): void {
    const emergency = this.#store.emergency;
    if (emergency) {
      if (!this.#relay.held) this.#relay.hold(true);
      this.#alarms.emergencyStarted();
      return;
    }
    if (this.#relay.held) {
      this.#relay.hold(false);
      this.#alarms.emergencyEnded();
    }
    if (this.lockdown && this.#relay.active) this.#relay.off();
  }

  /** Drops timers (shutdown). The relay is the daemon's to close. */
  stop(): void {
    for (const p of this.#pending) clearTimeout(p.timer);
    this.#pending.length = 0;
    this.#alarms.stop();
    this.#waiting.length = 0;
  }
}

/** The `attempt` event of a decision. */
function attempt(d: Decision, gateId: string, direction: Direction, reader: string, now: number): CheckinEvent {
  const event: CheckinEvent = {
    id: uuidv7(now),
    type: 'attempt',
    gateId,
    passId: d.passId,
    credentialKind: d.credentialKind,
    direction,
    allow: d.allow,
    reason: d.reason,
    occurredAt: now,
    reader,
  };
  // Assigned, not spread into the literal: the object keeps one shape on the hot path.
  if (d.alert) event.alert = d.alert;
  return event;
}
