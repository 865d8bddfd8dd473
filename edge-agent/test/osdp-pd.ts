/**
 * A simulated OSDP peripheral device (the PD side) for tests and the bench: several addresses on one serial port
 * (a socat pty end, or SerialPortMock), with Secure Channel (its own SCBK; install mode accepting SCBK-D; KEYSET),
 * cards (raw 26/34-bit and formatted), keypad, tamper and power switches, a record of LED/BUZ/TEXT commands so a
 * test can assert the feedback shown, a "silent" switch (unplugged) and a reply delay.
 * It reuses the driver's codec (frame, messages, secure-channel); the codec itself is pinned by the byte-exact
 * fixtures in osdp-codec.test.ts, so the two sides cannot agree on a mistake there.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import { type DecodedFrame, encodeFrame, FrameDecoder, SCS } from '../src/hardware/osdp/frame.js';
import {
  CAP,
  CMD,
  encodeFmt,
  encodeKeypad,
  encodePdCap,
  encodePdId,
  encodeRaw,
  NAK,
  type PdCapability,
  type PdId,
  parseBuz,
  parseKeyset,
  parseLed,
  parseText,
  REPLY,
} from '../src/hardware/osdp/messages.js';
import {
  clientCryptogram,
  deriveSessionKeys,
  equal16,
  initialRmac,
  SCBK_D,
  SecureSession,
  type SessionKeys,
  serverCryptogram,
} from '../src/hardware/osdp/secure-channel.js';
import type { PortLike } from '../src/hardware/serial-port.js';

export interface SimPdOptions {
  address: number;
  /** The PD's Secure Channel key; null: the PD has no Secure Channel (NAKs CHLNG). */
  scbk?: Buffer | null;
  /** Accepts SCBK-D (the CP's install request) until a KEYSET gives it a key. */
  install?: boolean;
  /** Has a text display (CAP 6). */
  display?: boolean;
  id?: Partial<PdId>;
}

export interface LedSeen {
  at: number;
  color: number;
}

export class SimPd {
  readonly address: number;
  scbk: Buffer | null;
  install: boolean;
  readonly display: boolean;
  readonly id: PdId;
  /** Unplugged: answers nothing. */
  silent = false;
  /** Milliseconds before each reply. */
  delayMs = 0;
  /** Replies to lose on the wire (the PD acted on the command; the CP never hears back). */
  dropReplies = 0;
  /** Lose the replies to this command (and to its resends): the PD acts, the CP never hears back. */
  dropRepliesTo: { code: number; count: number } | null = null;
  /** NAK every KEYSET (a PD whose keys are locked). */
  refuseKeyset = false;
  /** Commands to answer with osdp_BUSY (sequence number 0, plain) without acting on them. */
  busy = 0;
  tamper = false;
  power = false;
  readonly leds: LedSeen[] = [];
  readonly buzzes: { at: number; count: number }[] = [];
  readonly texts: string[] = [];
  readonly keysets: Buffer[] = [];
  /** performance.now() of each card presented, in order (the bench's start time). */
  readonly presentedAt: number[] = [];
  /** Commands this PD answered, by code (tests look at handshake counts). */
  readonly seen: number[] = [];
  onLed: ((l: LedSeen) => void) | null = null;
  readonly #outbox: { code: number; data: Buffer }[] = [];
  #reported = { tamper: false, power: false };
  #session: SecureSession | null = null;
  #handshake: { keys: SessionKeys; cpRandom: Buffer; pdRandom: Buffer } | null = null;
  #last: { sqn: number; raw: Buffer; reply: Buffer } | null = null;

  constructor(o: SimPdOptions) {
    this.address = o.address;
    this.scbk = o.scbk === undefined ? null : o.scbk;
    this.install = o.install ?? false;
    this.display = o.display ?? false;
    this.id = { vendor: '0a0b0c', model: 7, version: 1, serial: 0x1000 + o.address, firmware: '2.2.0', ...o.id };
  }

  get secure(): boolean {
    return this.#session !== null;
  }

