/**
 * A GPIO fake with time in it, for showing what each backend does with Wiegand edges while the event loop is
 * blocked (bench/gpio.ts, test/gpio-load.test.ts). Everything runs on a simulated clock (VirtualLoop), so 1000
 * frames take milliseconds and every run with the same seed gives the same figures.
 *
 * The event loop: JavaScript tasks (timers, I/O callbacks, immediates) run at their time unless the loop is
 * blocked then, in which case they run when the block ends, in Node's order: expired timers, then I/O, then
 * setImmediate. Edges on the wire happen at their own time whatever the loop does.
 *
 * The backends, as they behave on a Linux board:
 * - `cdev`: the kernel timestamps each edge in its interrupt handler and queues it; the helper process moves it
 *   into a pipe. The agent gets every edge, late if the loop was blocked, with the time it happened.
 * - `sysfs` (onoff): an edge sets the value file's "changed" flag (edges while it is set are one); the epoll
 *   package's thread waits for one ready file, hands it to the loop and waits until the loop has handled it; onoff's
 *   handler then reads the value *now* and calls back only if it matches the edge asked for (0 for falling). A
 *   Wiegand bit is a ~50 µs low pulse: handled after the pulse is over, the value read is 1 and the bit is gone.
 */

import { type Bit, type Edge, type GpioBackend, GpioError, type GpioLine, type WatchCallback } from './gpio.js';
import type { WiegandClock } from './wiegand.js';

interface Task {
  at: bigint;
  /** -1: the wire (never waits); 0 timers, 1 I/O, 2 immediates. */
  phase: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

function before(a: Task, b: Task): boolean {
  return a.at !== b.at ? a.at < b.at : a.phase !== b.phase ? a.phase < b.phase : a.seq < b.seq;
}

/** A binary heap of tasks: a run has tens of thousands of them. */
class TaskHeap {
  readonly #h: Task[] = [];
  get size(): number {
    return this.#h.length;
  }
  push(t: Task): void {
    const h = this.#h;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i] as Task, h[p] as Task)) break;
      [h[i], h[p]] = [h[p] as Task, h[i] as Task];
      i = p;
    }
  }
  pop(): Task | undefined {
    const h = this.#h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as Task, h[m] as Task)) m = l;
        if (r < h.length && before(h[r] as Task, h[m] as Task)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Task, h[i] as Task];
        i = m;
      }
    }
    return top;
  }
}

export class VirtualLoop implements WiegandClock {
  #now = 0n;
  #seq = 0;
  readonly #tasks = new TaskHeap();
  /** Blocked intervals [start, end) in ns, sorted, not overlapping. */
  readonly #blocks: [bigint, bigint][] = [];
  #blockIdx = 0;
  /** Nanoseconds the loop spent blocked in total. */
  blockedNs = 0n;

  /** The loop is blocked (a long synchronous job) from `startNs` for `durationNs`. */
  block(startNs: bigint, durationNs: bigint): void {
    const last = this.#blocks.at(-1);
    if (last && startNs < last[1]) throw new Error('blocks must be added in order, without overlap');
    this.#blocks.push([startNs, startNs + durationNs]);
    this.blockedNs += durationNs;
  }

  /** When a JavaScript task due at `at` can run. */
  #release(at: bigint): bigint {
    while (this.#blockIdx < this.#blocks.length && (this.#blocks[this.#blockIdx] as [bigint, bigint])[1] <= this.#now) this.#blockIdx++;
    for (let i = this.#blockIdx; i < this.#blocks.length; i++) {
      const [s, e] = this.#blocks[i] as [bigint, bigint];
      if (s > at) break;
      if (at < e) return e;
    }
    return at;
  }

  #push(at: bigint, phase: number, fn: () => void): Task {
    const t: Task = { at: phase < 0 ? at : this.#release(at), phase, seq: this.#seq++, fn, cancelled: false };
    this.#tasks.push(t);
    return t;
  }

  nowNs(): bigint {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    return this.#push(this.#now + BigInt(Math.max(1, Math.round(ms * 1e6))), 0, fn);
  }

  clearTimeout(handle: unknown): void {
    (handle as Task).cancelled = true;
  }

  setImmediate(fn: () => void): void {
    this.#push(this.#now, 2, fn);
  }

