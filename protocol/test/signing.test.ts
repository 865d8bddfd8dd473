import { describe, expect, it } from 'vitest';
import {
  type Command,
  generateKeyPair,
  KeyRing,
  keyId,
  openMessage,
  sealMessage,
  signEnvelope,
  signingKey,
  uuidv7,
  verifyEnvelope,
} from '../src/index.js';

const org = generateKeyPair();
const key = signingKey(org.privateKey);
const ring = new KeyRing([org.publicKey]);
const cmd = (seq: number): Command => ({
  v: 1,
  kind: 'cmd',
  orgId: 'o1',
  deviceId: 'd1',
  seq,
  issuedAt: 1,
  id: uuidv7(),
  type: 'lockdown',
  expiresAt: 2,
});

describe('signing (SPEC SIGN-*)', () => {
  it('derives the kid from the public key, and the signing key reproduces the pair', () => {
    expect(key.kid).toBe(org.kid);
    expect(key.publicKey).toBe(org.publicKey);
    expect(keyId(Buffer.from(org.publicKey, 'base64'))).toBe(org.kid);
    expect(org.kid).toMatch(/^[0-9a-f]{8}$/);
  });

  it('signs and verifies an envelope of bytes', () => {
    const env = signEnvelope(Buffer.from('hello'), key);
    const r = verifyEnvelope(env, ring);
    expect(r.ok && r.payload.toString()).toBe('hello');
  });

  it('rejects a flipped bit anywhere in the payload or the signature', () => {
    const env = signEnvelope(Buffer.from('a payload of some length'), key);
    const payload = Buffer.from(env.payload, 'base64');
    for (let i = 0; i < payload.length; i++) {
      const p = Buffer.from(payload);
      p[i] = (p[i] ?? 0) ^ 1;
      expect(verifyEnvelope({ ...env, payload: p.toString('base64') }, ring)).toEqual({ ok: false, error: 'bad_signature' });
    }
    const sig = Buffer.from(env.sig, 'base64');
    sig[10] = (sig[10] ?? 0) ^ 0x80;
    expect(verifyEnvelope({ ...env, sig: sig.toString('base64') }, ring)).toEqual({ ok: false, error: 'bad_signature' });
  });

  it('a signature is bound to its domain: an envelope signature is not valid for other bytes of the same key', () => {
    const a = signEnvelope(Buffer.from('one'), key);
    const b = signEnvelope(Buffer.from('two'), key);
    expect(verifyEnvelope({ ...a, sig: b.sig }, ring).ok).toBe(false);
  });

  it('trusts several keys during a rotation, each under its own kid', () => {
    const next = generateKeyPair();
    const both = new KeyRing([org.publicKey, next.publicKey]);
    expect(both.size).toBe(2);
    expect(openMessage(sealMessage(cmd(1), signingKey(next.privateKey)), both, { orgId: 'o1', deviceId: 'd1' }).ok).toBe(true);
    expect(openMessage(sealMessage(cmd(1), key), both, { orgId: 'o1', deviceId: 'd1' }).ok).toBe(true);
  });

  it('rejects a replayed or stale sequence number', () => {
    const sealed = sealMessage(cmd(5), key);
    expect(openMessage(sealed, ring, { orgId: 'o1', deviceId: 'd1', lastSeq: 4 }).ok).toBe(true);
    expect(openMessage(sealed, ring, { orgId: 'o1', deviceId: 'd1', lastSeq: 5 })).toEqual({ ok: false, error: 'stale' });
    expect(openMessage(sealed, ring, { orgId: 'o1', deviceId: 'd1', lastSeq: 9 })).toEqual({ ok: false, error: 'stale' });
  });

  it('never throws on garbage', () => {
    for (const g of [
      null,
      1,
      'x',
      '{}',
      Buffer.from([0, 1, 2]),
      { kid: 'zz', payload: '', sig: '' },
      { kid: org.kid, payload: '!!', sig: `${'A'.repeat(86)}==` },
    ]) {
      expect(verifyEnvelope(g, ring).ok).toBe(false);
      expect(openMessage(g, ring, { orgId: 'o1', deviceId: 'd1' }).ok).toBe(false);
    }
  });

  it('refuses a public key that is not 32 bytes', () => {
    expect(() => new KeyRing([Buffer.alloc(31).toString('base64')])).toThrow();
  });
});