  /** A card read as raw bits (26 or 34 for Wiegand cards). */
  presentBits(bits: string): void {
    this.presentedAt.push(performance.now());
    this.#outbox.push({ code: REPLY.RAW, data: encodeRaw({ reader: 0, format: bits.length === 26 || bits.length === 34 ? 1 : 0, bits }) });
  }

  /** A card number as the PD's raw bits (64 bits, so not mistaken for a Wiegand frame). */
  presentCard(n: bigint | number): void {
    this.presentBits(BigInt(n).toString(2).padStart(64, '0'));
  }

  presentFormatted(text: string): void {
    this.presentedAt.push(performance.now());
    this.#outbox.push({ code: REPLY.FMT, data: encodeFmt({ reader: 0, direction: 0, text }) });
  }

  keypad(keys: string): void {
    this.#outbox.push({ code: REPLY.KEYPAD, data: encodeKeypad(0, keys) });
  }

  get lastLed(): LedSeen | undefined {
    return this.leds.at(-1);
  }

  /** Handles one command addressed to this PD; returns the reply packet, or null for none. */
  handle(f: DecodedFrame): Buffer | null {
    if (this.silent) return null;
    if (this.busy > 0 && f.sqn !== 0) {
      this.busy--;
      return encodeFrame({ address: this.address, reply: true, sqn: 0, code: REPLY.BUSY, data: Buffer.alloc(0) });
    }
    if (f.sqn === 0) {
      // SQN 0: the CP starts over; so does any session.
      this.#session = null;
      this.#last = null;
    } else if (this.#last && this.#last.sqn === f.sqn && this.#last.raw.equals(f.raw)) {
      // The CP did not get our reply and sent the same packet again: the same reply, not a second action.
      return this.#drop(f) ? null : this.#last.reply;
    }
    const reply = this.#handle(f);
    if (reply) this.#last = { sqn: f.sqn, raw: f.raw, reply };
    if (reply && this.dropReplies > 0) {
      this.dropReplies--;
      return null;
    }
    return this.#drop(f) ? null : reply;
  }

