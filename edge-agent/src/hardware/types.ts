/**
 * The small interfaces every driver implements; the gate and daemon see only
 * these. A driver that can be driven from the local API (the simulated ones)
 * adds the optional capabilities below; real hardware leaves them out, and the
 * local API answers 404 for them.
 */
import type { Direction, Reason } from '@gatehouse/protocol';

export interface HardwareHealth {
  name: string;
  type: string;
  healthy: boolean;
  detail?: string;
  /** An OSDP reader's Secure Channel key in use, by its id (SPEC CMD-5); never the key. */
  keyId?: string;
  /** The last key a keyset could not set on the reader, and why (CMD-5). */
  keyFailed?: { keyId: string; detail: string };
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
  /**
   * Capability: takes input from the local API (POST /scan). Returns the input
   * as if the device had delivered `data` now, without passing it on: the
   * caller hands it to the gate and answers with the outcome.
   */
  simulate?(data: string | Uint8Array): ReaderInput;
  /**
   * Capability: the reader shows the outcome of a decision (LED, buzzer, text — OSDP). Called after the relay
   * command, so it never delays the door; must not throw.
   */
  feedback?(outcome: ReaderFeedback): void;
  /**
   * Capability: the reader reports its own conditions (OSDP tamper and power reports, the reader going offline
   * and coming back). The daemon records each as an `alarm` event (SPEC ALARM-1).
   */
  onCondition?(cb: (c: ReaderCondition) => void): void;
}

export interface ReaderFeedback {
  allow: boolean;
  reason: Reason;
}

export interface ReaderCondition {
  kind: 'tamper' | 'power' | 'reader_offline';
  state: 'raised' | 'cleared';
  detail?: string;
}

/** One energisation of the relay, as a relay that keeps a log records it. */
export interface PulseRecord {
  at: number;
  ms: number;
  eventId?: string;
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
  /**
   * Emergency release (CMD-4): `hold(true)` energises until `hold(false)` or off(); a pulse meanwhile is
   * recorded but neither shortens nor ends the hold. `hold(false)` de-energises.
   */
  hold(on: boolean): void;
  readonly held: boolean;
  /** De-energise now (lockdown, shutdown); ends a hold too. */
  off(): void;
  /** off() and release the line. */
  close(): void;
  health(): HardwareHealth;
  /** Capability: the pulses this relay kept (GET /relay/pulses, the health's pulse count). */
  recordedPulses?(): readonly PulseRecord[];
}

export interface PassageSensor {
  readonly type: string;
  onPassage(cb: () => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HardwareHealth;
  /**
   * Capability: a passage can be reported through the local API (POST
   * /passage). The daemon then records it with the gate, as this sensor's
   * listener would, to answer with the event.
   */
  readonly simulatesPassage?: true;
}

/**
 * Door position contact (ALARM-1 held-open): reports the door opening and closing. A closed or unknown door
 * is `open === false`.
 */
export interface DoorContact {
  readonly type: string;
  readonly open: boolean;
  onChange(cb: (open: boolean) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HardwareHealth;
  /** Capability: the door can be moved through the local API (POST /door). */
  simulate?(open: boolean): void;
}
