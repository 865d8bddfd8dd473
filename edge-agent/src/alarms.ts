/**
 * The gate's alarms (ALARM-1), apart from the scan path: a door contact opened with no unlock (outside an
 * emergency) is a `forced` event at once; a door still open `heldOpenMs` after an unlock — or after being
 * forced — raises `held_open`, and closing it clears it. A reader unhealthy for `readerOfflineMs` raises
 * `reader_offline`, cleared when it is healthy again; readers that report their own conditions (tamper, power,
 * offline) have them recorded as they come. The Gate tells it when it unlocks and when an emergency starts or
 * ends: the door held free for an evacuation is not held open.
 */
import type { AlarmKind } from '@gatehouse/protocol';
import type { EdgeEvent as CheckinEvent } from './event.js';
import type { DoorContact, ReaderCondition, Relay } from './hardware/types.js';

export interface GateAlarmsOptions {
  /** Records an event (the gate's store). */
  record(event: CheckinEvent): void;
  /** Whether the gate is in emergency release now. */
  emergency(): boolean;
  /** Builds an event of this gate (id, gate, time, its main direction), with `fields` over the defaults. */
  event(type: CheckinEvent['type'], fields: Partial<CheckinEvent>): CheckinEvent;
  /** Runs a timer's callback: a failure is logged, never thrown into the event loop. */
  guard(what: string, fn: () => void): void;
  relay: Pick<Relay, 'active' | 'pulseMs'>;
  door: DoorContact | null;
  heldOpenMs: number;
  readerOfflineMs: number;
  /** Monotonic ms. */
  clock: () => number;
  metrics?: { alarm?(kind: string, state: 'raised' | 'cleared'): void } | undefined;
  log?: { warn(obj: object, msg: string): void } | undefined;
}

export class GateAlarms {
  readonly #o: GateAlarmsOptions;
  /** Monotonic ms of the last unlock (pulse), for the held-open window. */
  #unlockedAt: number | null = null;
  #heldTimer: NodeJS.Timeout | null = null;
  #heldOpenRaised = false;
  /** Per reader: since when it has been unhealthy (monotonic ms), and whether reader_offline is raised. */
  readonly #readerDown = new Map<string, { since: number; raised: boolean }>();

  constructor(o: GateAlarmsOptions) {
    this.#o = o;
  }

  /** The relay was pulsed: a door opening within the pulse is not forced. */
  unlocked(): void {
    this.#unlockedAt = this.#o.clock();
  }

  /** A `forced` event: the passage sensor or the door contact moved with no unlock. */
  forced(why: string): CheckinEvent {
    const e = this.#o.event('forced', { allow: false, reason: 'unknown' });
    this.#o.record(e);
    this.#o.metrics?.alarm?.('forced', 'raised');
    this.#o.log?.warn({ eventId: e.id }, `${why}: forced`);
    return e;
  }

  /** A reader reported a condition (tamper, power, offline). */
  condition(reader: string, c: ReaderCondition): CheckinEvent {
    return this.#alarm(c.kind, c.state, c.detail, reader);
  }

  #alarm(kind: AlarmKind, state: 'raised' | 'cleared', detail: string | undefined, reader?: string): CheckinEvent {
    const e = this.#o.event('alarm', {
      allow: false,
      reason: 'unknown',
      ...(reader ? { reader } : {}),
      alarm: { kind, state, ...(detail ? { detail: detail.slice(0, 500) } : {}) },
    });
    this.#o.record(e);
    this.#o.metrics?.alarm?.(kind, state);
    this.#o.log?.warn({ reader, alarm: kind, state, detail }, state === 'raised' ? 'alarm raised' : 'alarm cleared');
    return e;
  }

  /** See Gate.readerHealth. */
  readerHealth(reader: string, healthy: boolean, detail?: string): CheckinEvent | null {
    const mono = this.#o.clock();
    const down = this.#readerDown.get(reader);
    if (healthy) {
      if (!down) return null;
      this.#readerDown.delete(reader);
      return down.raised ? this.#alarm('reader_offline', 'cleared', undefined, reader) : null;
    }
    if (!down) {
      this.#readerDown.set(reader, { since: mono, raised: false });
      return null;
    }
    if (down.raised || mono - down.since < this.#o.readerOfflineMs) return null;
    down.raised = true;
    return this.#alarm('reader_offline', 'raised', detail, reader);
  }

  /** The door contact moved. */
  door(open: boolean): CheckinEvent | null {
    this.#clearHeldTimer();
    if (!open) {
      if (!this.#heldOpenRaised) return null;
      this.#heldOpenRaised = false;
      return this.#alarm('held_open', 'cleared', undefined);
    }
    if (this.#heldOpenRaised || this.#o.emergency()) return null;
    const relay = this.#o.relay;
    const sinceUnlock = this.#unlockedAt === null ? null : this.#o.clock() - this.#unlockedAt;
    if (sinceUnlock === null || (!relay.active && sinceUnlock > relay.pulseMs)) {
      // Opened with no unlock: the door was forced (a free-exit handle without request-to-exit wiring looks the
      // same, which is why such doors want their REX wired). Left open, it is held open as well.
      this.#armHeldTimer(this.#o.heldOpenMs);
      return this.forced('door opened without an unlock');
    }
    this.#armHeldTimer(this.#o.heldOpenMs - sinceUnlock);
    return null;
  }

  /** The door free for an evacuation is not held open: no alarm while it lasts. */
  emergencyStarted(): void {
    this.#clearHeldTimer();
  }

  /** Still open once the emergency ends: the held-open window starts now. */
  emergencyEnded(): void {
    if (this.#o.door?.open && !this.#heldOpenRaised) {
      this.unlocked();
      this.#armHeldTimer(this.#o.heldOpenMs);
    }
  }

  #armHeldTimer(ms: number): void {
    this.#clearHeldTimer();
    this.#heldTimer = setTimeout(
      () =>
        this.#o.guard('held_open', () => {
          this.#heldTimer = null;
          if (!this.#o.door?.open || this.#heldOpenRaised || this.#o.emergency()) return;
          this.#heldOpenRaised = true;
          this.#alarm('held_open', 'raised', `open more than ${this.#o.heldOpenMs / 1000} s after an unlock`);
        }),
      Math.max(0, ms),
    );
    this.#heldTimer.unref?.();
  }

  #clearHeldTimer(): void {
    if (this.#heldTimer) clearTimeout(this.#heldTimer);
    this.#heldTimer = null;
  }

  /** Drops the timer (shutdown). */
  stop(): void {
    this.#clearHeldTimer();
  }
}