  #drop(f: DecodedFrame): boolean {
    const d = this.dropRepliesTo;
    if (!d || d.code !== f.code || d.count <= 0) return false;
    d.count--;
    return true;
  }

  #plain(f: DecodedFrame, code: number, data: Uint8Array = Buffer.alloc(0), scb?: { type: number; data: Buffer }): Buffer {
    return encodeFrame({ address: this.address, reply: true, sqn: f.sqn, ...(scb ? { scb } : {}), code, data });
  }

  #nak(f: DecodedFrame, reason: number): Buffer {
    return this.#plain(f, REPLY.NAK, Buffer.from([reason]));
  }

  #handle(f: DecodedFrame): Buffer | null {
    this.seen.push(f.code);
    const scbType = f.scb?.type;
    if (scbType === SCS.CHLNG && f.code === CMD.CHLNG) {
      this.#session = null;
      const keyType = f.scb?.data[0] ?? 1;
      const key = keyType === 0 ? (this.install ? SCBK_D : null) : this.scbk;
      if (this.scbk === null && !this.install) return this.#nak(f, NAK.SC_UNSUPPORTED);
      if (!key) return this.#nak(f, NAK.SC_CONDITIONS);
      const cpRandom = Buffer.from(f.data.subarray(0, 8));
      const pdRandom = randomBytes(8);
      const keys = deriveSessionKeys(key, cpRandom);
      this.#handshake = { keys, cpRandom, pdRandom };
      const cuid = Buffer.alloc(8);
      cuid.writeUInt32LE(this.id.serial, 4);
      return this.#plain(f, REPLY.CCRYPT, Buffer.concat([cuid, pdRandom, clientCryptogram(keys, cpRandom, pdRandom)]), {
        type: SCS.CCRYPT,
        data: Buffer.from([keyType]),
      });
    }
    if (scbType === SCS.SCRYPT && f.code === CMD.SCRYPT) {
      const h = this.#handshake;
      this.#handshake = null;
      if (!h || !equal16(serverCryptogram(h.keys, h.cpRandom, h.pdRandom), Buffer.from(f.data).subarray(0, 16))) {
        return this.#nak(f, NAK.SC_CONDITIONS);
      }
      const rmacI = initialRmac(h.keys, Buffer.from(f.data).subarray(0, 16));
      this.#session = new SecureSession(h.keys, rmacI);
      return this.#plain(f, REPLY.RMAC_I, rmacI, { type: SCS.RMAC_I, data: Buffer.from([1]) });
    }
    if (scbType === SCS.CMD_MAC || scbType === SCS.CMD_ENC) {
      const s = this.#session;
      if (!s || !f.mac || !f.macInput) return this.#nak(f, NAK.SC_CONDITIONS);
      const data = scbType === SCS.CMD_ENC ? s.decryptCommand(f.data) : Buffer.from(f.data);
      if (!data || !s.verifyCommand(f.macInput, f.mac)) {
        this.#session = null;
        return this.#nak(f, NAK.SC_CONDITIONS);
      }
      const r = this.#command(f.code, data, true);
      const payload = r.data.length ? s.encryptReply(r.data) : r.data;
      return encodeFrame(
        {
          address: this.address,
          reply: true,
          sqn: f.sqn,
          scb: { type: r.data.length ? SCS.REPLY_ENC : SCS.REPLY_MAC, data: Buffer.alloc(0) },
          code: r.code,
          data: payload,
        },
        (head) => s.macReply(head),
      );
    }
    // Plain text. A PD with a key of its own talks only ID and CAP in clear: the rest needs the secure channel.
    this.#session = null;
    if ((this.scbk || this.install) && f.code !== CMD.ID && f.code !== CMD.CAP) return this.#nak(f, NAK.SC_CONDITIONS);
    const r = this.#command(f.code, Buffer.from(f.data), false);
    return this.#plain(f, r.code, r.data);
  }

  #command(code: number, data: Buffer, secure: boolean): { code: number; data: Buffer } {
    const ack = { code: REPLY.ACK, data: Buffer.alloc(0) };
    switch (code) {
      case CMD.POLL: {
        const next = this.#outbox.shift();
        if (next) return next;
        if (this.tamper !== this.#reported.tamper || this.power !== this.#reported.power) return this.#lstatr();
        return ack;
      }
      case CMD.ID:
        return { code: REPLY.PDID, data: encodePdId(this.id) };
      case CMD.CAP: {
        const caps: PdCapability[] = [
          { code: CAP.CARD_FORMAT, compliance: 1, count: 0 },
          { code: CAP.LED, compliance: 1, count: 1 },
          { code: CAP.AUDIBLE, compliance: 1, count: 1 },
          { code: CAP.CHECK_CHARACTER, compliance: 1, count: 0 },
          { code: CAP.SECURITY, compliance: this.scbk || this.install ? 1 : 0, count: this.install ? 1 : 0 },
          ...(this.display ? [{ code: CAP.TEXT, compliance: 1, count: 1 }] : []),
        ];
        return { code: REPLY.PDCAP, data: encodePdCap(caps) };
      }
      case CMD.LSTAT:
        return this.#lstatr();
      case CMD.LED: {
        for (const l of parseLed(data)) {
          const color = l.tempColor ?? l.permColor;
          if (color === null) continue;
          const seen = { at: performance.now(), color };
          this.leds.push(seen);
          this.onLed?.(seen);
        }
        return ack;
      }
      case CMD.BUZ: {
        const b = parseBuz(data);
        if (b) this.buzzes.push({ at: performance.now(), count: b.count });
        return ack;
      }
      case CMD.TEXT: {
        const t = parseText(data);
        if (t) this.texts.push(t.text);
        return ack;
      }
      case CMD.KEYSET: {
        const key = secure && !this.refuseKeyset ? parseKeyset(data) : null;
        if (!key) return { code: REPLY.NAK, data: Buffer.from([secure ? NAK.UNABLE : NAK.SC_CONDITIONS]) };
        this.scbk = key;
        this.install = false;
        this.keysets.push(key);
        return ack;
      }
      default:
        return { code: REPLY.NAK, data: Buffer.from([NAK.UNKNOWN]) };
    }
  }

  #lstatr(): { code: number; data: Buffer } {
    this.#reported = { tamper: this.tamper, power: this.power };
    return { code: REPLY.LSTATR, data: Buffer.from([this.tamper ? 1 : 0, this.power ? 1 : 0]) };
  }
}

