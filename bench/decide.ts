/**
 * npm run bench:decide — parse + verify + decide() per credential kind, beside
 * the bare crypto primitive each kind cannot avoid (one TOTP check through
 * otplib's core; one Ed25519 verify through node:crypto), measured in the
 * same run, so the protocol's own overhead is visible as a difference.
 */
import { createPublicKey, verify } from 'node:crypto';
import {
  base32Decode,
  decide,
  dynamicQrAt,
  encodeStaticQr,
  encodeWiegand,
  type GateContext,
  generateKeyPair,
  KeyRing,
  newTotpSecret,
  type PassRecord,
  parseCredential,
  type RuleRecord,
  signingKey,
  totpCode,
  uuidv7,
} from '@gatehouse/protocol';
import { crypto as nodeCrypto } from '@otplib/plugin-crypto-node';
import { verifySync } from '@otplib/totp';

const N = Number(process.env.BENCH_N ?? 20_000);
const now = Date.UTC(2026, 5, 3, 10, 0);
const keys = generateKeyPair();
const key = signingKey(keys.privateKey);
const gate: GateContext = {
  gateId: 'g',
  zoneId: 'z',
  siteId: 's',
  timezone: 'Europe/Paris',
  direction: 'in',
  lockdown: false,
  keys: new KeyRing([keys.publicKey]),
};
const rule: RuleRecord = {
  id: 'r',
  zoneIds: ['z'],
  weekdays: [1, 2, 3, 4, 5],
  timeWindows: [{ from: '08:00', to: '20:00' }],
  maxUses: null,
  antiPassback: 'hard',
  passbackMinutes: null,
  escortRequired: false,
  escortSeconds: 30,
  holidays: 'observe',
};
const secret = newTotpSecret();
const pass: PassRecord = {
  id: uuidv7(),
  orgId: 'o',
  ruleId: 'r',
  type: 'multi',
  status: 'active',
  validFrom: now - 1e7,
  validTo: now + 1e7,
  maxUses: null,
  totpSecret: secret,
  card: { format: 'w26', number: String(12 * 65536 + 345) },
  escort: false,
};

/** ns per call of fn, best of 3 rounds of N after a warm-up. */
function measure(fn: () => unknown): number {
  for (let i = 0; i < Math.min(N, 2000); i++) fn();
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / N);
  }
  return Math.round(best);
}

const dynamicText = dynamicQrAt(pass.id, secret, now);
const staticText = encodeStaticQr({ passId: pass.id, validFrom: pass.validFrom, validTo: pass.validTo }, key);
const cardText = `W26:${encodeWiegand('w26', 12, 345)}`;
const run = (text: string, g: GateContext = gate) => {
  const d = decide(parseCredential(text), pass, rule, g, undefined, now);
  return d.allow;
};
if (!run(dynamicText) || !run(staticText) || !run(cardText)) throw new Error('bench inputs must be admitted');

// Floors: the primitive alone, on the same inputs.
const secretBytes = base32Decode(secret) ?? new Uint8Array();
const code = totpCode(secret, now);
const totpFloor = () =>
  verifySync({ secret: secretBytes, token: code, crypto: nodeCrypto, digits: 8, period: 30, epoch: now / 1000, epochTolerance: 30 });
const pub = createPublicKey({
  key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(keys.publicKey, 'base64')]),
  format: 'der',
  type: 'spki',
});
const msg = Buffer.from('gatehouse/static-qr/v1\n0123456789012345678901234567');
const sig = key.sign(msg);
const edFloor = () => verify(null, msg, pub, sig);

const fig = {
  dynamic_ns: measure(() => run(dynamicText)),
  static_ns: measure(() => run(staticText)),
  card_ns: measure(() => run(cardText)),
  dynamic_deny_ns: measure(() => run(dynamicText, { ...gate, zoneId: 'other' })),
  static_deny_ns: measure(() => run(staticText, { ...gate, lockdown: true })),
  card_deny_ns: measure(() => run(cardText, { ...gate, zoneId: 'other' })),
  malformed_ns: measure(() => run('GHD1:not-a-pass')),
  totp_floor_ns: measure(totpFloor),
  ed25519_floor_ns: measure(edFloor),
};

const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;
console.log(`decide() bench, ${N} ops x 3 rounds (best), Node ${process.version}`);
console.log(
  `  dynamic QR  allow ${us(fig.dynamic_ns)}  deny ${us(fig.dynamic_deny_ns)}   floor: TOTP check ${us(fig.totp_floor_ns)}  ratio ${(fig.dynamic_ns / fig.totp_floor_ns).toFixed(2)}x`,
);
console.log(
  `  static QR   allow ${us(fig.static_ns)}  deny ${us(fig.static_deny_ns)}   floor: Ed25519 verify ${us(fig.ed25519_floor_ns)}  ratio ${(fig.static_ns / fig.ed25519_floor_ns).toFixed(2)}x`,
);
console.log(`  card        allow ${us(fig.card_ns)}  deny ${us(fig.card_deny_ns)}   (no crypto: parity + lookup only)`);
console.log(`  malformed   ${us(fig.malformed_ns)}`);
console.log(
  JSON.stringify({
    bench: 'decide',
    ...fig,
    dynamic_ratio: Number((fig.dynamic_ns / fig.totp_floor_ns).toFixed(2)),
    static_ratio: Number((fig.static_ns / fig.ed25519_floor_ns).toFixed(2)),
  }),
);
