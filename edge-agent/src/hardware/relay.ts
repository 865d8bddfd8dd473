/**
 * Turnstile/door relay on a GPIO output. Thin on purpose (GPIO cannot be
 * exercised off the board): the line is configured inactive as it is opened,
 * so a restart after a crash leaves the gate closed; a pulse energises it for
 * pulseMs; hold() keeps it energised (emergency release); off()/close() de-energise
 * it (lockdown, SIGTERM, uncaught error).
 */
import type { GpioBackend, GpioLine } from './gpio.js';
import type { HardwareHealth, Relay } from './types.js';

export class GpioRelay implements Relay {
  readonly type = 'gpio';
  readonly #line: GpioLine;
  #timer: NodeJS.Timeout | null = null;
  #active = false;
  #held = false;
  #error: string | null = null;

  constructor(
    gpio: GpioBackend,
    readonly pin: number,
    readonly pulseMs = 3000,
    activeLow = false,
  ) {
    // Logical 0 = de-energised; the backend turns it into the right physical level for activeLow.
    this.#line = gpio.output(pin, { activeLow, initial: 0 });
  }

  get active(): boolean {
    return this.#active;
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

  get held(): boolean {
    return this.#held;
  }

  pulse(ms = this.pulseMs): void {
    // Held open (emergency): the door is already free, and a pulse's timer must not close it.
    if (this.#held) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#write(1);
    this.#active = true;
    this.#timer = setTimeout(() => {
      try {
        this.off();
      } catch {
        // health() reports the write error; a timer must not throw.
      }
    }, ms);
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
    this.#write(1);
  }

  off(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#active = false;
    this.#held = false;
    this.#write(0);
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
      detail: this.#error ?? `GPIO ${this.pin} ${this.#held ? 'held (emergency)' : this.#active ? 'energised' : 'idle'}`,
    };
  }
}