export type SimPortFactory = (path: string, baudRate: number) => PortLike;

/** Several simulated PDs on one serial port. */
export class SimBus {
  readonly pds = new Map<number, SimPd>();
  readonly #decoder = new FrameDecoder();
  #port: PortLike | null = null;
  /**
   * Model an RS-485 line at `baudRate`: a pty passes bytes on at once, so without this a 9600-baud bus would look
   * as fast as a 115200 one. Each command is handled after its bytes' wire time, each reply sent after its own.
   */
  paceWire = false;

  constructor(
    readonly path: string,
    readonly baudRate: number,
    pds: SimPdOptions[],
    private readonly openPort: SimPortFactory = (p, b) => new SerialPort({ path: p, baudRate: b, autoOpen: false }),
  ) {
    for (const o of pds) this.pds.set(o.address, new SimPd(o));
  }

  pd(address = 0): SimPd {
    const p = this.pds.get(address);
    if (!p) throw new Error(`no simulated PD at ${address}`);
    return p;
  }

  async start(): Promise<void> {
    const port = this.openPort(this.path, this.baudRate);
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    port.on('error', () => {});
    const wireMs = (bytes: number) => (bytes * 10 * 1000) / this.baudRate;
    const answer = (f: DecodedFrame) => {
      const pd = this.pds.get(f.address);
      if (!pd) return;
      const reply = pd.handle(f);
      if (!reply) return;
      // Paced: the reply's own bytes take their wire time before the CP has all of them.
      const delay = pd.delayMs + (this.paceWire ? wireMs(reply.length) : 0);
      if (delay > 0) setTimeout(() => this.#port?.write(reply), delay);
      else port.write(reply);
    };
    port.on('data', (chunk: Buffer) => {
      for (const f of this.#decoder.push(chunk)) {
        if (f.reply) continue;
        // A pty delivers at once whatever the baud rate; paced, the command is "here" only after its wire time.
        if (this.paceWire) setTimeout(() => answer(f), wireMs(f.raw.length));
        else answer(f);
      }
    });
    this.#port = port;
  }

  /** Bytes on the wire that are not a packet (line noise). */
  noise(bytes: Buffer): void {
    this.#port?.write(bytes);
  }

  async stop(): Promise<void> {
    const port = this.#port;
    this.#port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
    port?.removeAllListeners();
  }
}

/** A PortLike whose writes arrive at its peer: two ends of an in-memory wire, for tests that need no pty. */
class MemoryPort extends EventEmitter {
  peer: MemoryPort | null = null;
  isOpen = false;
  open(cb: (err: Error | null) => void): void {
    this.isOpen = true;
    queueMicrotask(() => cb(null));
  }
  close(cb?: (err: Error | null) => void): void {
    this.isOpen = false;
    queueMicrotask(() => {
      this.emit('close');
      cb?.(null);
    });
  }
  flush(cb?: (err: Error | null) => void): void {
    queueMicrotask(() => cb?.(null));
  }
  write(data: Buffer, cb?: (err: Error | null | undefined) => void): boolean {
    const peer = this.peer;
    const copy = Buffer.from(data);
    setImmediate(() => {
      if (this.isOpen && peer?.isOpen) peer.emit('data', copy);
      cb?.(null);
    });
    return true;
  }
}

export function memoryWire(): { cp: PortLike; pd: PortLike } {
  const a = new MemoryPort();
  const b = new MemoryPort();
  a.peer = b;
  b.peer = a;
  return { cp: a as unknown as PortLike, pd: b as unknown as PortLike };
}
