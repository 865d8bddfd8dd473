/** The small interfaces every driver implements; the gate and daemon see only these. */
import type { Direction } from '@gatehouse/protocol';

export interface HardwareHealth {
  name: string;
  type: string;
  healthy: boolean;
  detail?: string;
}

export interface ReaderInput {
  reader: string;
  direction: Direction;
  /** What the device delivered: a line of text or raw bytes (parseCredential takes either). */
  data: string | Uint8Array;
  /** performance.now() when the last byte arrived: the start of the decision-time histogram. */
  receivedAt: number;
}

export interface Reader {
  readonly name: string;
  readonly type: string;
  readonly direction: Direction;
  onInput(cb: (input: ReaderInput) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HardwareHealth;
}

export interface Relay {
  readonly type: string;
  readonly pulseMs: number;
  readonly active: boolean;
  /**
   * Energise for `ms` (default pulseMs); a pulse while active restarts the
   * timer. `eventId` names the outbox event that authorised it (for logs and
   * the simulated relay's record).
   */
  pulse(ms?: number, eventId?: string): void;
  /** De-energise now (lockdown, shutdown). */
  off(): void;
  /** off() and release the line. */
  close(): void;
  health(): HardwareHealth;
}

export interface PassageSensor {
  readonly type: string;
  onPassage(cb: () => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HardwareHealth;
}
