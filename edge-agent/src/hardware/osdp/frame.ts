/**
 * OSDP packets (SIA OSDP v2.2 §5): SOM 0x53, address (0x80 set on replies), length (LSB first, the whole packet
 * from SOM to the check characters), CTRL (bits 0–1 sequence number, bit 2 CRC instead of checksum, bit 3 a
 * security block follows), the security block, the command or reply code, its data, a 4-byte MAC when the
 * security block says so, then the CRC (LSB first) or checksum. Hand-written, as the rest of this directory:
 * no Node OSDP implementation exists; libosdp (goToMain/libosdp, src/osdp_phy.c) was the reference.
 */
import { checksum, crc16 } from './crc.js';

export const SOM = 0x53;
export const REPLY_BIT = 0x80;
export const BROADCAST = 0x7f;
/** Secure-block types (§D.1): the handshake (0x11–0x14) and the session's MAC-only / MAC+encrypted packets. */
export const SCS = {
  CHLNG: 0x11,
  CCRYPT: 0x12,
  SCRYPT: 0x13,
  RMAC_I: 0x14,
  CMD_MAC: 0x15,
  REPLY_MAC: 0x16,
  CMD_ENC: 0x17,
  REPLY_ENC: 0x18,
} as const;
/** Bigger than any packet this driver sends or takes; a length above it is noise, not a packet to wait for. */
export const MAX_PACKET = 1440;
const MIN_PACKET = 7;

export interface Frame {
  /** 0..126 (0x7f is broadcast), without the reply bit. */
  address: number;
  reply: boolean;
  sqn: number;
  /** CRC-16 (true, the default) or the 8-bit checksum. */
  crc?: boolean;
  /** Security block type and its data (without the length and type bytes). */
  scb?: { type: number; data: Uint8Array };
  code: number;
  data: Uint8Array;
}

export interface DecodedFrame extends Frame {
  crc: boolean;
  /** The 4 MAC bytes when the security block carries a MAC. */
  mac?: Buffer;
  /** The packet from SOM up to (not including) the MAC: what the MAC covers. */
  macInput?: Buffer;
  raw: Buffer;
}

export const hasMac = (scbType: number | undefined): boolean => scbType !== undefined && scbType >= SCS.CMD_MAC && scbType <= SCS.REPLY_ENC;

/**
 * Encodes a packet. `mac` is called with the packet so far (SOM…data, length already final) and must return the
 * 4 MAC bytes when the security block type needs them.
 */
export function encodeFrame(f: Frame, mac?: (head: Buffer) => Uint8Array): Buffer {
  const useCrc = f.crc !== false;
  const withMac = hasMac(f.scb?.type);
  const scbLen = f.scb ? 2 + f.scb.data.length : 0;
  const total = 5 + scbLen + 1 + f.data.length + (withMac ? 4 : 0) + (useCrc ? 2 : 1);
  if (total > MAX_PACKET) throw new RangeError(`osdp packet of ${total} bytes`);
  const buf = Buffer.alloc(total);
  buf[0] = SOM;
  buf[1] = (f.address & 0x7f) | (f.reply ? REPLY_BIT : 0);
  buf.writeUInt16LE(total, 2);
  buf[4] = (f.sqn & 3) | (useCrc ? 0x04 : 0) | (f.scb ? 0x08 : 0);
  let o = 5;
  if (f.scb) {
    buf[o++] = scbLen;
    buf[o++] = f.scb.type;
    buf.set(f.scb.data, o);
    o += f.scb.data.length;
  }
  buf[o++] = f.code;
  buf.set(f.data, o);
  o += f.data.length;
  if (withMac) {
    if (!mac) throw new Error('osdp: a MAC is needed for this security block');
    const m = mac(buf.subarray(0, o));
    buf.set(m.subarray(0, 4), o);
    o += 4;
  }
  if (useCrc) buf.writeUInt16LE(crc16(buf, 0, o), o);
  else buf[o] = checksum(buf, 0, o);
  return buf;
}

/** Decodes one complete packet; null for anything that is not one (never throws). */
export function decodeFrame(raw: Buffer): DecodedFrame | null {
  if (raw.length < MIN_PACKET || raw[0] !== SOM) return null;
  const len = raw.readUInt16LE(2);
  if (len !== raw.length) return null;
  const ctrl = raw[4] ?? 0;
  const useCrc = (ctrl & 0x04) !== 0;
  const end = len - (useCrc ? 2 : 1);
  if (useCrc ? raw.readUInt16LE(end) !== crc16(raw, 0, end) : raw[end] !== checksum(raw, 0, end)) return null;
  let o = 5;
  let scb: Frame['scb'];
  if (ctrl & 0x08) {
    const sl = raw[o] ?? 0;
    if (sl < 2 || o + sl >= end) return null;
    scb = { type: raw[o + 1] ?? 0, data: Buffer.from(raw.subarray(o + 2, o + sl)) };
    o += sl;
  }
  const withMac = hasMac(scb?.type);
  const dataEnd = end - (withMac ? 4 : 0);
  if (o >= dataEnd) return null;
  const code = raw[o++] ?? 0;
  const addr = raw[1] ?? 0;
  return {
    address: addr & 0x7f,
    reply: (addr & REPLY_BIT) !== 0,
    sqn: ctrl & 3,
    crc: useCrc,
    ...(scb ? { scb } : {}),
    code,
    data: Buffer.from(raw.subarray(o, dataEnd)),
    ...(withMac ? { mac: Buffer.from(raw.subarray(dataEnd, end)), macInput: Buffer.from(raw.subarray(0, dataEnd)) } : {}),
    raw,
  };
}

/**
 * A streaming decoder for a byte stream with noise in it (RS-485 line turnaround, other devices' garbage): finds
 * SOM, waits for the stated length, checks it; on any mismatch drops that SOM byte and looks again. Never throws.
 */
export class FrameDecoder {
  #buf: Buffer = Buffer.alloc(0);
  /** Bytes thrown away as noise (for health and tests). */
  dropped = 0;

  push(chunk: Uint8Array): DecodedFrame[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : Buffer.from(chunk);
    const out: DecodedFrame[] = [];
    for (;;) {
      const som = this.#buf.indexOf(SOM);
      if (som < 0) {
        this.dropped += this.#buf.length;
        this.#buf = Buffer.alloc(0);
        break;
      }
      if (som > 0) {
        this.dropped += som;
        this.#buf = this.#buf.subarray(som);
      }
      if (this.#buf.length < 5) break;
      const len = this.#buf.readUInt16LE(2);
      if (len < MIN_PACKET || len > MAX_PACKET) {
        this.#skip();
        continue;
      }
      if (this.#buf.length < len) break;
      const f = decodeFrame(Buffer.from(this.#buf.subarray(0, len)));
      if (!f) {
        this.#skip();
        continue;
      }
      out.push(f);
      this.#buf = this.#buf.subarray(len);
    }
    return out;
  }

  /**
   * A reply timed out: whatever is buffered may be a false SOM whose "length" is swallowing real packets. Drop
   * that byte and rescan.
   */
  resync(): DecodedFrame[] {
    if (this.#buf.length === 0) return [];
    this.#skip();
    return this.push(Buffer.alloc(0));
  }

  reset(): void {
    this.#buf = Buffer.alloc(0);
  }

  get pending(): number {
    return this.#buf.length;
  }

  #skip(): void {
    this.dropped++;
    this.#buf = this.#buf.subarray(1);
  }
}
