import { randomFillSync } from 'node:crypto';

/** Canonical lowercase UUID text, e.g. `0190f5c2-7b1e-7c3a-9f00-1a2b3c4d5e6f`. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID_RE.test(s);
}

export function uuidToBytes(id: string): Uint8Array {
  if (!isUuid(id)) throw new TypeError(`not a canonical uuid: ${JSON.stringify(id)}`);
  return Uint8Array.from(Buffer.from(id.replaceAll('-', ''), 'hex'));
}

export function bytesToUuid(b: Uint8Array): string {
  if (b.length !== 16) throw new TypeError('uuid needs 16 bytes');
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

let lastMs = 0;
let lastSeq = 0;

// Random bytes drawn 4 KiB at a time: one CSPRNG call per 256 ids instead of one each. A call costs more than the
// id around it (an issuance's ids, request and pass, were 2.2% of its CPU profile); the `uuid` package pools the same way.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;
function random16(): Buffer {
  if (poolAt + 16 > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += 16;
  // A copy: the caller writes the time and version into it.
  return Buffer.from(pool.subarray(at, poolAt));
}

/**
 * RFC 9562 UUIDv7. Events are made on the edge with these so the cloud can
 * store them idempotently, and so ids sort by creation time. Within one
 * millisecond a 12-bit counter keeps ids of one process strictly increasing.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  let ms = Math.floor(nowMs);
  if (ms <= lastMs) {
    ms = lastMs;
    lastSeq++;
    if (lastSeq > 0xfff) {
      ms = ++lastMs;
      lastSeq = 0;
    }
  } else {
    lastSeq = 0;
  }
  lastMs = ms;
  const b = random16();
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | ((lastSeq >> 8) & 0x0f);
  b[7] = lastSeq & 0xff;
  b[8] = 0x80 | ((b[8] ?? 0) & 0x3f);
  return bytesToUuid(b);
}

/** Epoch milliseconds embedded in a UUIDv7. */
export function uuidv7Time(id: string): number {
  return Buffer.from(uuidToBytes(id)).readUIntBE(0, 6);
}
