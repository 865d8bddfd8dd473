/**
 * Turnstile/door relay on a GPIO output. Thin on purpose (GPIO cannot be
 * exercised off the board): the line is configured inactive as it is opened,
 * so a restart after a crash leaves the gate closed; a pulse energises it for
 * pulseMs; hold() keeps it energised (emergency release); off()/close() de-energise
 * it (lockdown, SIGTERM, uncaught error).
 */
import type { GpioBackend, GpioLine } from './gpio.js';
import type { HardwareHealth, Relay } from './types.js';

/**
 * What every relay does with time, whatever it drives: a pulse energises it for ms (the next pulse restarts the
 * window), a hold keeps it energised and no pulse's timer may end it, off ends both. `write` drives the output
 * (it may throw: the state is set only after it succeeds for a pulse, and a timer swallows it).
 */
export class RelayDrive {
  #timer: NodeJS.Timeout | null = null;
  #active = false;
  #held = false;

  constructor(
    private readonly write: (v: 0 | 1) => void,
    /** Simulated relays do not keep a process (a test) alive for a pulse. */
    private readonly unrefTimer = false,
  ) {}

  get active(): boolean {
    return this.#active;
  }

  get held(): boolean {
    return this.#held;
  }

  get detail(): string {
    return this.#held ? 'held (emergency)' : this.#active ? 'energised' : 'idle';
  }

  pulse(ms: number): void {
    // Held open (emergency): the door is already free, and a pulse's timer must not close it.
    if (this.#held) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.write(1);
    this.#active = true;
    this.#timer = setTimeout(() => {
      try {
        this.off();
      } catch {
        // The owner's health() reports the write error; a timer must not throw.
      }
    }, ms);
    if (this.unrefTimer) this.#timer.unref?.();
  }

  hold(on: boolean): void {
    if (!on) {
      this.off();
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#held = true;
    this.#active = true;
    this.write(1);
  }

  off(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#active = false;
    this.#held = false;
    this.write(0);
  }
}

export class GpioRelay implements Relay {
  readonly type = 'gpio';
  readonly #line: GpioLine;
  readonly #drive = new RelayDrive((v) => this.#write(v));
  #error: string | null = null;
  /** Which GPIO backend drives it (cdev, sysfs), for hardware health. */
  readonly #via: string;

  constructor(
    gpio: GpioBackend,
    readonly pin: number,
    readonly pulseMs = 3000,
    activeLow = false,
  ) {
    // Logical 0 = de-energised; the backend turns it into the right physical level for activeLow.
    this.#line = gpio.output(pin, { activeLow, initial: 0 });
    this.#via = gpio.name;
  }

  get active(): boolean {
    return this.#drive.active;
  }

  get held(): boolean {
    return this.#drive.held;
  }

  #write(v: 0 | 1): void {
    try {
      this.#line.write(v);
      this.#error = null;
    } catch (e) {
      this.#error = (e as Error).message;
      throw e;
    }
  }

  pulse(ms = this.pulseMs): void {
    this.#drive.pulse(ms);
  }

  hold(on: boolean): void {
    this.#drive.hold(on);
  }

  off(): void {
    this.#drive.off();
  }

  close(): void {
    try {
      this.off();
    } finally {
      this.#line.close();
    }
  }

  health(): HardwareHealth {
    return {
      name: 'relay',
      type: this.type,
      healthy: this.#error === null,
      detail: this.#error ?? `GPIO ${this.pin} (${this.#via}) ${this.#drive.detail}`,
    };
  }
}
