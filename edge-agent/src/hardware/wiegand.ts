/**
 * Wiegand card reader on two GPIO inputs: a low pulse on D0 is a 0 bit, on D1
 * a 1 bit. A frame ends when no bit arrives for `frameTimeoutMs` (readers send
 * bits ~1-2 ms apart; 25 ms of silence is a frame boundary). The frame goes to
 * the gate as `W26:<bits>` / `W34:<bits>`, which parseCredential checks,
 * parity included; any other length reads as malformed.
 */
import type { Direction } from '@gatehouse/protocol';
import type { WiegandReaderConfig } from '../config.js';
import type { GpioBackend, GpioLine } from './gpio.js';
import type { HardwareHealth, Reader, ReaderInput } from './types.js';

/** Longest frame kept: beyond it the input is noise, not a card. */
const MAX_BITS = 64;

export class WiegandAssembler {
  #bits = '';
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly timeoutMs: number,
    private readonly onFrame: (bits: string, receivedAt: number) => void,
  ) {}

  bit(b: 0 | 1): void {
    if (this.#bits.length < MAX_BITS + 1) this.#bits += b === 1 ? '1' : '0';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.flush(), this.timeoutMs);
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const bits = this.#bits;
    this.#bits = '';
    if (bits.length > 0) this.onFrame(bits, performance.now());
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#bits = '';
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
  ) {
    this.name = cfg.name;
    this.direction = cfg.direction;
    this.#assembler = new WiegandAssembler(cfg.frameTimeoutMs ?? 25, (bits, receivedAt) => {
      this.stats.frames++;
      const data = bits.length > MAX_BITS ? `W${bits.length}+:overflow` : `W${bits.length}:${bits}`;
      const input: ReaderInput = { reader: this.name, direction: this.direction, data, receivedAt };
      for (const l of this.#listeners) l(input);
    });
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
      line.watch((err) => {
        if (err) this.#error = err.message;
        else this.#assembler.bit(bit);
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
    return {
      name: this.name,
      type: this.type,
      healthy: open && this.#error === null,
      detail: this.#error ?? (open ? `D0 ${this.cfg.d0}, D1 ${this.cfg.d1}` : 'closed'),
    };
  }
}
