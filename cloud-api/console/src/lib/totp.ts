/**
 * The dynamic QR computed in the browser (SPEC CRED-2, protocol/src/credentials.ts):
 * RFC 6238 TOTP with HMAC-SHA1, 30 s step, 8 digits, over the pass's base32
 * secret; payload `GHD1:<base32 of the pass uuid's 16 bytes>:<code>`. This lets
 * the guest page keep drawing valid codes with no network until the pass ends.
 */
import { base32Decode, base32Encode } from '@gatehouse/protocol/base32';

export const STEP_S = 30;
export const DIGITS = 8;

export function uuidBytes(id: string): Uint8Array {
  const hex = id.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError('not a uuid');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export async function importSecret(secretBase32: string): Promise<CryptoKey> {
  const raw = base32Decode(secretBase32.replace(/=+$/, '').toUpperCase());
  if (!raw || raw.length < 10) throw new TypeError('invalid TOTP secret');
  return crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
}

export async function totpAt(key: CryptoKey, nowMs: number): Promise<string> {
  const counter = Math.floor(nowMs / 1000 / STEP_S);
  const msg = new ArrayBuffer(8);
  const view = new DataView(msg);
  view.setUint32(0, Math.floor(counter / 2 ** 32));
  view.setUint32(4, counter >>> 0);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, msg));
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const bin = (((mac[offset] ?? 0) & 0x7f) << 24) | ((mac[offset + 1] ?? 0) << 16) | ((mac[offset + 2] ?? 0) << 8) | (mac[offset + 3] ?? 0);
  return String(bin % 10 ** DIGITS).padStart(DIGITS, '0');
}

export async function dynamicPayload(passId: string, key: CryptoKey, nowMs: number): Promise<string> {
  return `GHD1:${base32Encode(uuidBytes(passId))}:${await totpAt(key, nowMs)}`;
}

export const msUntilNextStep = (nowMs: number) => STEP_S * 1000 - (nowMs % (STEP_S * 1000));
