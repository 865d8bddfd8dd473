/**
 * Wiegand card reader on two GPIO inputs: a low pulse on D0 is a 0 bit, on D1
 * a 1 bit. A frame ends when no bit arrives for `frameTimeoutMs` (readers send
 * bits ~1-2 ms apart; 25 ms of silence is a frame boundary), measured between the
 * edges' kernel timestamps where the GPIO backend gives them (cdev). The frame goes to
 * the gate as `W26:<bits>` / `W34:<bits>`, which parseCredential checks,
 * parity included; any other length reads as malformed.
 */
import type { Direction } from '@gatehouse/protocol';
import type { WiegandReaderConfig } from '../config.js';
import type { GpioBackend, GpioLine } from './gpio.js';
import type { HardwareHealth, Reader, ReaderInput } from './types.js';

/** Longest frame kept: beyond it the input is noise, not a card. */
const MAX_BITS = 64;

/**
 * Time and timers for the assembler. The default is the process's: process.hrtime.bigint() is CLOCK_MONOTONIC on
 * Linux, the clock of the kernel's edge timestamps. The Wiegand bench replaces it with a simulated event loop.
 */
export interface WiegandClock {
  nowNs(): bigint;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs fn after the I/O that is already waiting (Node's check phase). */
  setImmediate(fn: () => void): void;
}

export const processClock: WiegandClock = {
  nowNs: () => process.hrtime.bigint(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setImmediate: (fn) => {
    setImmediate(fn);
  },
};

/**
 * Bits are kept with the time of their edge: the kernel's (cdev) or, without it, the time the callback ran.
 * A frame is a run of bits with less than `timeoutMs` between neighbours. Frames are cut by those times, not by
 * when the callbacks came, so a batch of edges that waited in a queue while the event loop was blocked still
 * splits into the frames the reader sent, in the order it sent the bits (D0 and D1 are separate lines). The
 * silence timer only says when to look: it defers to setImmediate so that edges already waiting in the pipe
 * (a blocked loop runs its expired timers before its I/O) are counted before a frame is called complete.
 */
export class WiegandAssembler {
  #bits: { b: 0 | 1; t: bigint }[] = [];
  #timer: unknown = null;
  readonly #timeoutNs: bigint;

  constructor(
    private readonly timeoutMs: number,
    private readonly onFrame: (bits: string, receivedAt: number) => void,
    private readonly clock: WiegandClock = processClock,
  ) {
    this.#timeoutNs = BigInt(Math.round(timeoutMs * 1e6));
  }

  bit(b: 0 | 1, timestampNs?: bigint): void {
    if (this.#bits.length > 16 * MAX_BITS) this.#bits.shift(); // noise without a pause: bounded memory
    this.#bits.push({ b, t: timestampNs ?? this.clock.nowNs() });
    this.#arm(this.timeoutMs);
  }

  #arm(ms: number): void {
    if (this.#timer !== null) this.clock.clearTimeout(this.#timer);
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = null;
      this.clock.setImmediate(() => this.#settle());
    }, ms);
  }

  /** Emits every frame whose silence has passed; the last one waits if its silence is not yet over. */
  #settle(): void {
    if (this.#bits.length === 0 || this.#timer !== null) return;
    const frames = this.#frames();
    const last = frames.at(-1);
    const idleNs = last ? this.clock.nowNs() - (last.at(-1)?.t ?? 0n) : 0n;
    const complete = idleNs >= this.#timeoutNs ? frames : frames.slice(0, -1);
    this.#bits = idleNs >= this.#timeoutNs ? [] : (last ?? []);
    for (const f of complete) this.#emit(f);
    if (this.#bits.length > 0) this.#arm(Math.max(1, Number(this.#timeoutNs - idleNs) / 1e6));
  }

  #frames(): { b: 0 | 1; t: bigint }[][] {
    const sorted = [...this.#bits].sort((x, y) => (x.t < y.t ? -1 : x.t > y.t ? 1 : 0));
    const frames: { b: 0 | 1; t: bigint }[][] = [];
    let cur: { b: 0 | 1; t: bigint }[] = [];
    for (const bit of sorted) {
      const prev = cur.at(-1);
      if (prev && bit.t - prev.t >= this.#timeoutNs) {
        frames.push(cur);
        cur = [];
      }
      cur.push(bit);
    }
    if (cur.length > 0) frames.push(cur);
    return frames;
  }

  #emit(frame: { b: 0 | 1; t: bigint }[]): void {
    let bits = '';
    for (const x of frame.slice(0, MAX_BITS + 1)) bits += x.b === 1 ? '1' : '0';
    if (bits.length > 0) this.onFrame(bits, performance.now());
  }

  /** Emits everything held now, cut into frames by the bits' times. */
  flush(): void {
    if (this.#timer !== null) this.clock.clearTimeout(this.#timer);
    this.#timer = null;
    const frames = this.#frames();
    this.#bits = [];
    for (const f of frames) this.#emit(f);
  }

  dispose(): void {
    if (this.#timer !== null) this.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#bits = [];
  }
}

export class WiegandReader implements Reader {
  readonly type = 'wiegand';
  readonly name: string;
  readonly direction: Direction;
  readonly #listeners: ((i: ReaderInput) => void)[] = [];
  readonly #assembler: WiegandAssembler;
  #d0: GpioLine | null = null;
  #d1: GpioLine | null = null;
  #error: string | null = null;
  readonly stats = { frames: 0 };

  constructor(
    private readonly cfg: WiegandReaderConfig & { name: string },
    private readonly gpio: GpioBackend,
    clock?: WiegandClock,
  ) {
    this.name = cfg.name;
    this.direction = cfg.direction;
    this.#assembler = new WiegandAssembler(
      cfg.frameTimeoutMs ?? 25,
      (bits, receivedAt) => {
        this.stats.frames++;
        const data = bits.length > MAX_BITS ? `W${bits.length}+:overflow` : `W${bits.length}:${bits}`;
        const input: ReaderInput = { reader: this.name, direction: this.direction, data, receivedAt };
        for (const l of this.#listeners) l(input);
      },
      clock,
    );
  }

  onInput(cb: (input: ReaderInput) => void): void {
    this.#listeners.push(cb);
  }

  async start(): Promise<void> {
    // Data lines idle high and pulse low: falling edges are the bits.
    this.#d0 = this.gpio.input(this.cfg.d0, { edge: 'falling' });
    try {
      this.#d1 = this.gpio.input(this.cfg.d1, { edge: 'falling' });
    } catch (e) {
      this.#d0.close();
      this.#d0 = null;
      throw e;
    }
    const watch = (line: GpioLine, bit: 0 | 1) =>
      line.watch((err, _value, timestampNs) => {
        if (err) this.#error = err.message;
        else this.#assembler.bit(bit, timestampNs);
      });
    watch(this.#d0, 0);
    watch(this.#d1, 1);
  }

  async stop(): Promise<void> {
    this.#assembler.dispose();
    this.#d0?.close();
    this.#d1?.close();
    this.#d0 = this.#d1 = null;
  }

  health(): HardwareHealth {
    const open = this.#d0 !== null && this.#d1 !== null;
    // A backend that tells a line's current state (cdev) is asked; otherwise the last error reported stands.
    const error = this.#d0?.error && this.#d1?.error ? ((this.#d0.error() ?? this.#d1.error())?.message ?? null) : this.#error;
    return {
      name: this.name,
      type: this.type,
      healthy: open && error === null,
      detail: error ?? (open ? `D0 ${this.cfg.d0}, D1 ${this.cfg.d1} via ${this.gpio.detail ?? this.gpio.name}` : 'closed'),
    };
  }
}
