import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  devicePublicKey,
  generateDeviceKeyPair,
  isDevicePublicKey,
  keyFingerprint,
  openPassRecord,
  type PassRecord,
  passAad,
  sealPassRecord,
  secretOpener,
  secretSealer,
  validators,
} from '../src/index.js';

const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../test-vectors/${name}`, import.meta.url), 'utf8')) as T;

const device = generateDeviceKeyPair();
const other = generateDeviceKeyPair();
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const pass: PassRecord = {
  id: '0190f000-0000-7000-8000-000000000001',
  orgId: 'org-1',
  ruleId: null,
  type: 'multi',
  status: 'active',
  validFrom: 0,
  validTo: 1,
  maxUses: null,
  totpSecret: SECRET,
  card: null,
  escort: false,
};

describe('sealed secrets (SPEC SEAL-*)', () => {
  it('SEAL-1: a device key pair is two raw 32-byte X25519 keys; the public half follows from the private one', () => {
    expect(Buffer.from(device.publicKey, 'base64')).toHaveLength(32);
    expect(Buffer.from(device.privateKey, 'base64')).toHaveLength(32);
    expect(devicePublicKey(device.privateKey)).toBe(device.publicKey);
    expect(isDevicePublicKey(device.publicKey)).toBe(true);
    expect(isDevicePublicKey('not a key')).toBe(false);
    expect(isDevicePublicKey(Buffer.alloc(31).toString('base64'))).toBe(false);
  });

  it('SEAL-2: one ephemeral key per sealer, a fresh one each time; the receiving device opens with the message epk', () => {
    const a = secretSealer(device.publicKey);
    const b = secretSealer(device.publicKey);
    expect(a.epk).not.toBe(b.epk);
    expect(a.epk).not.toBe(device.publicKey);
    const sealed = a.seal(SECRET, passAad(pass.id));
    expect(secretOpener(device.privateKey, a.epk).open(sealed, passAad(pass.id))).toBe(SECRET);
    // Under another message's epk it does not open.
    expect(secretOpener(device.privateKey, b.epk).open(sealed, passAad(pass.id))).toBeNull();
  });

  it('SEAL-3: the sealed text holds no trace of the secret, and each secret of a message gets its own nonce', () => {
    const s = secretSealer(device.publicKey);
    const x = s.seal(SECRET, passAad(pass.id));
    const y = s.seal(SECRET, passAad(pass.id));
    expect(x).not.toBe(y);
    expect(Buffer.from(x, 'base64').subarray(0, 12).equals(Buffer.from(y, 'base64').subarray(0, 12))).toBe(false);
    expect(Buffer.from(x, 'base64')).toHaveLength(12 + SECRET.length + 16);
    expect(x).not.toContain(SECRET);
    expect(Buffer.from(x, 'base64').toString('latin1')).not.toContain(SECRET);
    const sealedPass = sealPassRecord(pass, s);
    expect(JSON.stringify(sealedPass)).not.toContain(SECRET);
    expect(sealedPass).not.toHaveProperty('totpSecret');
    expect(openPassRecord(sealedPass, secretOpener(device.privateKey, s.epk))).toEqual({ pass, opened: true });
  });

  it('SEAL-4: a secret that does not open leaves the pass without one (another device, moved to another pass, changed bytes, no opener)', () => {
    const s = secretSealer(device.publicKey);
    const sealedPass = sealPassRecord(pass, s);
    const noSecret = { ...pass, totpSecret: null };
    expect(openPassRecord(sealedPass, secretOpener(other.privateKey, s.epk))).toEqual({ pass: noSecret, opened: false });
    const moved = { ...sealedPass, id: '0190f000-0000-7000-8000-000000000002' };
    expect(openPassRecord(moved, secretOpener(device.privateKey, s.epk)).opened).toBe(false);
    expect(openPassRecord(sealedPass, null)).toEqual({ pass: noSecret, opened: false });
    const bad = secretOpener(device.privateKey, Buffer.alloc(32).toString('base64')); // a low-order point: no key agreement
    expect(bad.open(sealedPass.totpSealed ?? '', passAad(pass.id))).toBeNull();
    expect(secretOpener(device.privateKey, s.epk).open('AAAA', passAad(pass.id))).toBeNull();
  });

  it('SEAL-5: without a sealer (a device with no key) the secret is withheld, never sent in the clear', () => {
    const sealedPass = sealPassRecord(pass, null);
    expect(sealedPass.totpSealed).toBeNull();
    expect(JSON.stringify(sealedPass)).not.toContain(SECRET);
    expect(openPassRecord(sealedPass, null)).toEqual({ pass: { ...pass, totpSecret: null }, opened: true });
    expect(openPassRecord(sealPassRecord({ ...pass, totpSecret: null }, secretSealer(device.publicKey)), null).opened).toBe(true);
  });

  it('SEAL-6: sealed per device: what is sealed to one device does not open with another device key', () => {
    const toA = secretSealer(device.publicKey);
    const toB = secretSealer(other.publicKey);
    const a = toA.seal(SECRET, passAad(pass.id));
    expect(secretOpener(other.privateKey, toA.epk).open(a, passAad(pass.id))).toBeNull();
    expect(secretOpener(other.privateKey, toB.epk).open(toB.seal(SECRET, passAad(pass.id)), passAad(pass.id))).toBe(SECRET);
  });

  it('SEAL-3: a sync message refuses a pass that carries its secret in the clear', () => {
    const s = secretSealer(device.publicKey);
    const header = { v: 1, orgId: 'org-1', deviceId: 'dev-1', seq: 3, issuedAt: 1, siteId: 's1' } as const;
    const snapshot = {
      ...header,
      kind: 'snapshot',
      snapshotId: '0190f000-0000-7000-8000-000000000009',
      chunk: 0,
      chunks: 1,
      rules: [],
      zones: [],
      gates: [],
      holidays: [],
      presence: [],
    };
    expect(validators.syncSnapshotChunk.check({ ...snapshot, epk: s.epk, passes: [sealPassRecord(pass, s)] })).toBe(true);
    expect(validators.syncSnapshotChunk.check({ ...snapshot, epk: null, passes: [pass] })).toBe(false);
    const delta = { ...header, kind: 'delta', fromSeq: 2, epk: s.epk };
    expect(
      validators.syncDelta.check({
        ...delta,
        changes: [{ seq: 3, entity: 'pass', op: 'upsert', id: pass.id, data: sealPassRecord(pass, s) }],
      }),
    ).toBe(true);
    expect(validators.syncDelta.check({ ...delta, changes: [{ seq: 3, entity: 'pass', op: 'upsert', id: pass.id, data: pass }] })).toBe(
      false,
    );
  });

  it('SEAL-2, SEAL-3: sealing 5,000 secrets (a snapshot chunk) takes one key agreement and well under a second', () => {
    const passes = Array.from({ length: 5000 }, (_, i) => ({ ...pass, id: `0190f000-0000-7000-8000-${String(i).padStart(12, '0')}` }));
    const t0 = performance.now();
    const s = secretSealer(device.publicKey);
    const sealed = passes.map((p) => sealPassRecord(p, s));
    const o = secretOpener(device.privateKey, s.epk);
    const opened = sealed.map((p) => openPassRecord(p, o));
    expect(opened.every((r) => r.opened && r.pass.totpSecret === SECRET)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('sealing vectors (SPEC SEAL-2, SEAL-3, SEAL-4, SIGN-7)', () => {
  const v = load<{
    keys: Record<string, { publicKey: string; privateKey: string }>;
    cases: { name: string; privateKey: string; epk: string; aad: string; sealed: string; plaintext: string | null }[];
    fingerprints: { publicKey: string; fingerprint: string }[];
  }>('sealing.json');

  it('SEAL-1: the vector keys are pairs', () => {
    for (const k of Object.values(v.keys)) expect(devicePublicKey(k.privateKey)).toBe(k.publicKey);
  });
  it.each(v.cases.map((c) => [c.name, c] as const))('SEAL-4: %s', (_n, c) => {
    expect(secretOpener(c.privateKey, c.epk).open(c.sealed, c.aad)).toBe(c.plaintext);
  });
  it.each(v.fingerprints)('SIGN-7: fingerprint of $publicKey is $fingerprint', ({ publicKey, fingerprint }) => {
    expect(keyFingerprint(publicKey)).toBe(fingerprint);
    expect(fingerprint).toMatch(/^[0-9A-F]{4}(-[0-9A-F]{4}){15}$/);
  });
});
