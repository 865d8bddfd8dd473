/**
 * Simulated reader, relay and passage sensor: the zero-setup demo and the
 * daemon tests. The relay records every pulse and can append it to a file
 * synchronously, so a test can compare "relay fired" with the outbox after a
 * kill -9.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Direction } from '@gatehouse/protocol';
import { RelayDrive } from './relay.js';
import type { DoorContact, HardwareHealth, PassageSensor, PulseRecord, Reader, ReaderInput, Relay } from './types.js';

export type { PulseRecord } from './types.js';

export class SimulatedReader implements Reader {
  readonly type = 'simulated';
  readonly #listeners: ((i: ReaderInput) => void)[] = [];
  #running = false;

  constructor(
    readonly name: string,
    readonly direction: Direction,
  ) {}

  onInput(cb: (input: ReaderInput) => void): void {
    this.#listeners.push(cb);
  }

  /** As if the device had delivered `data`. Ignored while stopped, like a real reader. */
  inject(data: string | Uint8Array): boolean {
    if (!this.#running) return false;
    const input = this.simulate(data);
    for (const l of this.#listeners) l(input);
    return true;
  }

  simulate(data: string | Uint8Array): ReaderInput {
    return { reader: this.name, direction: this.direction, data, receivedAt: performance.now() };
  }

  async start(): Promise<void> {
    this.#running = true;
  }

  async stop(): Promise<void> {
    this.#running = false;
  }

  health(): HardwareHealth {
    return { name: this.name, type: this.type, healthy: this.#running, detail: this.#running ? 'simulated' : 'stopped' };
  }
}

export class SimulatedRelay implements Relay {
  readonly type = 'simulated';
  readonly pulses: PulseRecord[] = [];
  readonly #drive = new RelayDrive(() => {}, true);
  #fd: number | null;

  constructor(
    readonly pulseMs: number,
    logFile?: string,
    private readonly keep = 1000,
  ) {
    this.#fd = logFile ? openSync(logFile, 'a') : null;
  }

  get active(): boolean {
    return this.#drive.active;
  }

  get held(): boolean {
    return this.#drive.held;
  }

  /** Every pulse is recorded, one during a hold too (the hold itself is not ended by it). */
  pulse(ms = this.pulseMs, eventId?: string): void {
    const rec: PulseRecord = eventId ? { at: Date.now(), ms, eventId } : { at: Date.now(), ms };
    // Synchronous on purpose: once pulse() returns, the record is in the kernel, whatever happens to us next.
    if (this.#fd !== null) writeSync(this.#fd, `${JSON.stringify(rec)}\n`);
    this.pulses.push(rec);
    if (this.pulses.length > this.keep) this.pulses.splice(0, this.pulses.length - this.keep);
    this.#drive.pulse(ms);
  }

  hold(on: boolean): void {
    this.#drive.hold(on);
  }

  off(): void {
    this.#drive.off();
  }

  close(): void {
    this.off();
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  recordedPulses(): readonly PulseRecord[] {
    return this.pulses;
  }

  health(): HardwareHealth {
    return { name: 'relay', type: this.type, healthy: true, detail: this.#drive.detail };
  }
}

export class SimulatedPassageSensor implements PassageSensor {
  readonly type = 'simulated';
  readonly simulatesPassage = true;
  readonly #listeners: (() => void)[] = [];

  onPassage(cb: () => void): void {
    this.#listeners.push(cb);
  }

  /** Someone walked through. */
  trigger(): void {
    for (const l of this.#listeners) l();
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  health(): HardwareHealth {
    return { name: 'passage-sensor', type: this.type, healthy: true };
  }
}

/** A door contact moved through the local API (POST /door): the held-open alarm without a door. */
export class SimulatedDoorContact implements DoorContact {
  readonly type = 'simulated';
  readonly #listeners: ((open: boolean) => void)[] = [];
  #open = false;

  get open(): boolean {
    return this.#open;
  }

  onChange(cb: (open: boolean) => void): void {
    this.#listeners.push(cb);
  }

  simulate(open: boolean): void {
    if (open === this.#open) return;
    this.#open = open;
    for (const l of this.#listeners) l(open);
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  health(): HardwareHealth {
    return { name: 'door-contact', type: this.type, healthy: true, detail: this.#open ? 'open' : 'closed' };
  }
}
