/**
 * OSDP Secure Channel (SIA OSDP v2.2 Annex D), pure, on node:crypto's AES-128 only. Hand-written (no Node OSDP
 * implementation exists); libosdp's src/osdp_sc.c was the reference and the spec's Annex E examples are the
 * test fixtures.
 *
 * - Session keys from the 16-byte SCBK and the CP's random RND.A: S-ENC = AES(SCBK, 01 82 RND.A[0..5] 0…),
 *   S-MAC1 = AES(SCBK, 01 01 …), S-MAC2 = AES(SCBK, 01 02 …).
 * - The PD's (client) cryptogram AES(S-ENC, RND.A‖RND.B) proves it holds the key; the CP's (server) cryptogram
 *   AES(S-ENC, RND.B‖RND.A) proves ours; the initial R-MAC is AES(S-MAC2, AES(S-MAC1, server cryptogram)).
 * - Every secure packet carries a MAC over the whole packet (SOM to the end of the data, padded with 0x80 0…):
 *   AES-CBC with S-MAC1 over all blocks but the last, the last with S-MAC2; the IV is the other side's last MAC,
 *   so the MACs chain commands and replies. 4 of its 16 bytes go on the wire.
 * - Data of SCS_17/18 packets is AES-CBC with S-ENC under IV = the complement of the other side's last MAC,
 *   padded with 0x80 then zeros.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';

/** The well-known install-mode key SCBK-D (0x30…0x3F). Used only when the operator asked for install mode. */
export const SCBK_D: Buffer = Buffer.from('303132333435363738393a3b3c3d3e3f', 'hex');

export interface SessionKeys {
  enc: Buffer;
  mac1: Buffer;
  mac2: Buffer;
}

function ecb(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function cbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv('aes-128-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

function cbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = createDecipheriv('aes-128-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

export function deriveSessionKeys(scbk: Uint8Array, cpRandom: Uint8Array): SessionKeys {
  if (scbk.length !== 16 || cpRandom.length !== 8) throw new RangeError('SCBK is 16 bytes, RND.A 8');
  const block = (b1: number) => {
    const b = Buffer.alloc(16);
    b[0] = 0x01;
    b[1] = b1;
    b.set(cpRandom.subarray(0, 6), 2);
    return ecb(scbk, b);
  };
  return { enc: block(0x82), mac1: block(0x01), mac2: block(0x02) };
}

/** The PD's cryptogram in osdp_CCRYPT. */
export function clientCryptogram(keys: SessionKeys, cpRandom: Uint8Array, pdRandom: Uint8Array): Buffer {
  return ecb(keys.enc, Buffer.concat([cpRandom, pdRandom]));
}

/** The CP's cryptogram in osdp_SCRYPT. */
export function serverCryptogram(keys: SessionKeys, cpRandom: Uint8Array, pdRandom: Uint8Array): Buffer {
  return ecb(keys.enc, Buffer.concat([pdRandom, cpRandom]));
}

export function initialRmac(keys: SessionKeys, serverCrypt: Uint8Array): Buffer {
  return ecb(keys.mac2, ecb(keys.mac1, serverCrypt));
}

export const equal16 = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

function pad(data: Uint8Array, always: boolean): Buffer {
  if (!always && data.length % 16 === 0 && data.length > 0) return Buffer.from(data);
  const n = Math.ceil((data.length + 1) / 16) * 16;
  const b = Buffer.alloc(n);
  b.set(data);
  b[data.length] = 0x80;
  return b;
}

/** The 16-byte MAC of `data` with `iv` (the other side's last MAC). */
export function computeMac(keys: SessionKeys, iv: Uint8Array, data: Uint8Array): Buffer {
  const p = pad(data, false);
  let chain: Uint8Array = iv;
  if (p.length > 16) {
    const head = cbc(keys.mac1, iv, p.subarray(0, p.length - 16));
    chain = head.subarray(head.length - 16);
  }
  return cbc(keys.mac2, chain, p.subarray(p.length - 16));
}

const complement = (b: Uint8Array) => Buffer.from(Uint8Array.prototype.slice.call(b, 0, 16).map((x) => ~x & 0xff));

export function encryptData(keys: SessionKeys, lastMac: Uint8Array, data: Uint8Array): Buffer {
  return cbc(keys.enc, complement(lastMac), pad(data, true));
}

/** null when the padding is wrong (wrong key, or a damaged packet). */
export function decryptData(keys: SessionKeys, lastMac: Uint8Array, data: Uint8Array): Buffer | null {
  if (data.length === 0 || data.length % 16 !== 0) return null;
  const plain = cbcDecrypt(keys.enc, complement(lastMac), data);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  if (end === 0 || plain[end - 1] !== 0x80) return null;
  return plain.subarray(0, end - 1);
}

/**
 * One established secure session, the same object on either side: the CP MACs commands and verifies replies,
 * the PD the other way round. `cMac` is the last command's MAC, `rMac` the last reply's (RMAC_I at first).
 */
export class SecureSession {
  cMac: Buffer;
  rMac: Buffer;
  constructor(
    readonly keys: SessionKeys,
    rmacI: Buffer,
  ) {
    this.rMac = Buffer.from(rmacI);
    this.cMac = Buffer.alloc(16);
  }

  /** CP: MAC of an outgoing command; advances the chain. */
  macCommand(head: Uint8Array): Buffer {
    this.cMac = computeMac(this.keys, this.rMac, head);
    return this.cMac.subarray(0, 4);
  }

  /** PD: checks a command's MAC; advances the chain only when it verifies. */
  verifyCommand(head: Uint8Array, mac: Uint8Array): boolean {
    const m = computeMac(this.keys, this.rMac, head);
    if (!equal16(m.subarray(0, 4), Buffer.from(mac).subarray(0, 4))) return false;
    this.cMac = m;
    return true;
  }

  /** PD: MAC of an outgoing reply. */
  macReply(head: Uint8Array): Buffer {
    this.rMac = computeMac(this.keys, this.cMac, head);
    return this.rMac.subarray(0, 4);
  }

  /** CP: checks a reply's MAC. */
  verifyReply(head: Uint8Array, mac: Uint8Array): boolean {
    const m = computeMac(this.keys, this.cMac, head);
    if (!equal16(m.subarray(0, 4), Buffer.from(mac).subarray(0, 4))) return false;
    this.rMac = m;
    return true;
  }

  /** Command data is encrypted under the last reply MAC; call before macCommand. */
  encryptCommand(data: Uint8Array): Buffer {
    return encryptData(this.keys, this.rMac, data);
  }
  /** PD: after verifyCommand the IV must be the MAC before it, so decrypt first with the current rMac. */
  decryptCommand(data: Uint8Array): Buffer | null {
    return decryptData(this.keys, this.rMac, data);
  }
  encryptReply(data: Uint8Array): Buffer {
    return encryptData(this.keys, this.cMac, data);
  }
  /** CP: decrypt a reply's data under the command MAC it answered; call before verifyReply moves rMac (it does not use rMac). */
  decryptReply(data: Uint8Array): Buffer | null {
    return decryptData(this.keys, this.cMac, data);
  }
}

export const randomChallenge = (): Buffer => randomBytes(8);
export const randomScbk = (): Buffer => randomBytes(16);
