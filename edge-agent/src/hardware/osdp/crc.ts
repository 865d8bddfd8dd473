/**
 * OSDP's check characters (SIA OSDP v2.2 §5.9): CRC-16/AUG-CCITT (polynomial 0x1021, initial 0x1D0F, not
 * reflected, no final XOR; sent LSB first) and the older 8-bit checksum (two's complement of the byte sum).
 * Written by hand: no maintained Node OSDP implementation exists, and these are a few lines each.
 */

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

export function crc16(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let crc = 0x1d0f;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ (bytes[i] ?? 0)) & 0xff] ?? 0);
  return crc;
}

export function checksum(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += bytes[i] ?? 0;
  return -sum & 0xff;
}
