/**
 * QR scanner on a serial port (USB CDC-ACM, RS-232/485 adapters). Lines are
 * framed by LineFramer; when the device disappears (USB unplugged, or the pty
 * in tests) the port is reopened with back-off (ReopeningPort) and health says
 * why it is down.
 */
import type { Direction } from '@gatehouse/protocol';
import type { SerialQrReaderConfig } from '../config.js';
import { LineFramer } from './line-framer.js';
import { type PortFactory, ReopeningPort } from './serial-port.js';
import type { HardwareHealth, Reader, ReaderInput } from './types.js';

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
  readonly #framer: LineFramer;
  readonly #listeners: ((i: ReaderInput) => void)[] = [];
  readonly #port: ReopeningPort;
  #healthy = false;
  #detail = 'not started';
  /** Counters for health and metrics. */
  readonly stats = { lines: 0, dropped: 0, reopens: 0 };

  constructor(
    cfg: SerialQrReaderConfig & { name: string },
    private readonly opts: SerialQrOptions = {},
  ) {
    this.name = cfg.name;
    this.direction = cfg.direction;
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
    this.#port = new ReopeningPort({
      path: cfg.path,
      baudRate: cfg.baudRate ?? 9600,
      openPort: opts.openPort,
      retryMinMs: opts.retryMinMs,
      retryMaxMs: opts.retryMaxMs,
      stats: this.stats,
      onData: (chunk) => this.#framer.push(chunk),
      onOpen: () => {
        this.#healthy = true;
        this.#detail = `open ${cfg.path}`;
        this.opts.log?.info({ reader: this.name, path: cfg.path }, 'serial reader open');
      },
      onDown: (detail) => this.#down(detail),
      // A line cut short by the unplug is finished now, not when the port is back.
      onLost: () => this.#framer.flushIdle(),
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
    await this.#port.start();
  }

  #down(detail: string): void {
    if (this.#healthy) this.opts.log?.warn({ reader: this.name, detail }, 'serial reader down');
    this.#healthy = false;
    this.#detail = detail;
  }

  async stop(): Promise<void> {
    this.#framer.dispose();
    this.#healthy = false;
    this.#detail = 'stopped';
    await this.#port.stop();
  }
}