  /** An I/O callback for something that became readable at `at`. */
  io(at: bigint, fn: () => void): void {
    this.#push(at, 1, fn);
  }

  /** Something on the wire at `at`: it happens then, blocked loop or not. */
  wire(at: bigint, fn: () => void): void {
    this.#push(at, -1, fn);
  }

  /** Runs every task; returns the time of the last. */
  run(): bigint {
    for (let t = this.#tasks.pop(); t; t = this.#tasks.pop()) {
      if (t.cancelled) continue;
      if (t.at > this.#now) this.#now = t.at;
      t.fn();
    }
    return this.#now;
  }
}

interface TimedLine {
  edge: Edge;
  /** The value on the wire now (logical; inputs idle high). */
  value: Bit;
  watchers: WatchCallback[];
  /** sysfs: the value file's "changed" flag. */
  pending: boolean;
  pendingSince: bigint;
}

export interface TimedFakeGpioOptions {
  /** From an edge to the agent's callback on an idle loop (helper wake-up and pipe, or epoll thread and uv_async). */
  latencyNs?: bigint;
}

/** GpioBackend of inputs on a VirtualLoop, delivering edges as the character device or as sysfs/onoff would. */
export class TimedFakeGpio implements GpioBackend {
  readonly name: string;
  readonly #lines = new Map<number, TimedLine>();
  readonly #latency: bigint;
  /** sysfs: the epoll thread holds one ready file until the loop has handled it. */
  #epollBusy = false;

  constructor(
    readonly mode: 'cdev' | 'sysfs',
    private readonly loop: VirtualLoop,
    opts: TimedFakeGpioOptions = {},
  ) {
    this.name = `fake-${mode}`;
    this.#latency = opts.latencyNs ?? 20_000n;
  }

  get detail(): string {
    return `${this.name} on a simulated event loop`;
  }

  input(line: number, o: { edge: Edge }): GpioLine {
    if (this.#lines.has(line)) throw new GpioError('busy', `GPIO line ${line} is busy`);
    const l: TimedLine = { edge: o.edge, value: 1, watchers: [], pending: false, pendingSince: 0n };
    this.#lines.set(line, l);
    return {
      read: () => l.value,
      write: () => {
        throw new GpioError('invalid', `GPIO line ${line} is an input`);
      },
      watch: (cb) => l.watchers.push(cb),
      unwatchAll: () => {
        l.watchers = [];
      },
      close: () => {
        this.#lines.delete(line);
      },
    };
  }

  output(line: number): GpioLine {
    throw new GpioError('invalid', `TimedFakeGpio has inputs only (line ${line})`);
  }

  /** A low pulse on `line` starting at `atNs`: one Wiegand bit. */
  pulseLow(line: number, atNs: bigint, widthNs: bigint): void {
    this.#edgeAt(line, atNs, 0);
    this.#edgeAt(line, atNs + widthNs, 1);
  }

  #edgeAt(line: number, at: bigint, value: Bit): void {
    this.loop.wire(at, () => {
      const l = this.#lines.get(line);
      if (!l || l.value === value) return;
      l.value = value;
      const match = l.edge === 'both' || (l.edge === 'rising' && value === 1) || (l.edge === 'falling' && value === 0);
      if (!match) return;
      if (this.mode === 'cdev') {
        this.loop.io(at + this.#latency, () => {
          for (const w of [...l.watchers]) w(null, value, at);
        });
      } else if (!l.pending) {
        l.pending = true;
        l.pendingSince = at;
        if (!this.#epollBusy) this.#dispatch(at);
      }
    });
  }

  /** The epoll thread wakes for one ready file and hands it to the loop. */
  #dispatch(at: bigint): void {
    let next: TimedLine | undefined;
    for (const l of this.#lines.values()) if (l.pending && (!next || l.pendingSince < next.pendingSince)) next = l;
    if (!next) return;
    const l = next;
    this.#epollBusy = true;
    this.loop.io(at + this.#latency, () => {
      // onoff: readSync() clears the flag and gives the value as it is now.
      l.pending = false;
      const value = l.value;
      const match = l.edge === 'both' || (l.edge === 'rising' && value === 1) || (l.edge === 'falling' && value === 0);
      if (match) for (const w of [...l.watchers]) w(null, value);
      this.#epollBusy = false;
      this.#dispatch(this.loop.nowNs());
    });
  }
}
