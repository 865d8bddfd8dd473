/**
 * Passage sensor (beam or turnstile rotation contact) on a GPIO input: one
 * rising edge (logical, activeLow handled by the backend) is one person.
 * The gate decides what a passage means (confirms an unlock, or `forced`).
 */
import type { GpioBackend, GpioLine } from './gpio.js';
import type { HardwareHealth, PassageSensor } from './types.js';

export class GpioPassageSensor implements PassageSensor {
  readonly type = 'gpio';
  readonly #listeners: (() => void)[] = [];
  #line: GpioLine | null = null;
  #error: string | null = null;

  constructor(
    private readonly gpio: GpioBackend,
    readonly pin: number,
    private readonly activeLow = false,
    /** Contact bounce of a mechanical switch. */
    private readonly debounceMs = 20,
  ) {}

  onPassage(cb: () => void): void {
    this.#listeners.push(cb);
  }

  async start(): Promise<void> {
    this.#line = this.gpio.input(this.pin, { edge: 'rising', activeLow: this.activeLow, debounceMs: this.debounceMs });
    this.#line.watch((err, value) => {
      if (err) {
        this.#error = err.message;
        return;
      }
      if (value === 1) for (const l of this.#listeners) l();
    });
  }

  async stop(): Promise<void> {
    this.#line?.close();
    this.#line = null;
  }

  health(): HardwareHealth {
    return {
      name: 'passage-sensor',
      type: this.type,
      healthy: this.#line !== null && this.#error === null,
      detail: this.#error ?? `GPIO ${this.pin}`,
    };
  }
}
