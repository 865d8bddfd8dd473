/**
 * OSDP v2.2 command and reply codes and the payloads this driver builds and reads (§6, §7). Pure: bytes in,
 * objects out; parsers return null for a payload of the wrong shape instead of throwing.
 */

export const CMD = {
  POLL: 0x60,
  ID: 0x61,
  CAP: 0x62,
  LSTAT: 0x64,
  LED: 0x69,
  BUZ: 0x6a,
  TEXT: 0x6b,
  COMSET: 0x6e,
  KEYSET: 0x75,
  CHLNG: 0x76,
  SCRYPT: 0x77,
} as const;

export const REPLY = {
  ACK: 0x40,
  NAK: 0x41,
  PDID: 0x45,
  PDCAP: 0x46,
  LSTATR: 0x48,
  RAW: 0x50,
  FMT: 0x51,
  KEYPAD: 0x53,
  COM: 0x54,
  CCRYPT: 0x76,
  RMAC_I: 0x78,
  BUSY: 0x79,
} as const;

/** NAK reason codes (§7.3). */
export const NAK_REASON: Record<number, string> = {
  1: 'message check character error',
  2: 'command length error',
  3: 'unknown command',
  4: 'unexpected sequence number',
  5: 'security block not supported',
  6: 'communication security conditions not met',
  7: 'BIO_TYPE not supported',
  8: 'BIO_FORMAT not supported',
  9: 'unable to process command record',
};
export const NAK = { CHECK: 1, LENGTH: 2, UNKNOWN: 3, SEQUENCE: 4, SC_UNSUPPORTED: 5, SC_CONDITIONS: 6, UNABLE: 9 } as const;

export const nakText = (data: Uint8Array): string => {
  const code = data[0] ?? 0;
  return NAK_REASON[code] ?? `NAK ${code}`;
};

export interface PdId {
  vendor: string;
  model: number;
  version: number;
  serial: number;
  firmware: string;
}

/** osdp_PDID: vendor OUI (3), model, version, serial (4, LSB first), firmware major/minor/build. */
export function parsePdId(d: Uint8Array): PdId | null {
  if (d.length < 12) return null;
  const b = Buffer.from(d);
  return {
    vendor: b.subarray(0, 3).toString('hex'),
    model: b[3] ?? 0,
    version: b[4] ?? 0,
    serial: b.readUInt32LE(5),
    firmware: `${b[9]}.${b[10]}.${b[11]}`,
  };
}

export function encodePdId(id: PdId): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(id.vendor.padStart(6, '0').slice(0, 6), 'hex').copy(b, 0);
  b[3] = id.model;
  b[4] = id.version;
  b.writeUInt32LE(id.serial >>> 0, 5);
  const [ma, mi, bu] = id.firmware.split('.').map((x) => Number(x) & 0xff);
  b[9] = ma ?? 0;
  b[10] = mi ?? 0;
  b[11] = bu ?? 0;
  return b;
}

/** Capability function codes (§7.5) this driver looks at. */
export const CAP = {
  CONTACT_STATUS: 1,
  OUTPUT: 2,
  CARD_FORMAT: 3,
  LED: 4,
  AUDIBLE: 5,
  TEXT: 6,
  CHECK_CHARACTER: 8,
  SECURITY: 9,
  RECEIVE_BUFFER: 10,
  READERS: 13,
} as const;

export interface PdCapability {
  code: number;
  compliance: number;
  count: number;
}

export function parsePdCap(d: Uint8Array): PdCapability[] {
  const out: PdCapability[] = [];
  for (let i = 0; i + 3 <= d.length; i += 3) out.push({ code: d[i] ?? 0, compliance: d[i + 1] ?? 0, count: d[i + 2] ?? 0 });
  return out;
}

export function encodePdCap(caps: PdCapability[]): Buffer {
  return Buffer.from(caps.flatMap((c) => [c.code, c.compliance, c.count]));
}

export interface LocalStatus {
  tamper: boolean;
  power: boolean;
}

/** osdp_LSTATR: tamper (0 normal, 1 tamper), power (0 normal, 1 failure). */
export function parseLstatr(d: Uint8Array): LocalStatus | null {
  if (d.length < 2) return null;
  return { tamper: d[0] !== 0, power: d[1] !== 0 };
}

export interface RawCard {
  reader: number;
  /** 0 raw / unspecified, 1 Wiegand. */
  format: number;
  bits: string;
}

/** osdp_RAW: reader, format, bit count (LSB first), the bits packed MSB first. */
export function parseRaw(d: Uint8Array): RawCard | null {
  if (d.length < 4) return null;
  const count = (d[2] ?? 0) | ((d[3] ?? 0) << 8);
  if (count === 0 || 4 + Math.ceil(count / 8) > d.length) return null;
  let bits = '';
  for (let i = 0; i < count; i++) bits += ((d[4 + (i >> 3)] ?? 0) >> (7 - (i & 7))) & 1 ? '1' : '0';
  return { reader: d[0] ?? 0, format: d[1] ?? 0, bits };
}

export function encodeRaw(c: RawCard): Buffer {
  const n = c.bits.length;
  const b = Buffer.alloc(4 + Math.ceil(n / 8));
  b[0] = c.reader;
  b[1] = c.format;
  b.writeUInt16LE(n, 2);
  for (let i = 0; i < n; i++) if (c.bits[i] === '1') b[4 + (i >> 3)] = (b[4 + (i >> 3)] ?? 0) | (0x80 >> (i & 7));
  return b;
}

export interface FormattedCard {
  reader: number;
  direction: number;
  text: string;
}

