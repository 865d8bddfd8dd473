/**
 * The gate's records when the store cannot write (disk full, I/O error, read-only file system).
 *
 * Every record goes through here. A write that fails keeps the event (and the pass state it implies) in a
 * bounded in-memory queue, in order; the next write, or the daemon's probe, writes the queue first, oldest
 * first, and stops at the first failure, so nothing is written twice or out of order. An event whose id the
 * outbox already holds (the write landed though it reported an error) is dropped, not doubled.
 *
 * The `storage` alarm (ALARM-1) is about the disk, so it cannot rely on the disk: raised, it waits at the head
 * of the queue and goes out first once writes work again, followed by its `cleared`. States of queued events are
 * kept in `stateOf` so anti-passback, use counts and TOTP replay see them meanwhile (fail-safe mode).
 */
import type { PassState } from '@gatehouse/protocol';
import type { EdgeEvent as CheckinEvent } from './event.js';

export type FailMode = 'secure' | 'safe';

interface Queued {
  event: CheckinEvent;
  passId: string | null;
  state: PassState | null;
}

export interface StorageStatus {
  ok: boolean;
  /** The last write error, while failing. */
  reason: string | null;
  /** Epoch ms of the first failure of this episode. */
  since: number | null;
  /** Events waiting in memory. */
  buffered: number;
  /** Events dropped because the queue was full (each one logged). */
  dropped: number;
}

export interface StorageGuardOptions {
  write(event: CheckinEvent, passId: string | null, state: PassState | null): void;
  /** Builds the `storage` alarm event (raised or cleared). */
  alarm(state: 'raised' | 'cleared', detail: string | undefined): CheckinEvent;
  now: () => number;
  maxBuffered?: number;
  log?: { warn(obj: object, msg: string): void; error?(obj: object, msg: string): void } | undefined;
  metrics?: { alarm?(kind: string, state: 'raised' | 'cleared'): void } | undefined;
}

export type RecordResult = 'written' | 'buffered' | 'dropped';

const DUPLICATE = /^SQLITE_CONSTRAINT/;

function describe(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const msg = e instanceof Error ? e.message : String(e);
  return typeof code === 'string' ? `${code}: ${msg}` : msg;
}

export class StorageGuard {
  readonly #o: StorageGuardOptions;
  readonly #max: number;
  readonly #queue: Queued[] = [];
  readonly #states = new Map<string, PassState>();
  #reason: string | null = null;
  #since: number | null = null;
  #dropped = 0;

  constructor(o: StorageGuardOptions) {
    this.#o = o;
    this.#max = o.maxBuffered ?? 10_000;
  }

  get ok(): boolean {
    return this.#reason === null;
  }

  /** Room for one more event in memory. */
  get hasRoom(): boolean {
    return this.#queue.length < this.#max;
  }

  status(): StorageStatus {
    return { ok: this.ok, reason: this.#reason, since: this.#since, buffered: this.#queue.length, dropped: this.#dropped };
  }

  /** A state a queued event implies, newer than the store's. */
  stateOf(passId: string): PassState | undefined {
    return this.#states.get(passId);
  }

  /** A queued event turned into a denial (fail-secure): it moves no pass state. */
  unstate(eventId: string): void {
    const q = this.#queue.find((x) => x.event.id === eventId);
    if (!q || q.passId === null) return;
    if (q.state && this.#states.get(q.passId) === q.state) this.#states.delete(q.passId);
    q.passId = null;
    q.state = null;
  }

  /** Writes (the queue first); on failure keeps it in memory. Never throws. */
  record(event: CheckinEvent, passId: string | null = null, state: PassState | null = null): RecordResult {
    if (this.flush()) {
      try {
        this.#o.write(event, passId, state);
        return 'written';
      } catch (e) {
        this.failed(e);
      }
    }
    if (!this.hasRoom) {
      this.#dropped++;
      (this.#o.log?.error ?? this.#o.log?.warn)?.call(
        this.#o.log,
        { eventId: event.id, buffered: this.#queue.length },
        'storage failing and the memory queue is full: event dropped',
      );
      return 'dropped';
    }
    this.#queue.push({ event, passId, state: passId !== null ? state : null });
    if (passId !== null && state) this.#states.set(passId, state);
    return 'buffered';
  }

  /** A write failed (the probe's or a record's): raises the alarm once per episode. */
  failed(e: unknown): void {
    const reason = describe(e);
    if (this.#reason !== null) {
      this.#reason = reason;
      return;
    }
    this.#reason = reason;
    this.#since = this.#o.now();
    // Ahead of everything queued after it: the guard hears of the disk before the events it kept.
    this.#queue.unshift({ event: this.#o.alarm('raised', reason.slice(0, 500)), passId: null, state: null });
    this.#o.metrics?.alarm?.('storage', 'raised');
    this.#o.log?.warn({ reason }, 'storage failing: events kept in memory');
  }

  /** Writes the queue in order; true when it is empty (and the store took the last write). Never throws. */
  flush(): boolean {
    if (this.#queue.length === 0) return this.ok;
    while (this.#queue.length > 0) {
      const q = this.#queue[0] as Queued;
      try {
        this.#o.write(q.event, q.passId, q.state);
      } catch (e) {
        const code = (e as { code?: unknown } | null)?.code;
        // Already in the outbox (the id is unique): written before the error was reported. Not doubled.
        if (!(typeof code === 'string' && DUPLICATE.test(code))) {
          this.failed(e);
          return false;
        }
      }
      this.#queue.shift();
      if (q.passId !== null && q.state && this.#states.get(q.passId) === q.state) this.#states.delete(q.passId);
    }
    this.#recovered();
    return true;
  }

  /** A probe write succeeded: the queue goes out, and the alarm clears once it has. */
  probeOk(): void {
    this.flush();
    if (this.#queue.length === 0) this.#recovered();
  }

  #recovered(): void {
    if (this.#reason === null) return;
    const since = this.#since;
    this.#reason = null;
    this.#since = null;
    try {
      this.#o.write(this.#o.alarm('cleared', undefined), null, null);
      this.#o.metrics?.alarm?.('storage', 'cleared');
      this.#o.log?.warn({ failingMs: since === null ? null : this.#o.now() - since }, 'storage writable again: queue written');
    } catch (e) {
      this.failed(e);
    }
  }
}
