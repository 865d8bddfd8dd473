/**
 * Turnstile/door relay on a GPIO output. Thin on purpose (GPIO cannot be
 * exercised off the board): the line is configured inactive as it is opened,
 * so a restart after a crash leaves the gate closed; a pulse energises it for
 * pulseMs; off()/close() de-energise it (lockdown, SIGTERM, uncaught error).
 */
import type { GpioBackend, GpioLine } from './gpio.js';
import type { HardwareHealth, Relay } from './types.js';

export class GpioRelay implements Relay {
  readonly type = 'gpio';
  readonly #line: GpioLine;
  #timer: NodeJS.Timeout | null = null;
  #active = false;
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

  pulse(ms = this.pulseMs): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#write(1);
    this.#active = true;
    this.#timer = setTimeout(() => this.off(), ms);
  }

  off(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#active = false;
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
      detail: this.#error ?? `GPIO ${this.pin} ${this.#active ? 'energised' : 'idle'}`,
    };
  }
}
