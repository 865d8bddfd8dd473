/**
 * One OSDP bus: one serial port (an RS-485 adapter) shared by every PD address on it. The bus owns the port,
 * reopens it with back-off when the device disappears, and runs the poll loop: each attached PD gets a turn in
 * round-robin (a POLL, or its queued command, or its connection handshake), and a round is paced so each PD is
 * polled about every `pollMs` (50 ms, the usual panel rate), well inside the PD's own offline timeout. RS-485 is
 * half duplex with one master, so exchanges are strictly serialised: one packet out, wait for that address's reply
 * or the reply timeout (200 ms per the spec, plus the time the bytes take on the wire), then the next.
 * Hand-written: no Node OSDP implementation exists.
 */
import { type PortFactory, ReopeningPort } from '../serial-port.js';
import { type DecodedFrame, FrameDecoder } from './frame.js';
import { REPLY } from './messages.js';

const BUSY = REPLY.BUSY;

export interface BusIo {
  /**
   * Sends one packet and resolves with the reply from `address` carrying sequence number `sqn`, or null when
   * none came in time. A reply with another sequence number is a late answer to an earlier packet: skipped.
   */
  exchange(packet: Buffer, address: number, sqn: number): Promise<{ frame: DecodedFrame; at: number } | null>;
}

/** What the bus needs of a PD session (OsdpReader). */
export interface BusDevice {
  readonly address: number;
  /** One turn on the bus: at most a handful of exchanges; must not throw. */
  turn(io: BusIo): Promise<void>;
  /** A command is queued: the loop should not sleep. */
  hasWork(): boolean;
  /** The port closed (unplugged) or opened again. */
  portChanged(open: boolean, detail: string): void;
}

export interface OsdpBusOptions {
  openPort?: PortFactory;
  pollMs?: number;
  /** The spec's PD reply deadline; the bytes' wire time is added to it. */
  replyTimeoutMs?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void; debug?(o: object, m: string): void };
}

