/**
 * A serial port that stays open: the QR scanner and the OSDP bus both own one port that a USB adapter can take
 * away (unplugged, or the pty in tests), and both want the same care — flush what queued before we listened,
 * reopen with back-off after a close or a failed open, and never let an old port's late events touch the new one.
 * The port comes from an injected factory so tests hand in SerialPortMock (serialport's own mock binding), a pty
 * or an in-memory wire.
 */
import { SerialPort } from 'serialport';

/** What the drivers use of a serialport stream (SerialPort and SerialPortMock both fit). */
export interface PortLike {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  flush(cb?: (err: Error | null) => void): void;
  /** Only drivers that talk back (OSDP) write. */
  write(data: Buffer, cb?: (err: Error | null | undefined) => void): boolean;
  on(event: 'data', cb: (chunk: Buffer) => void): this;
  on(event: 'close', cb: (err?: Error | null) => void): this;
  on(event: 'error', cb: (err: Error) => void): this;
  removeAllListeners(): this;
}

export type PortFactory = (path: string, baudRate: number) => PortLike;

export const realPort: PortFactory = (path, baudRate) => new SerialPort({ path, baudRate, autoOpen: false });

export interface ReopeningPortOptions {
  path: string;
  baudRate: number;
  openPort?: PortFactory | undefined;
  /** Back-off between reopen attempts: starts at min, doubles to max, back to min once open. */
  retryMinMs?: number | undefined;
  retryMaxMs?: number | undefined;
  onData(chunk: Buffer): void;
  /** Open and flushed, before the first data is delivered. */
  onOpen(): void;
  /** An error, a close or a failed open, with why. */
  onDown(detail: string): void;
  /** A reopen was just scheduled (the port is gone until then). */
  onLost?(): void;
  /** The owner's counters: each reopen attempt adds one. */
  stats?: { reopens: number };
}

export class ReopeningPort {
  readonly #o: ReopeningPortOptions;
  readonly #openPort: PortFactory;
  readonly #retryMin: number;
  readonly #retryMax: number;
  #port: PortLike | null = null;
  #retryMs: number;
  #retryTimer: NodeJS.Timeout | null = null;
  #stopped = true;

  constructor(o: ReopeningPortOptions) {
    this.#o = o;
    this.#openPort = o.openPort ?? realPort;
    this.#retryMin = o.retryMinMs ?? 200;
    this.#retryMax = o.retryMaxMs ?? 5000;
    this.#retryMs = this.#retryMin;
  }

  /** The current port (open or being opened), for writes. */
  get port(): PortLike | null {
    return this.#port;
  }

  /** Resolves after the first attempt, whether it opened or a reopen is scheduled. */
  start(): Promise<void> {
    this.#stopped = false;
    return new Promise<void>((resolve) => this.#open(resolve));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const port = this.#port;
    this.#port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
    port?.removeAllListeners();
  }

  #open(done?: () => void): void {
    if (this.#stopped) {
      done?.();
      return;
    }
    const o = this.#o;
    const port = this.#openPort(o.path, o.baudRate);
    this.#port = port;
    port.on('error', (err) => o.onDown(`error: ${err.message}`));
    port.on('close', (err) => {
      if (this.#port !== port) return;
      o.onDown(err ? `closed: ${err.message}` : 'closed');
      this.#scheduleReopen();
    });
    port.open((err) => {
      if (err) {
        o.onDown(`cannot open ${o.path}: ${err.message}`);
        port.removeAllListeners();
        if (this.#port === port) this.#port = null;
        this.#scheduleReopen();
        done?.();
        return;
      }
      // Drop what the device queued before we listened: half a line or packet would only poison the first read.
      port.flush(() => {
        this.#retryMs = this.#retryMin;
        o.onOpen();
        port.on('data', (chunk: Buffer) => o.onData(chunk));
        done?.();
      });
    });
  }

  #scheduleReopen(): void {
    if (this.#stopped || this.#retryTimer) return;
    this.#o.onLost?.();
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, this.#retryMax);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#o.stats) this.#o.stats.reopens++;
      const old = this.#port;
      this.#port = null;
      if (old) {
        old.removeAllListeners();
        // A closing port may still emit an error; with its listeners gone it would be thrown.
        old.on('error', () => {});
        if (old.isOpen) old.close(() => {});
      }
      this.#open();
    }, delay);
  }
}