/** osdp_FMT: reader, read direction, character count, the characters. */
export function parseFmt(d: Uint8Array): FormattedCard | null {
  if (d.length < 3) return null;
  const n = d[2] ?? 0;
  if (3 + n > d.length) return null;
  return { reader: d[0] ?? 0, direction: d[1] ?? 0, text: Buffer.from(d.subarray(3, 3 + n)).toString('latin1') };
}

export function encodeFmt(c: FormattedCard): Buffer {
  const t = Buffer.from(c.text, 'latin1');
  return Buffer.concat([Buffer.from([c.reader, c.direction, t.length]), t]);
}

/** osdp_KEYPAD: reader, digit count, digits as ASCII ('*' arrives as 0x7F, '#' as 0x0D). */
export function parseKeypad(d: Uint8Array): { reader: number; keys: string } | null {
  if (d.length < 2) return null;
  const n = d[1] ?? 0;
  if (2 + n > d.length) return null;
  let keys = '';
  for (const c of d.subarray(2, 2 + n)) keys += c === 0x7f ? '*' : c === 0x0d ? '#' : String.fromCharCode(c);
  return { reader: d[0] ?? 0, keys };
}

export function encodeKeypad(reader: number, keys: string): Buffer {
  const digits = [...keys].map((k) => (k === '*' ? 0x7f : k === '#' ? 0x0d : k.charCodeAt(0)));
  return Buffer.from([reader, digits.length, ...digits]);
}

export const COLOR = { black: 0, red: 1, green: 2, amber: 3, blue: 4 } as const;
export type Color = keyof typeof COLOR;
export const colorName = (c: number): string => (Object.entries(COLOR).find(([, v]) => v === c)?.[0] ?? `color${c}`) as string;

export interface LedCommand {
  reader: number;
  led: number;
  /** A temporary state for `ms`, then the permanent one again. */
  temporary?: { onColor: number; offColor: number; onTime: number; offTime: number; ms: number };
  permanent?: { onColor: number; offColor: number; onTime: number; offTime: number };
}

/** osdp_LED: one 14-byte record (§6.10); times in units of 100 ms. */
export function encodeLed(c: LedCommand): Buffer {
  const b = Buffer.alloc(14);
  b[0] = c.reader;
  b[1] = c.led;
  if (c.temporary) {
    b[2] = 2;
    b[3] = c.temporary.onTime;
    b[4] = c.temporary.offTime;
    b[5] = c.temporary.onColor;
    b[6] = c.temporary.offColor;
    b.writeUInt16LE(Math.min(0xffff, Math.round(c.temporary.ms / 100)), 7);
  }
  if (c.permanent) {
    b[9] = 1;
    b[10] = c.permanent.onTime;
    b[11] = c.permanent.offTime;
    b[12] = c.permanent.onColor;
    b[13] = c.permanent.offColor;
  }
  return b;
}

export function parseLed(d: Uint8Array): { reader: number; led: number; tempColor: number | null; permColor: number | null; ms: number }[] {
  const out = [];
  for (let i = 0; i + 14 <= d.length; i += 14) {
    out.push({
      reader: d[i] ?? 0,
      led: d[i + 1] ?? 0,
      tempColor: d[i + 2] === 2 ? (d[i + 5] ?? 0) : null,
      permColor: d[i + 9] === 1 ? (d[i + 12] ?? 0) : null,
      ms: ((d[i + 7] ?? 0) | ((d[i + 8] ?? 0) << 8)) * 100,
    });
  }
  return out;
}

/** osdp_BUZ: reader, tone (2 = default tone), on and off time (100 ms), count. */
export function encodeBuz(c: { reader: number; onTime: number; offTime: number; count: number }): Buffer {
  return Buffer.from([c.reader, 2, c.onTime, c.offTime, c.count]);
}

export function parseBuz(d: Uint8Array): { reader: number; tone: number; onTime: number; offTime: number; count: number } | null {
  if (d.length < 5) return null;
  return { reader: d[0] ?? 0, tone: d[1] ?? 0, onTime: d[2] ?? 0, offTime: d[3] ?? 0, count: d[4] ?? 0 };
}

/** osdp_TEXT: reader, command (3 = temporary, no wrap), seconds, row, column, length, text. */
export function encodeText(c: { reader: number; seconds: number; row: number; col: number; text: string }): Buffer {
  const t = Buffer.from(c.text.replace(/[^\x20-\x7e]/g, '?').slice(0, 32), 'latin1');
  return Buffer.concat([Buffer.from([c.reader, 3, c.seconds, c.row, c.col, t.length]), t]);
}

export function parseText(d: Uint8Array): { reader: number; command: number; text: string } | null {
  if (d.length < 6) return null;
  const n = d[5] ?? 0;
  return { reader: d[0] ?? 0, command: d[1] ?? 0, text: Buffer.from(d.subarray(6, 6 + n)).toString('latin1') };
}

/** osdp_KEYSET: key type 1 (SCBK), length 16, the key. */
export function encodeKeyset(scbk: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([1, scbk.length]), scbk]);
}

export function parseKeyset(d: Uint8Array): Buffer | null {
  if (d.length < 18 || d[0] !== 1 || d[1] !== 16) return null;
  return Buffer.from(d.subarray(2, 18));
}

/** osdp_CCRYPT: the PD's client UID, its random number and its cryptogram. */
export function parseCcrypt(d: Uint8Array): { cuid: Buffer; pdRandom: Buffer; cryptogram: Buffer } | null {
  if (d.length < 32) return null;
  const b = Buffer.from(d);
  return { cuid: b.subarray(0, 8), pdRandom: b.subarray(8, 16), cryptogram: b.subarray(16, 32) };
}
