/**
 * QR scanner on a serial port (USB CDC-ACM, RS-232/485 adapters). Lines are
 * framed by LineFramer; when the device disappears (USB unplugged, or the pty
 * in tests) the port is reopened with back-off and health says why it is down.
 * The port is created through an injected factory so tests can hand in
 * SerialPortMock (serialport's own mock binding) or a real pty.
 */
import type { Direction } from '@gatehouse/protocol';
import { SerialPort } from 'serialport';
import type { SerialQrReaderConfig } from '../config.js';
import { LineFramer } from './line-framer.js';
import type { HardwareHealth, Reader, ReaderInput } from './types.js';

/** What this driver uses of a serialport stream (SerialPort and SerialPortMock both fit). */
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

export interface SerialQrOptions {
  openPort?: PortFactory;
  /** Back-off between reopen attempts: starts at min, doubles to max. */
  retryMinMs?: number;
  retryMaxMs?: number;
  idleMs?: number;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export class SerialQrReader implements Reader {
  readonly type = 'serial-qr';
  readonly name: string;
  readonly direction: Direction;
  readonly #cfg: SerialQrReaderConfig;
  readonly #openPort: PortFactory;
  readonly #framer: LineFramer;
  readonly #listeners: ((i: ReaderInput) => void)[] = [];
  readonly #retryMin: number;
  readonly #retryMax: number;
  #port: PortLike | null = null;
  #retryMs: number;
  #retryTimer: NodeJS.Timeout | null = null;
  #stopped = true;
  #healthy = false;
  #detail = 'not started';
  /** Counters for health and metrics. */
  readonly stats = { lines: 0, dropped: 0, reopens: 0 };

  constructor(
    cfg: SerialQrReaderConfig & { name: string },
    private readonly opts: SerialQrOptions = {},
  ) {
    this.#cfg = cfg;
    this.name = cfg.name;
    this.direction = cfg.direction;
    this.#openPort = opts.openPort ?? realPort;
    this.#retryMin = opts.retryMinMs ?? 200;
    this.#retryMax = opts.retryMaxMs ?? 5000;
    this.#retryMs = this.#retryMin;
    this.#framer = new LineFramer({
      lineEnding: cfg.lineEnding ?? 'CR',
      idleMs: opts.idleMs ?? 150,
      onLine: (line, receivedAt) => {
        this.stats.lines++;
        this.#emit(line, receivedAt);
      },
      onDropped: (bytes, why) => {
        this.stats.dropped++;
        // Noise cut off the front of a good line is not an attempt; a lone half or over-long line is one (malformed).
        if (why !== 'noise') this.#emit(bytes, performance.now());
      },
    });
  }

  #emit(data: Buffer, receivedAt: number): void {
    const input: ReaderInput = { reader: this.name, direction: this.direction, data, receivedAt };
    for (const l of this.#listeners) l(input);
  }

  onInput(cb: (input: ReaderInput) => void): void {
    this.#listeners.push(cb);
  }

  health(): HardwareHealth {
    return { name: this.name, type: this.type, healthy: this.#healthy, detail: this.#detail };
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await new Promise<void>((resolve) => this.#open(resolve));
  }

  #open(done?: () => void): void {
    if (this.#stopped) {
      done?.();
      return;
    }
    const port = this.#openPort(this.#cfg.path, this.#cfg.baudRate ?? 9600);
    this.#port = port;
    port.on('error', (err) => {
      this.#down(`error: ${err.message}`);
    });
    port.on('close', (err) => {
      if (this.#port !== port) return;
      this.#down(err ? `closed: ${err.message}` : 'closed');
      this.#scheduleReopen();
    });
    port.open((err) => {
      if (err) {
        this.#down(`cannot open ${this.#cfg.path}: ${err.message}`);
        port.removeAllListeners();
        if (this.#port === port) this.#port = null;
        this.#scheduleReopen();
        done?.();
        return;
      }
      // Drop whatever the device queued before we were listening: a half line would poison the first scan.
      port.flush(() => {
        port.on('data', (chunk: Buffer) => this.#framer.push(chunk));
        this.#retryMs = this.#retryMin;
        this.#healthy = true;
        this.#detail = `open ${this.#cfg.path}`;
        this.opts.log?.info({ reader: this.name, path: this.#cfg.path }, 'serial reader open');
        done?.();
      });
    });
  }

  #down(detail: string): void {
    if (this.#healthy) this.opts.log?.warn({ reader: this.name, detail }, 'serial reader down');
    this.#healthy = false;
    this.#detail = detail;
  }

  #scheduleReopen(): void {
    if (this.#stopped || this.#retryTimer) return;
    this.#framer.flushIdle();
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, this.#retryMax);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.stats.reopens++;
      const old = this.#port;
      this.#port = null;
      if (old) {
        old.removeAllListeners();
        old.on('error', () => {});
        if (old.isOpen) old.close(() => {});
      }
      this.#open();
    }, delay);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#framer.dispose();
    const port = this.#port;
    this.#port = null;
    this.#healthy = false;
    this.#detail = 'stopped';
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
    port?.removeAllListeners();
  }
}
