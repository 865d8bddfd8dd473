import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Command,
  encodeStaticQr,
  generateKeyPair,
  KeyRing,
  keyId,
  openMessage,
  parseCredential,
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
  it('SIGN-1: derives the kid from the public key, and the signing key reproduces the pair', () => {
    expect(key.kid).toBe(org.kid);
    expect(key.publicKey).toBe(org.publicKey);
    expect(keyId(Buffer.from(org.publicKey, 'base64'))).toBe(org.kid);
    expect(org.kid).toMatch(/^[0-9a-f]{8}$/);
  });

  it('SIGN-1: the kid is the first 4 bytes of SHA-256 over the raw 32-byte public key, as 8 lowercase hex digits', () => {
    const raw = Buffer.from(org.publicKey, 'base64');
    expect(raw.length).toBe(32);
    expect(org.kid).toBe(createHash('sha256').update(raw).digest().subarray(0, 4).toString('hex'));
  });

  it('SIGN-2: an envelope is {kid, payload, sig}, the signature Ed25519 over the envelope tag and the payload bytes', () => {
    const payload = Buffer.from(JSON.stringify(cmd(1)));
    const env = signEnvelope(payload, key);
    expect(Object.keys(env).sort()).toEqual(['kid', 'payload', 'sig']);
    expect(env.kid).toBe(org.kid);
    expect(Buffer.from(env.payload, 'base64')).toEqual(payload);
    const sig = Buffer.from(env.sig, 'base64');
    expect(sig.length).toBe(64);
    // Checked with node:crypto alone, not through the package's own verifier.
    const pub = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(org.publicKey, 'base64').toString('base64url') },
      format: 'jwk',
    });
    expect(verify(null, Buffer.concat([Buffer.from('gatehouse/envelope/v1\n'), payload]), pub, sig)).toBe(true);
    expect(verify(null, payload, pub, sig)).toBe(false);
    expect(verify(null, Buffer.concat([Buffer.from('gatehouse/static-qr/v1\n'), payload]), pub, sig)).toBe(false);
  });

  it('SIGN-2: a static QR signature is never valid as an envelope signature over the same bytes', () => {
    const qr = parseCredential(encodeStaticQr({ passId: uuidv7(), validFrom: 1_800_000_000_000, validTo: 1_800_086_400_000 }, key));
    if (qr.kind !== 'static') throw new Error('expected a static QR');
    const forged = { kid: qr.kid, payload: Buffer.from(qr.signed).toString('base64'), sig: Buffer.from(qr.sig).toString('base64') };
    expect(verifyEnvelope(forged, ring)).toEqual({ ok: false, error: 'bad_signature' });
  });

  it('SIGN-3: checks the shape, then the kid, then the signature, then the message, and names the first failure', () => {
    const good = JSON.parse(sealMessage(cmd(1), key)) as { kid: string; payload: string; sig: string };
    const badSig = Buffer.alloc(64).toString('base64');
    const invalid = signEnvelope(Buffer.from(JSON.stringify({ ...cmd(1), orgId: 'o2', extra: 1 })), key);
    const mine = { orgId: 'o1', deviceId: 'd1' };
    // Not an envelope at all, even with a known kid in it.
    expect(openMessage({ kid: org.kid, payload: good.payload }, ring, mine)).toEqual({ ok: false, error: 'malformed' });
    // An unknown kid is reported before a signature that would not verify anyway.
    expect(openMessage({ ...good, kid: '00000000', sig: badSig }, ring, mine)).toEqual({ ok: false, error: 'unknown_key' });
    // A bad signature over an invalid message is a bad signature: nothing inside is looked at.
    expect(openMessage({ ...invalid, sig: badSig }, ring, mine)).toEqual({ ok: false, error: 'bad_signature' });
    // Well signed but invalid (and of another org): the schema fails before any org check.
    expect(openMessage(invalid, ring, mine)).toEqual({ ok: false, error: 'invalid' });
    expect(openMessage(good, ring, mine).ok).toBe(true);
  });

  it('SIGN-4: a well-signed message for another org or another device is refused', () => {
    const sealed = sealMessage(cmd(1), key);
    expect(openMessage(sealed, ring, { orgId: 'o2', deviceId: 'd1' })).toEqual({ ok: false, error: 'wrong_org' });
    expect(openMessage(sealed, ring, { orgId: 'o1', deviceId: 'd2' })).toEqual({ ok: false, error: 'wrong_device' });
  });

  it('SIGN-2: signs and verifies an envelope of bytes', () => {
    const env = signEnvelope(Buffer.from('hello'), key);
    const r = verifyEnvelope(env, ring);
    expect(r.ok && r.payload.toString()).toBe('hello');
  });

  it('SIGN-3, SIGN-5: rejects a flipped bit anywhere in the payload or the signature', () => {
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

  it('SIGN-2: a signature is bound to its payload: an envelope signature is not valid for other bytes of the same key', () => {
    const a = signEnvelope(Buffer.from('one'), key);
    const b = signEnvelope(Buffer.from('two'), key);
    expect(verifyEnvelope({ ...a, sig: b.sig }, ring).ok).toBe(false);
  });

  it('SIGN-1: trusts several keys during a rotation, each under its own kid', () => {
    const next = generateKeyPair();
    const both = new KeyRing([org.publicKey, next.publicKey]);
    expect(both.size).toBe(2);
    expect(openMessage(sealMessage(cmd(1), signingKey(next.privateKey)), both, { orgId: 'o1', deviceId: 'd1' }).ok).toBe(true);
    expect(openMessage(sealMessage(cmd(1), key), both, { orgId: 'o1', deviceId: 'd1' }).ok).toBe(true);
  });

  it('SIGN-4, SIGN-5: rejects a replayed or stale sequence number', () => {
    const sealed = sealMessage(cmd(5), key);
    expect(openMessage(sealed, ring, { orgId: 'o1', deviceId: 'd1', lastSeq: 4 }).ok).toBe(true);
    expect(openMessage(sealed, ring, { orgId: 'o1', deviceId: 'd1', lastSeq: 5 })).toEqual({ ok: false, error: 'stale' });
    expect(openMessage(sealed, ring, { orgId: 'o1', deviceId: 'd1', lastSeq: 9 })).toEqual({ ok: false, error: 'stale' });
  });

  it('SIGN-3: never throws on garbage', () => {
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

  it('SIGN-1: refuses a public key that is not 32 bytes', () => {
    expect(() => new KeyRing([Buffer.alloc(31).toString('base64')])).toThrow();
  });
});