export class OsdpBus {
  readonly path: string;
  readonly baudRate: number;
  readonly #pollMs: number;
  readonly #replyTimeoutMs: number;
  readonly #port: ReopeningPort;
  readonly #devices: BusDevice[] = [];
  readonly #decoder = new FrameDecoder();
  #users = 0;
  /** The first open in progress: later readers on the bus wait for it too. */
  #opening: Promise<void> | null = null;
  #open = false;
  #stopped = true;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #pending: {
    address: number;
    sqn: number;
    resolve: (f: { frame: DecodedFrame; at: number } | null) => void;
    timer: NodeJS.Timeout;
  } | null = null;
  detail = 'not started';
  readonly stats = { sent: 0, replies: 0, timeouts: 0, stale: 0, reopens: 0 };

  constructor(
    path: string,
    baudRate: number,
    private readonly opts: OsdpBusOptions = {},
  ) {
    this.path = path;
    this.baudRate = baudRate;
    this.#pollMs = opts.pollMs ?? 50;
    this.#replyTimeoutMs = opts.replyTimeoutMs ?? 200;
    this.#port = new ReopeningPort({
      path,
      baudRate,
      openPort: opts.openPort,
      retryMinMs: opts.retryMinMs,
      retryMaxMs: opts.retryMaxMs,
      stats: this.stats,
      onData: (chunk) => {
        for (const f of this.#decoder.push(chunk)) this.#onFrame(f);
      },
      onOpen: () => {
        this.#decoder.reset();
        this.#open = true;
        this.detail = `open ${this.path}`;
        this.opts.log?.info({ path: this.path, baudRate: this.baudRate }, 'osdp bus open');
        for (const d of this.#devices) d.portChanged(true, this.detail);
        this.wake();
      },
      onDown: (detail) => this.#down(detail),
    });
  }

  get isOpen(): boolean {
    return this.#open;
  }

  attach(dev: BusDevice): void {
    if (this.#devices.some((d) => d.address === dev.address)) throw new Error(`osdp: address ${dev.address} is already on ${this.path}`);
    this.#devices.push(dev);
    if (this.#open) dev.portChanged(true, `open ${this.path}`);
  }

  detach(dev: BusDevice): void {
    const i = this.#devices.indexOf(dev);
    if (i >= 0) this.#devices.splice(i, 1);
  }

  /** Each reader on the bus starts it; the first opens the port. */
  async acquire(): Promise<void> {
    this.#users++;
    if (this.#users > 1) return this.#opening ?? undefined;
    this.#stopped = false;
    this.#opening = this.#port.start();
    await this.#opening;
    this.#loop = this.#run();
  }

  /** The last reader to stop closes the port. */
  async release(): Promise<void> {
    this.#users = Math.max(0, this.#users - 1);
    if (this.#users > 0) return;
    this.#stopped = true;
    this.wake();
    this.#settle(null);
    await this.#loop;
    this.#loop = null;
    this.#open = false;
    this.detail = 'stopped';
    await this.#port.stop();
  }

  /** A device queued a command: run the loop now instead of at the next poll. */
  wake(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  readonly #io: BusIo = {
    exchange: (packet, address, sqn) => this.#exchange(packet, address, sqn),
  };

  /** Wire time of n bytes at this baud rate (8N1: 10 bits a byte). */
  wireMs(bytes: number): number {
    return (bytes * 10 * 1000) / this.baudRate;
  }

  #exchange(packet: Buffer, address: number, sqn: number): Promise<{ frame: DecodedFrame; at: number } | null> {
    const port = this.#port.port;
    if (!port || !this.#open || this.#stopped) return Promise.resolve(null);
    this.#settle(null);
    return new Promise((resolve) => {
      // The reply can start only after our packet has left, and a long reply takes its own time: allow for both.
      const timeout = this.#replyTimeoutMs + this.wireMs(packet.length) + this.wireMs(64);
      const timer = setTimeout(() => {
        this.stats.timeouts++;
        this.#settle(null);
        // A false SOM in the buffer may be holding back a real packet: resync past it.
        for (const f of this.#decoder.resync()) this.#onFrame(f);
      }, timeout);
      this.#pending = { address, sqn, resolve, timer };
      this.stats.sent++;
      port.write(packet, (err) => {
        if (err) {
          this.opts.log?.warn({ path: this.path, err: err.message }, 'osdp write failed');
          this.#settle(null);
        }
      });
    });
  }

  #settle(v: { frame: DecodedFrame; at: number } | null): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = null;
    clearTimeout(p.timer);
    p.resolve(v);
  }

  #onFrame(f: DecodedFrame): void {
    // Our own commands come back on adapters that echo; only replies count, and only from the address asked.
    if (!f.reply || !this.#pending || f.address !== this.#pending.address) return;
    // osdp_BUSY may carry sequence number 0 whatever was asked (libosdp's own tests send it so): it answers now.
    if (f.sqn !== this.#pending.sqn && !(f.code === BUSY && !f.scb)) {
      this.stats.stale++;
      return;
    }
    this.stats.replies++;
    this.#settle({ frame: f, at: performance.now() });
  }

  async #run(): Promise<void> {
    let next = 0;
    while (!this.#stopped) {
      if (!this.#open || this.#devices.length === 0) {
        await this.#sleep(this.#pollMs);
        continue;
      }
      const round = performance.now();
      // Round-robin; `next` rotates so a device's long handshake does not always delay the same neighbour.
      const devices = this.#devices.slice();
      for (let i = 0; i < devices.length && !this.#stopped && this.#open; i++) {
        const dev = devices[(next + i) % devices.length];
        if (!dev) continue;
        try {
          await dev.turn(this.#io);
        } catch (e) {
          this.opts.log?.warn({ path: this.path, address: dev.address, err: (e as Error).message }, 'osdp device turn failed');
        }
      }
      next = (next + 1) % Math.max(1, devices.length);
      if (this.#devices.some((d) => d.hasWork())) continue;
      await this.#sleep(this.#pollMs - (performance.now() - round));
    }
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  #down(detail: string): void {
    const was = this.#open;
    this.#open = false;
    this.detail = detail;
    this.#settle(null);
    if (was) {
      this.opts.log?.warn({ path: this.path, detail }, 'osdp bus down');
      for (const d of this.#devices) d.portChanged(false, detail);
    }
  }
}
