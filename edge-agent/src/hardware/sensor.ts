/**
 * Passage sensor (beam or turnstile rotation contact) on a GPIO input: one
 * rising edge (logical, activeLow handled by the backend) is one person.
 * The gate decides what a passage means (confirms an unlock, or `forced`).
 *
 * Door contact (reed switch) on a GPIO input: logical 1 = open, both edges;
 * the gate turns "open too long" into the held-open alarm (ALARM-1).
 */
import type { DoorContactConfig } from '../config.js';
import type { GpioBackend, GpioLine } from './gpio.js';
import { SimulatedDoorContact } from './simulated.js';
import type { DoorContact, HardwareHealth, PassageSensor } from './types.js';

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

export class GpioDoorContact implements DoorContact {
  readonly type = 'gpio';
  readonly #listeners: ((open: boolean) => void)[] = [];
  #line: GpioLine | null = null;
  #error: string | null = null;
  #open = false;

  constructor(
    private readonly gpio: GpioBackend,
    readonly pin: number,
    private readonly activeLow = false,
    private readonly debounceMs = 50,
  ) {}

  get open(): boolean {
    return this.#open;
  }

  onChange(cb: (open: boolean) => void): void {
    this.#listeners.push(cb);
  }

  async start(): Promise<void> {
    const line = this.gpio.input(this.pin, { edge: 'both', activeLow: this.activeLow, debounceMs: this.debounceMs });
    this.#line = line;
    this.#open = line.read() === 1;
    line.watch((err, value) => {
      if (err) {
        this.#error = err.message;
        return;
      }
      const open = value === 1;
      if (open === this.#open) return;
      this.#open = open;
      for (const l of this.#listeners) l(open);
    });
  }

  async stop(): Promise<void> {
    this.#line?.close();
    this.#line = null;
  }

  health(): HardwareHealth {
    return {
      name: 'door-contact',
      type: this.type,
      healthy: this.#line !== null && this.#error === null,
      detail: this.#error ?? `GPIO ${this.pin} ${this.#open ? 'open' : 'closed'}`,
    };
  }
}

export function createDoorContact(cfg: DoorContactConfig, gpio: () => GpioBackend): DoorContact {
  if (cfg.type === 'simulated') return new SimulatedDoorContact();
  return new GpioDoorContact(gpio(), cfg.pin, cfg.activeLow ?? false);
}
