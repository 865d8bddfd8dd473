/**
 * Writes protocol/test-vectors/*.json. Deterministic: fixed test keys, fixed
 * times and fixed TOTP secrets (Ed25519 signatures are deterministic), so a
 * re-run reproduces the committed files byte for byte — the protocol's tests
 * check exactly that, which keeps the vectors and the code from drifting apart.
 *
 *   npx tsx protocol/scripts/make-vectors.ts
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { base32Encode } from '../src/base32.js';
import { cardKey, dynamicQrAt, encodeStaticQr, encodeWiegand, parseCredential, siteTag } from '../src/credentials.js';
import type { PassState } from '../src/decision.js';
import type { DownMessage, PassRecord, RuleRecord, SyncChange } from '../src/messages.js';
import {
  nodeSupported,
  RELEASE_PLATFORMS,
  type ReleaseManifest,
  releaseFilesFor,
  signRelease,
  signReleaseBytes,
  verifyRelease,
} from '../src/release.js';
import { passAad, type SecretSealer, sealPassRecord, secretSealer } from '../src/sealing.js';
import { KeyRing, keyFingerprint, sealMessage, signEnvelope, signingKey } from '../src/signing.js';
import { totpCode, totpStep } from '../src/totp.js';

// Test keys only: published here on purpose, never used outside tests.
export const TEST_KEYS = {
  org: {
    kid: '4728976c',
    publicKey: '/WN7W0L1gbc4LpB7qWIfsG1ShylOnYPZHQRwsGV+PDk=',
    privateKey: 'MC4CAQAwBQYDK2VwBCIEIC8mWYqHMqcu3q/HDLZlQOBQFOXSMBJRZ4HmH0TCa7MU',
  },
  other: {
    kid: 'be011d7f',
    publicKey: 'dhxjV13pYeUnGKrvojghsjc9phQmtX8QQNWHw4LGVb8=',
    privateKey: 'MC4CAQAwBQYDK2VwBCIEIGg7uM8qh2H1OwLo2BxUx+WRaN/ZDs95fBBZNg2wZtQ3',
  },
} as const;

/** X25519 test keys (SEAL-*): raw 32 bytes in base64, both halves. Test keys only. */
export const TEST_DEVICE_KEYS = {
  device: { publicKey: '0Cx+elaaUqCEf1xXwUBHYVJxVyGaueXSuv7wHIT0KT8=', privateKey: '2Cwg2fwykqI1g3vQKKCOjjBlfaCUcb69MX2LterJDpg=' },
  otherDevice: { publicKey: '9F8Y1L792wOPD82LBc/vGrh7ojefAznkiOvbnqhTT38=', privateKey: 'hQ0kG43i5eKID0zJGiD/KVFLnEwiKd2ZFsMQ2xXZiQc=' },
  ephemeral: { publicKey: 'MrAMCECaG0DB5jrnXngPaSCKCbLpJQPGdeR1DSf+8Dc=', privateKey: 'Hz5c6eMzB1Zn2i9DNg1znjVKFHJJOorCdut9THnUqM4=' },
} as const;

/** Release signing keys (REL-2): not organisation keys. Test keys only. */
export const TEST_RELEASE_KEYS = {
  release: {
    kid: '0d0b1fea',
    publicKey: 'aMCvvHqnoEUJU4cf1W+hXs3q4kqH06IBkUUFWzg4TNY=',
    privateKey: 'MC4CAQAwBQYDK2VwBCIEIBIwLuHr/sc32+TeHneTm1lGfYkhRZ6ASYxNDcCL9vpx',
  },
  otherRelease: {
    kid: '044ac5fa',
    publicKey: 'EIwBDE7fo8BbVBcGJUUSifRjsGtT+5VhJcELe7VQut0=',
    privateKey: 'MC4CAQAwBQYDK2VwBCIEILtK2a7TQ4pJYerUM4SiAW4Mbhzj7+9E5WaJYqqCzXRr',
  },
} as const;

const orgKey = signingKey(TEST_KEYS.org.privateKey);
const otherKey = signingKey(TEST_KEYS.other.privateKey);
const outDir = fileURLToPath(new URL('../test-vectors/', import.meta.url));

const H = 3_600_000;
const D = 24 * H;
/** Wednesday 2026-01-07 10:00 in Europe/Berlin (09:00 UTC). */
const NOW = Date.UTC(2026, 0, 7, 9, 0, 0);
const SECRET = base32Encode(Buffer.from('gatehouse-test-secret-01'));
const ORG = 'org-acme';
const ZONE = 'zone-lobby';
const OTHER_ZONE = 'zone-server-room';
const SITE = '0190f000-0000-7000-8000-5173000000a1';
const OTHER_SITE = '0190f000-0000-7000-8000-5173000000b2';

const uuid = (n: number) => `0190f000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

const rule: RuleRecord = {
  id: 'rule-office-hours',
  zoneIds: [ZONE],
  weekdays: [1, 2, 3, 4, 5],
  timeWindows: [{ from: '08:00', to: '20:00' }],
  maxUses: null,
  antiPassback: 'hard',
  passbackMinutes: null,
  escortRequired: false,
  escortSeconds: 30,
  holidays: 'observe',
};
const nightRule: RuleRecord = { ...rule, id: 'rule-night-shift', weekdays: [5], timeWindows: [{ from: '22:00', to: '06:00' }] };
const anyDayRule: RuleRecord = { ...rule, id: 'rule-any-day', weekdays: [] };

function pass(n: number, over: Partial<PassRecord> = {}): PassRecord {
  return {
    id: uuid(n),
    orgId: ORG,
    ruleId: rule.id,
    type: 'multi',
    status: 'active',
    validFrom: NOW - D,
    validTo: NOW + D,
    maxUses: null,
    totpSecret: SECRET,
    card: null,
    escort: false,
    ...over,
  };
}

const gate = (over: Record<string, unknown> = {}) => ({
  gateId: 'gate-main-in',
  zoneId: ZONE,
  siteId: SITE,
  timezone: 'Europe/Berlin',
  direction: 'in',
  lockdown: false,
  ...over,
});

const fresh: PassState = { useCount: 0, lastDirection: null, lastTotpStep: null, lastAt: null };

interface Case {
  name: string;
  spec: string[];
  now: number;
  input: string;
  gate: ReturnType<typeof gate>;
  keys: (keyof typeof TEST_KEYS)[];
  pass: PassRecord | null;
  rule: RuleRecord | null;
  state: PassState | null;
  expect: { allow: boolean; reason: string; alert?: string | null };
}

const cases: Case[] = [];
function add(c: Omit<Case, 'keys' | 'gate' | 'now' | 'state' | 'rule'> & Partial<Case>): void {
  cases.push({ now: NOW, gate: gate(), keys: ['org'], state: fresh, rule, ...c } as Case);
}
const dyn = (p: PassRecord, at = NOW) => dynamicQrAt(p.id, SECRET, at);
const stat = (p: PassRecord, key = orgKey) => encodeStaticQr({ passId: p.id, validFrom: p.validFrom, validTo: p.validTo }, key);
/** CRED-10: the scoped static QR naming `siteIds`. */
const scoped = (p: PassRecord, siteIds: string[], key = orgKey) =>
  encodeStaticQr({ passId: p.id, validFrom: p.validFrom, validTo: p.validTo, siteIds }, key);
const ok = { allow: true, reason: 'ok' };
const deny = (reason: string) => ({ allow: false, reason });

// ---- ok ----
const p1 = pass(1);
add({ name: 'dynamic QR, current code, within schedule', spec: ['CRED-2', 'DEC-6'], input: dyn(p1), pass: p1, expect: ok });
add({ name: 'dynamic QR, code of the previous step (tolerance)', spec: ['CRED-2'], input: dyn(p1, NOW - 30_000), pass: p1, expect: ok });
add({ name: 'dynamic QR in lower case (keyboard-wedge scanner)', spec: ['CRED-1'], input: dyn(p1).toLowerCase(), pass: p1, expect: ok });
add({ name: 'static QR of a cached pass', spec: ['CRED-4', 'CRED-5'], input: stat(p1), pass: p1, expect: ok });
add({
  name: 'static QR of a pass the edge has never seen (issued while offline)',
  spec: ['CRED-5', 'DEC-4'],
  input: stat(pass(2)),
  pass: null,
  rule: null,
  expect: ok,
});
add({ name: 'static QR scanned with a trailing CR LF', spec: ['CRED-1'], input: `${stat(p1)}\r\n`, pass: p1, expect: ok });
const cardPass26 = pass(3, { totpSecret: null, card: { format: 'w26', number: String(123 * 65536 + 4567) } });
add({ name: 'Wiegand 26 card', spec: ['CRED-6'], input: `W26:${encodeWiegand('w26', 123, 4567)}`, pass: cardPass26, expect: ok });
const cardPass34 = pass(4, { totpSecret: null, card: { format: 'w34', number: String(54321 * 65536 + 9876) } });
add({ name: 'Wiegand 34 card', spec: ['CRED-7'], input: `W34:${encodeWiegand('w34', 54321, 9876)}`, pass: cardPass34, expect: ok });
const rawCard = pass(5, { totpSecret: null, card: { format: 'raw', number: '3512668421' } });
add({ name: 'card number from a serial card reader', spec: ['CRED-8'], input: 'CARD:3512668421', pass: rawCard, expect: ok });
add({
  name: 'night window across midnight: Friday 22:00-06:00 admits Saturday 03:00',
  spec: ['DEC-8'],
  now: Date.UTC(2026, 0, 10, 2, 0), // Sat 03:00 Berlin
  input: dyn(pass(6, { ruleId: nightRule.id, validTo: NOW + 10 * D }), Date.UTC(2026, 0, 10, 2, 0)),
  pass: pass(6, { ruleId: nightRule.id, validTo: NOW + 10 * D }),
  rule: nightRule,
  expect: ok,
});
const dstPass = pass(7, { ruleId: anyDayRule.id, validFrom: Date.UTC(2026, 2, 1), validTo: Date.UTC(2026, 10, 1) });
add({
  name: 'DST spring forward: 06:30 UTC is 08:30 CEST on 2026-03-29, inside 08:00-20:00',
  spec: ['DEC-8'],
  now: Date.UTC(2026, 2, 29, 6, 30),
  input: dyn(dstPass, Date.UTC(2026, 2, 29, 6, 30)),
  pass: dstPass,
  rule: anyDayRule,
  expect: ok,
});
add({
  name: 'exit after an entry',
  spec: ['DEC-10', 'DEC-11'],
  input: dyn(p1),
  pass: p1,
  gate: gate({ direction: 'out', gateId: 'gate-main-out' }),
  state: { useCount: 1, lastDirection: 'in', lastTotpStep: totpStep(NOW) - 2, lastAt: null },
  expect: ok,
});
add({
  name: 'exit with an expired pass outside the schedule: leaving is never blocked by time',
  spec: ['DEC-10'],
  now: Date.UTC(2026, 0, 10, 22, 0),
  input: stat(p1),
  pass: p1,
  gate: gate({ direction: 'out' }),
  state: { useCount: 1, lastDirection: 'in', lastTotpStep: null, lastAt: null },
  expect: ok,
});
add({
  name: 'multi pass re-entry after an exit',
  spec: ['DEC-9', 'DEC-11'],
  input: dyn(p1),
  pass: p1,
  state: { useCount: 4, lastDirection: 'out', lastTotpStep: totpStep(NOW) - 5, lastAt: null },
  expect: ok,
});
const noPassback: RuleRecord = { ...rule, id: 'rule-no-apb', antiPassback: 'off' };
add({
  name: 'in after in is fine when the rule turns anti-passback off',
  spec: ['DEC-11'],
  input: stat(pass(8, { ruleId: noPassback.id })),
  pass: pass(8, { ruleId: noPassback.id }),
  rule: noPassback,
  state: { useCount: 1, lastDirection: 'in', lastTotpStep: null, lastAt: null },
  expect: ok,
});

// ---- malformed ----
add({ name: 'empty line', spec: ['CRED-9'], input: '', pass: null, expect: deny('malformed') });
add({ name: 'random text', spec: ['CRED-9'], input: 'hello world', pass: null, expect: deny('malformed') });
add({ name: 'URL from a foreign QR code', spec: ['CRED-9'], input: 'https://example.com/?q=1', pass: null, expect: deny('malformed') });
add({ name: 'over-long line', spec: ['CRED-1'], input: `GHD1:${'A'.repeat(600)}`, pass: null, expect: deny('malformed') });
add({ name: 'binary noise', spec: ['CRED-1'], input: 'hex:00ff1b5b41c3a9', pass: null, expect: deny('malformed') });
add({ name: 'dynamic QR with 6 digits', spec: ['CRED-2'], input: dyn(p1).slice(0, -2), pass: null, expect: deny('malformed') });
add({ name: 'static QR cut short', spec: ['CRED-4'], input: stat(p1).slice(0, 120), pass: null, expect: deny('malformed') });
const badParity = encodeWiegand('w26', 123, 4567).replace(/.$/, (b) => (b === '1' ? '0' : '1'));
add({ name: 'Wiegand 26 with a parity error', spec: ['CRED-6'], input: `W26:${badParity}`, pass: null, expect: deny('malformed') });
add({
  name: 'Wiegand prefix and bit count disagree',
  spec: ['CRED-6'],
  input: `W34:${encodeWiegand('w26', 1, 2)}`,
  pass: null,
  expect: deny('malformed'),
});

// ---- bad_signature ----
add({
  name: 'static QR signed by another organisation',
  spec: ['CRED-5', 'DEC-3'],
  input: stat(p1, otherKey),
  pass: p1,
  expect: deny('bad_signature'),
});
{
  const qr = stat(p1);
  const forged = stat(pass(1, { validTo: NOW + 365 * D }));
  // The body of a longer-valid QR with the signature of the genuine one: a forged extension.
  const bodyChars = 46; // 29 bytes of body = the first 46.4 base32 chars; keep whole chars from the forged body
  const mixed = `GHS1:${forged.slice(5, 5 + bodyChars)}${qr.slice(5 + bodyChars)}`;
  const parsed = parseCredential(mixed);
  if (parsed.kind !== 'static') throw new Error('forged vector must still parse');
  add({ name: 'static QR with its validity edited', spec: ['CRED-5', 'DEC-3'], input: mixed, pass: p1, expect: deny('bad_signature') });
}
add({
  name: 'forged static QR of a revoked pass is bad_signature, not revoked: its pass id is not trusted',
  spec: ['DEC-2', 'DEC-3'],
  input: stat(p1, otherKey),
  pass: { ...p1, status: 'revoked' },
  expect: deny('bad_signature'),
});

// ---- unknown ----
add({ name: 'dynamic QR of a pass not in the cache', spec: ['DEC-4'], input: dyn(pass(99)), pass: null, expect: deny('unknown') });
add({ name: 'card not in the cache', spec: ['DEC-4'], input: `W26:${encodeWiegand('w26', 9, 9)}`, pass: null, expect: deny('unknown') });

// ---- revoked and precedence ----
const revoked = pass(10, { status: 'revoked' });
add({ name: 'revoked pass', spec: ['DEC-2'], input: dyn(revoked), pass: revoked, expect: deny('revoked') });
{
  const everythingWrong = pass(11, { status: 'revoked', validTo: NOW - D, validFrom: NOW - 2 * D, ruleId: rule.id, type: 'single' });
  add({
    name: 'revoked wins over lockdown, expiry, wrong zone, used up and passback',
    spec: ['DEC-2'],
    input: stat({ ...everythingWrong, validTo: NOW + D }),
    pass: everythingWrong,
    gate: gate({ lockdown: true, zoneId: OTHER_ZONE }),
    state: { useCount: 1, lastDirection: 'in', lastTotpStep: null, lastAt: null },
    expect: deny('revoked'),
  });
  add({
    name: 'revoked pass with a wrong dynamic code is still revoked',
    spec: ['DEC-2'],
    input: `${dyn(revoked).slice(0, -8)}00000000`,
    pass: revoked,
    expect: deny('revoked'),
  });
  add({
    name: 'revoked pass cannot use an exit reader either',
    spec: ['DEC-10'],
    input: dyn(revoked),
    pass: revoked,
    gate: gate({ direction: 'out' }),
    expect: deny('revoked'),
  });
}

// ---- lockdown ----
add({ name: 'gate in lockdown', spec: ['DEC-2'], input: dyn(p1), pass: p1, gate: gate({ lockdown: true }), expect: deny('lockdown') });
add({
  name: 'lockdown wins over an expired pass',
  spec: ['DEC-2'],
  input: dyn(pass(12, { validTo: NOW - H, validFrom: NOW - D })),
  pass: pass(12, { validTo: NOW - H, validFrom: NOW - D }),
  gate: gate({ lockdown: true }),
  expect: deny('lockdown'),
});

// ---- validity ----
const future = pass(13, { validFrom: NOW + H, validTo: NOW + D });
add({ name: 'pass not valid yet', spec: ['DEC-5'], input: dyn(future), pass: future, expect: deny('not_yet_valid') });
add({
  name: 'draft pass',
  spec: ['DEC-5'],
  input: dyn(pass(14, { status: 'draft' })),
  pass: pass(14, { status: 'draft' }),
  expect: deny('not_yet_valid'),
});
const past = pass(15, { validFrom: NOW - 2 * D, validTo: NOW - H });
add({ name: 'pass expired', spec: ['DEC-5'], input: dyn(past), pass: past, expect: deny('expired') });
add({
  name: 'pass marked expired',
  spec: ['DEC-5'],
  input: dyn(pass(16, { status: 'expired' })),
  pass: pass(16, { status: 'expired' }),
  expect: deny('expired'),
});
add({
  name: 'static QR whose own validity ended, pass since extended: the QR is expired',
  spec: ['DEC-5'],
  input: encodeStaticQr({ passId: p1.id, validFrom: NOW - D, validTo: NOW - H }, orgKey),
  pass: p1,
  expect: deny('expired'),
});
add({
  name: 'uncached static QR not valid yet',
  spec: ['CRED-5', 'DEC-5'],
  input: encodeStaticQr({ passId: uuid(17), validFrom: NOW + D, validTo: NOW + 2 * D }, orgKey),
  pass: null,
  rule: null,
  expect: deny('not_yet_valid'),
});
add({
  name: 'expired wins over a wrong code',
  spec: ['DEC-2'],
  input: `${dyn(past).slice(0, -8)}00000000`,
  pass: past,
  expect: deny('expired'),
});

// ---- bad_code / replay ----
add({
  name: 'dynamic QR with a wrong code',
  spec: ['DEC-6'],
  input: `${dyn(p1).slice(0, -8)}${totpCode(SECRET, NOW + D)}`,
  pass: p1,
  expect: deny('bad_code'),
});
add({
  name: 'dynamic QR from two steps ago (screenshot)',
  spec: ['CRED-2', 'DEC-6'],
  input: dyn(p1, NOW - 60_000),
  pass: p1,
  expect: deny('bad_code'),
});
add({
  name: 'dynamic QR of a card-only pass (no secret)',
  spec: ['DEC-6'],
  input: dyn(cardPass26),
  pass: cardPass26,
  expect: deny('bad_code'),
});
add({
  name: 'the same code again after it was accepted',
  spec: ['DEC-6'],
  input: dyn(p1),
  pass: p1,
  state: { useCount: 1, lastDirection: 'out', lastTotpStep: totpStep(NOW), lastAt: null },
  expect: deny('replay'),
});
add({
  name: 'an older code after a newer one was accepted',
  spec: ['DEC-6'],
  input: dyn(p1, NOW - 30_000),
  pass: p1,
  state: { useCount: 1, lastDirection: 'out', lastTotpStep: totpStep(NOW), lastAt: null },
  expect: deny('replay'),
});

// ---- zone / schedule ----
add({
  name: 'gate in a zone the rule does not list',
  spec: ['DEC-7'],
  input: dyn(p1),
  pass: p1,
  gate: gate({ zoneId: OTHER_ZONE }),
  expect: deny('wrong_zone'),
});
add({
  name: "pass whose rule is not in the edge's cache",
  spec: ['DEC-7'],
  input: dyn(p1),
  pass: p1,
  rule: null,
  expect: deny('wrong_zone'),
});

// ---- site scope (CRED-10, DEC-13) ----
add({
  name: 'scoped static QR of an uncached pass, naming this site (issued while offline)',
  spec: ['CRED-10', 'DEC-13'],
  input: scoped(pass(40), [SITE]),
  pass: null,
  rule: null,
  expect: ok,
});
add({
  name: 'scoped static QR of an uncached pass, naming this site among others',
  spec: ['CRED-10', 'DEC-13'],
  input: scoped(pass(41), [OTHER_SITE, SITE]),
  pass: null,
  rule: null,
  expect: ok,
});
add({
  name: 'scoped static QR of an uncached pass of another site',
  spec: ['CRED-10', 'DEC-13'],
  input: scoped(pass(42), [OTHER_SITE]),
  pass: null,
  rule: null,
  expect: deny('wrong_site'),
});
add({
  name: 'scoped static QR naming no site, uncached',
  spec: ['CRED-10', 'DEC-13'],
  input: scoped(pass(43), []),
  pass: null,
  rule: null,
  expect: deny('wrong_site'),
});
add({
  name: 'scoped static QR of another site, pass cached: the rule decides',
  spec: ['DEC-13', 'DEC-7'],
  input: scoped(p1, [OTHER_SITE]),
  pass: p1,
  expect: ok,
});
add({
  name: 'scoped static QR of another site, uncached, at an exit reader',
  spec: ['DEC-13', 'DEC-10'],
  input: scoped(pass(44), [OTHER_SITE]),
  pass: null,
  rule: null,
  gate: gate({ direction: 'out' }),
  expect: ok,
});
add({
  name: 'scoped static QR of another site, uncached, expired: time comes first',
  spec: ['DEC-13', 'DEC-2'],
  input: scoped(pass(45, { validFrom: NOW - 2 * D, validTo: NOW - D }), [OTHER_SITE]),
  pass: null,
  rule: null,
  expect: deny('expired'),
});
add({
  name: 'scoped static QR signed by an untrusted key',
  spec: ['CRED-10', 'DEC-3'],
  input: scoped(pass(46), [SITE], otherKey),
  pass: null,
  rule: null,
  expect: deny('bad_signature'),
});
add({
  name: 'scoped static QR whose site list was altered',
  spec: ['CRED-10', 'DEC-3'],
  input: (() => {
    // Swap the one site tag for this site's: the signature no longer holds.
    const text = scoped(pass(47), [OTHER_SITE]);
    const bytes = Buffer.from(parseCredentialBytes(text));
    Buffer.from(siteTag(SITE), 'hex').copy(bytes, 30);
    return `GHS2:${base32Encode(bytes)}`;
  })(),
  pass: null,
  rule: null,
  expect: deny('bad_signature'),
});

add({
  name: 'Saturday with a Monday-Friday rule',
  spec: ['DEC-8'],
  now: Date.UTC(2026, 0, 10, 11, 0),
  input: dyn(pass(18, { validTo: NOW + 10 * D }), Date.UTC(2026, 0, 10, 11, 0)),
  pass: pass(18, { validTo: NOW + 10 * D }),
  expect: deny('outside_schedule'),
});
add({
  name: 'Wednesday 21:00 local with an 08:00-20:00 window',
  spec: ['DEC-8'],
  now: Date.UTC(2026, 0, 7, 20, 0),
  input: dyn(p1, Date.UTC(2026, 0, 7, 20, 0)),
  pass: p1,
  expect: deny('outside_schedule'),
});
add({
  name: 'the window ends at 20:00 exactly (end exclusive)',
  spec: ['DEC-8'],
  now: Date.UTC(2026, 0, 7, 19, 0),
  input: dyn(p1, Date.UTC(2026, 0, 7, 19, 0)),
  pass: p1,
  expect: deny('outside_schedule'),
});
add({
  name: 'night window: Saturday 07:00 is after the Friday night window closed',
  spec: ['DEC-8'],
  now: Date.UTC(2026, 0, 10, 6, 0),
  input: dyn(pass(6, { ruleId: nightRule.id, validTo: NOW + 10 * D }), Date.UTC(2026, 0, 10, 6, 0)),
  pass: pass(6, { ruleId: nightRule.id, validTo: NOW + 10 * D }),
  rule: nightRule,
  expect: deny('outside_schedule'),
});
add({
  name: 'night window: Thursday 03:00 (Wednesday night is not listed)',
  spec: ['DEC-8'],
  now: Date.UTC(2026, 0, 8, 2, 0),
  input: dyn(pass(6, { ruleId: nightRule.id }), Date.UTC(2026, 0, 8, 2, 0)),
  pass: pass(6, { ruleId: nightRule.id }),
  rule: nightRule,
  expect: deny('outside_schedule'),
});
add({
  name: 'the day before DST: 06:30 UTC is 07:30 CET, before 08:00',
  spec: ['DEC-8'],
  now: Date.UTC(2026, 2, 28, 6, 30),
  input: dyn(dstPass, Date.UTC(2026, 2, 28, 6, 30)),
  pass: dstPass,
  rule: anyDayRule,
  expect: deny('outside_schedule'),
});
add({
  name: 'DST fall back: 18:30 UTC on 2026-10-25 is 19:30 CET, inside (it was 20:30 CEST the day before)',
  spec: ['DEC-8'],
  now: Date.UTC(2026, 9, 25, 18, 30),
  input: dyn(dstPass, Date.UTC(2026, 9, 25, 18, 30)),
  pass: dstPass,
  rule: anyDayRule,
  expect: ok,
});
add({
  name: 'DST fall back, the day before: 18:30 UTC is 20:30 CEST, outside',
  spec: ['DEC-8'],
  now: Date.UTC(2026, 9, 24, 18, 30),
  input: dyn(dstPass, Date.UTC(2026, 9, 24, 18, 30)),
  pass: dstPass,
  rule: anyDayRule,
  expect: deny('outside_schedule'),
});

// ---- counts / passback ----
const single = pass(19, { type: 'single' });
add({ name: 'single pass, first entry', spec: ['DEC-9'], input: dyn(single), pass: single, expect: ok });
add({
  name: 'single pass after its one entry and exit',
  spec: ['DEC-9'],
  input: dyn(single),
  pass: single,
  state: { useCount: 1, lastDirection: 'out', lastTotpStep: totpStep(NOW) - 10, lastAt: null },
  expect: deny('used_up'),
});
const multi3 = pass(20, { maxUses: 3 });
add({
  name: 'multi pass with maxUses 3 after 3 entries',
  spec: ['DEC-9'],
  input: stat(multi3),
  pass: multi3,
  state: { useCount: 3, lastDirection: 'out', lastTotpStep: null, lastAt: null },
  expect: deny('used_up'),
});
add({
  name: 'multi pass with maxUses 3 after 2 entries',
  spec: ['DEC-9'],
  input: stat(multi3),
  pass: multi3,
  state: { useCount: 2, lastDirection: 'out', lastTotpStep: null, lastAt: null },
  expect: ok,
});
const ruleMax2 = { ...rule, id: 'rule-two-visits', maxUses: 2 };
add({
  name: "the rule's maxUses applies when the pass has none",
  spec: ['DEC-9'],
  input: stat(pass(21, { ruleId: ruleMax2.id })),
  pass: pass(21, { ruleId: ruleMax2.id }),
  rule: ruleMax2,
  state: { useCount: 2, lastDirection: 'out', lastTotpStep: null, lastAt: null },
  expect: deny('used_up'),
});
add({
  name: 'in after in without an out',
  spec: ['DEC-11'],
  input: dyn(p1),
  pass: p1,
  state: { useCount: 1, lastDirection: 'in', lastTotpStep: totpStep(NOW) - 4, lastAt: null },
  expect: deny('passback'),
});
add({
  name: 'used_up wins over passback',
  spec: ['DEC-2'],
  input: dyn(single),
  pass: single,
  state: { useCount: 1, lastDirection: 'in', lastTotpStep: totpStep(NOW) - 4, lastAt: null },
  expect: deny('used_up'),
});

// ---- anti-passback modes (DEC-11) ----
const softRule: RuleRecord = { ...rule, id: 'rule-soft-apb', antiPassback: 'soft' };
const softPass = pass(40, { ruleId: softRule.id });
const inside = (at: number | null = NOW - H): PassState => ({ useCount: 1, lastDirection: 'in', lastTotpStep: null, lastAt: at });
add({
  name: 'soft anti-passback admits an entry after an entry and reports it',
  spec: ['DEC-11'],
  input: stat(softPass),
  pass: softPass,
  rule: softRule,
  state: inside(),
  expect: { allow: true, reason: 'ok', alert: 'passback' },
});
add({
  name: 'soft anti-passback, an ordinary entry carries no alert',
  spec: ['DEC-11'],
  input: stat(softPass),
  pass: softPass,
  rule: softRule,
  state: { ...inside(), lastDirection: 'out' },
  expect: { allow: true, reason: 'ok', alert: null },
});
const timedRule: RuleRecord = { ...rule, id: 'rule-timed-apb', passbackMinutes: 30 };
const timedPass = pass(41, { ruleId: timedRule.id });
add({
  name: 'timed anti-passback: an entry 30 minutes after the last is forgiven',
  spec: ['DEC-11'],
  input: stat(timedPass),
  pass: timedPass,
  rule: timedRule,
  state: inside(NOW - 30 * 60_000),
  expect: ok,
});
add({
  name: 'timed anti-passback: an entry 29 minutes after the last is still passback',
  spec: ['DEC-11'],
  input: stat(timedPass),
  pass: timedPass,
  rule: timedRule,
  state: inside(NOW - 29 * 60_000),
  expect: deny('passback'),
});
add({
  name: 'timed anti-passback with no time for the last entry is not forgiven',
  spec: ['DEC-11'],
  input: stat(timedPass),
  pass: timedPass,
  rule: timedRule,
  state: inside(null),
  expect: deny('passback'),
});
add({
  name: 'a guard forgave the pass (the cloud set it to neither in nor out)',
  spec: ['DEC-11', 'SYNC-3'],
  input: stat(p1),
  pass: p1,
  state: { useCount: 1, lastDirection: null, lastTotpStep: null, lastAt: NOW - 60_000 },
  expect: ok,
});

// ---- group passes (DEC-16) ----
const group = pass(42, { type: 'group', maxUses: 3 });
add({
  name: 'group pass: the second member enters right after the first',
  spec: ['DEC-16'],
  input: stat(group),
  pass: group,
  state: { useCount: 1, lastDirection: 'in', lastTotpStep: null, lastAt: NOW - 5_000 },
  expect: ok,
});
add({
  name: 'group pass of 3 after 3 members went in',
  spec: ['DEC-16', 'DEC-9'],
  input: stat(group),
  pass: group,
  state: { useCount: 3, lastDirection: 'in', lastTotpStep: null, lastAt: NOW - 5_000 },
  expect: deny('used_up'),
});
add({
  name: 'a multi pass with the same count is stopped by anti-passback (unlike a group)',
  spec: ['DEC-16', 'DEC-11'],
  input: stat(pass(43, { maxUses: 3 })),
  pass: pass(43, { maxUses: 3 }),
  state: { useCount: 1, lastDirection: 'in', lastTotpStep: null, lastAt: NOW - 5_000 },
  expect: deny('passback'),
});

// ---- holidays (DEC-14) ---- NOW is Wednesday 2026-01-07, 10:00 in Berlin
const closedToday = [{ id: 'hol-1', siteId: SITE, date: '2026-01-07', kind: 'closed', name: 'Closed', windows: [] }];
const shortDay = (from: string, to: string) => [
  { id: 'hol-2', siteId: SITE, date: '2026-01-07', kind: 'special', name: 'Short day', windows: [{ from, to }] },
];
add({
  name: 'a closed day denies a rule that observes holidays',
  spec: ['DEC-14'],
  input: dyn(p1),
  pass: p1,
  gate: gate({ holidays: closedToday }),
  expect: deny('holiday'),
});
const ignoreRule: RuleRecord = { ...rule, id: 'rule-ignores-holidays', holidays: 'ignore' };
const ignorePass = pass(44, { ruleId: ignoreRule.id });
add({
  name: 'a rule that ignores holidays opens on a closed day',
  spec: ['DEC-14'],
  input: stat(ignorePass),
  pass: ignorePass,
  rule: ignoreRule,
  gate: gate({ holidays: closedToday }),
  expect: ok,
});
add({
  name: 'special hours 09:00-14:00, at 10:00 local',
  spec: ['DEC-14'],
  input: dyn(p1),
  pass: p1,
  gate: gate({ holidays: shortDay('09:00', '14:00') }),
  expect: ok,
});
add({
  name: 'special hours 11:00-14:00, at 10:00 local',
  spec: ['DEC-14'],
  input: dyn(p1),
  pass: p1,
  gate: gate({ holidays: shortDay('11:00', '14:00') }),
  expect: deny('holiday'),
});
add({
  name: 'a holiday on another date changes nothing (the date is local: 2026-01-06 ended an hour before in Berlin)',
  spec: ['DEC-14'],
  input: dyn(p1),
  pass: p1,
  gate: gate({ holidays: [{ ...closedToday[0], date: '2026-01-06' }] }),
  expect: ok,
});
add({
  name: 'outside_schedule wins over holiday',
  spec: ['DEC-2', 'DEC-14'],
  now: NOW + 11 * H,
  input: dyn(p1, NOW + 11 * H),
  pass: p1,
  gate: gate({ holidays: closedToday }),
  expect: deny('outside_schedule'),
});
add({
  name: 'leaving on a closed day is never blocked',
  spec: ['DEC-10', 'DEC-14'],
  input: dyn(p1),
  pass: p1,
  gate: gate({ holidays: closedToday, direction: 'out' }),
  expect: ok,
});

// ---- escort (DEC-15) ----
const escortRule: RuleRecord = { ...rule, id: 'rule-escorted', escortRequired: true, escortSeconds: 30 };
const escorted = pass(45, { ruleId: escortRule.id });
add({
  name: 'an escorted visitor with no escort shown',
  spec: ['DEC-15'],
  input: stat(escorted),
  pass: escorted,
  rule: escortRule,
  expect: deny('escort_required'),
});
add({
  name: 'an escorted visitor 20 s after the escort badged',
  spec: ['DEC-15'],
  input: stat(escorted),
  pass: escorted,
  rule: escortRule,
  gate: gate({ escortAt: NOW - 20_000 }),
  expect: ok,
});
add({
  name: 'an escorted visitor 31 s after the escort badged',
  spec: ['DEC-15'],
  input: stat(escorted),
  pass: escorted,
  rule: escortRule,
  gate: gate({ escortAt: NOW - 31_000 }),
  expect: deny('escort_required'),
});
add({
  name: 'the escort badges 10 s after the visitor (the gate decides again at the escort)',
  spec: ['DEC-15'],
  input: stat(escorted),
  pass: escorted,
  rule: escortRule,
  gate: gate({ escortAt: NOW + 10_000 }),
  expect: ok,
});
const selfEscort = pass(46, { ruleId: escortRule.id, escort: true });
add({
  name: 'a pass that may escort needs no escort of its own',
  spec: ['DEC-15'],
  input: stat(selfEscort),
  pass: selfEscort,
  rule: escortRule,
  expect: ok,
});
add({
  name: 'passback wins over escort_required',
  spec: ['DEC-2', 'DEC-15'],
  input: stat(escorted),
  pass: escorted,
  rule: escortRule,
  state: inside(),
  expect: deny('passback'),
});
add({
  name: 'an escorted visitor leaves without an escort',
  spec: ['DEC-10', 'DEC-15'],
  input: stat(escorted),
  pass: escorted,
  rule: escortRule,
  gate: gate({ direction: 'out' }),
  expect: ok,
});

/** The bytes of a static QR text (for the altered-QR vector). */
function parseCredentialBytes(text: string): Uint8Array {
  const c = parseCredential(text);
  if (c.kind !== 'static') throw new Error('not a static QR');
  return Buffer.concat([c.signed, c.sig]);
}

// ---------- credentials.json ----------
const credentialCases = [
  { name: 'dynamic', input: dyn(p1), expect: { kind: 'dynamic', passId: p1.id, code: totpCode(SECRET, NOW) } },
  {
    name: 'static',
    input: stat(p1),
    expect: { kind: 'static', passId: p1.id, kid: TEST_KEYS.org.kid, validFrom: p1.validFrom, validTo: p1.validTo },
  },
  {
    name: 'w26',
    input: `W26:${encodeWiegand('w26', 123, 4567)}`,
    expect: { kind: 'card', format: 'w26', number: '8065495', facility: 123, cardNumber: 4567 },
  },
  {
    name: 'w34',
    input: `W34:${encodeWiegand('w34', 54321, 9876)}`,
    expect: { kind: 'card', format: 'w34', number: '3559990932', facility: 54321, cardNumber: 9876 },
  },
  {
    name: 'w26 all zero data (parity bits 0 and 1)',
    input: 'W26:00000000000000000000000001',
    expect: { kind: 'card', format: 'w26', number: '0', facility: 0, cardNumber: 0 },
  },
  { name: 'raw card, leading zeros dropped', input: 'CARD:000123', expect: { kind: 'card', format: 'raw', number: '123' } },
  { name: 'w26 bad even parity', input: 'W26:10000000000000000000000001', expect: { kind: 'malformed' } },
  { name: 'w26 bad odd parity', input: 'W26:00000000000000000000000000', expect: { kind: 'malformed' } },
  { name: 'w26 with 25 bits', input: 'W26:0000000000000000000000001', expect: { kind: 'malformed' } },
  { name: 'dynamic with a non-base32 id', input: 'GHD1:0000000000000000000000000:12345678', expect: { kind: 'malformed' } },
  { name: 'static with foreign character', input: `GHS1:${stat(p1).slice(5, -1)}!`, expect: { kind: 'malformed' } },
  {
    name: 'scoped static, one site',
    input: scoped(p1, [SITE]),
    expect: { kind: 'static', passId: p1.id, kid: TEST_KEYS.org.kid, validFrom: p1.validFrom, validTo: p1.validTo, sites: [siteTag(SITE)] },
  },
  {
    name: 'scoped static, three sites (fits QR version 7 at M: 175 characters)',
    input: scoped(p1, [SITE, OTHER_SITE, uuid(99)]),
    expect: { kind: 'static', passId: p1.id, sites: [siteTag(SITE), siteTag(OTHER_SITE), siteTag(uuid(99))].sort() },
  },
  { name: 'scoped static with the unscoped prefix', input: `GHS1:${scoped(p1, [SITE]).slice(5)}`, expect: { kind: 'malformed' } },
  { name: 'unscoped static with the scoped prefix', input: `GHS2:${stat(p1).slice(5)}`, expect: { kind: 'malformed' } },
  { name: 'scoped static cut short by one site', input: scoped(p1, [SITE, OTHER_SITE]).slice(0, -7), expect: { kind: 'malformed' } },
  { name: 'unknown prefix', input: 'GHX1:ABC', expect: { kind: 'malformed' } },
  { name: 'control characters', input: 'hex:474844313a1b', expect: { kind: 'malformed' } },
  { name: 'NUL bytes', input: 'hex:0000000000', expect: { kind: 'malformed' } },
  { name: 'card number too long', input: `CARD:${'9'.repeat(21)}`, expect: { kind: 'malformed' } },
];
// RFC 6238 appendix B, SHA-1, 8 digits: the TOTP primitive itself.
const totpCases = [
  { secret: base32Encode(Buffer.from('12345678901234567890')), time: 59, code: '94287082' },
  { secret: base32Encode(Buffer.from('12345678901234567890')), time: 1111111109, code: '07081804' },
  { secret: base32Encode(Buffer.from('12345678901234567890')), time: 1234567890, code: '89005924' },
  { secret: base32Encode(Buffer.from('12345678901234567890')), time: 2000000000, code: '69279037' },
];
const cardKeys = [
  { card: { format: 'w26', number: '8065495' }, key: 'w26:8065495' },
  { card: { format: 'raw', number: '00042' }, key: 'raw:42' },
].map((c) => ({ ...c, key: cardKey(c.card as { format: 'w26' | 'raw'; number: string }) }));

// ---------- sealing.json ----------
/** A sealer with the fixed ephemeral key and counting nonces, so the vectors are deterministic. */
function fixedSealer(recipient: string): SecretSealer {
  const s = secretSealer(recipient, { ephemeralPrivateKey: TEST_DEVICE_KEYS.ephemeral.privateKey });
  let n = 0;
  return { epk: s.epk, seal: (text, aad) => s.seal(text, aad, Buffer.alloc(12, ++n)) };
}
const vectorSealer = fixedSealer(TEST_DEVICE_KEYS.device.publicKey);
const sealedP1 = sealPassRecord(p1, vectorSealer);
const sealedCase = (name: string, sealed: string, over: Partial<{ privateKey: string; aad: string }>, plaintext: string | null) => ({
  name,
  privateKey: over.privateKey ?? TEST_DEVICE_KEYS.device.privateKey,
  epk: vectorSealer.epk,
  aad: over.aad ?? passAad(p1.id),
  sealed,
  plaintext,
});
const sealedSecret = sealedP1.totpSealed ?? '';
const flipped = Buffer.from(sealedSecret, 'base64');
flipped[20] = (flipped[20] ?? 0) ^ 1;
const sealingCases = [
  sealedCase('the receiving device opens it', sealedSecret, {}, SECRET),
  sealedCase('another device cannot open it', sealedSecret, { privateKey: TEST_DEVICE_KEYS.otherDevice.privateKey }, null),
  sealedCase('moved to another pass (aad differs)', sealedSecret, { aad: passAad(pass(2).id) }, null),
  sealedCase('one ciphertext bit flipped', flipped.toString('base64'), {}, null),
];
const fingerprints = [
  { publicKey: TEST_KEYS.org.publicKey, fingerprint: keyFingerprint(TEST_KEYS.org.publicKey) },
  { publicKey: TEST_KEYS.other.publicKey, fingerprint: keyFingerprint(TEST_KEYS.other.publicKey) },
];

// ---------- signing.json ----------
const change: SyncChange = { seq: 42, entity: 'pass', op: 'upsert', id: p1.id, data: sealedP1 };
const delta: DownMessage = {
  v: 1,
  kind: 'delta',
  orgId: ORG,
  deviceId: 'dev-gate-1',
  seq: 42,
  issuedAt: NOW,
  siteId: 'site-hq',
  fromSeq: 41,
  epk: vectorSealer.epk,
  changes: [change],
};
const good = sealMessage(delta, orgKey);
const env = JSON.parse(good) as { kid: string; payload: string; sig: string };
const tamperedPayload = Buffer.from(JSON.stringify({ ...delta, changes: [{ ...change, data: { ...sealedP1, validTo: NOW + 365 * D } }] }));
const expectFor = { orgId: ORG, deviceId: 'dev-gate-1', lastSeq: 41 };
const signingCases = [
  { name: 'valid delta', envelope: good, expect: expectFor, result: { ok: true, seq: 42 } },
  {
    name: 'payload edited after signing',
    envelope: JSON.stringify({ ...env, payload: tamperedPayload.toString('base64') }),
    expect: expectFor,
    result: { ok: false, error: 'bad_signature' },
  },
  {
    name: 'signed by another org key under our kid',
    envelope: JSON.stringify({ ...signEnvelope(Buffer.from(JSON.stringify(delta)), otherKey), kid: orgKey.kid }),
    expect: expectFor,
    result: { ok: false, error: 'bad_signature' },
  },
  {
    name: 'signed by a key the edge does not trust',
    envelope: sealMessage(delta, otherKey),
    expect: expectFor,
    result: { ok: false, error: 'unknown_key' },
  },
  {
    name: 'replayed: seq not above the last applied',
    envelope: good,
    expect: { ...expectFor, lastSeq: 42 },
    result: { ok: false, error: 'stale' },
  },
  { name: 'stale: an older seq', envelope: good, expect: { ...expectFor, lastSeq: 100 }, result: { ok: false, error: 'stale' } },
  {
    name: 'for another organisation',
    envelope: good,
    expect: { ...expectFor, orgId: 'org-other' },
    result: { ok: false, error: 'wrong_org' },
  },
  {
    name: 'for another device',
    envelope: good,
    expect: { ...expectFor, deviceId: 'dev-gate-2' },
    result: { ok: false, error: 'wrong_device' },
  },
  { name: 'not JSON', envelope: 'garbage', expect: expectFor, result: { ok: false, error: 'malformed' } },
  {
    name: 'signature cut short',
    envelope: JSON.stringify({ ...env, sig: env.sig.slice(4) }),
    expect: expectFor,
    result: { ok: false, error: 'malformed' },
  },
  {
    name: 'well signed but not a valid message',
    envelope: JSON.stringify(signEnvelope(Buffer.from(JSON.stringify({ v: 1, hello: 'world' })), orgKey)),
    expect: expectFor,
    result: { ok: false, error: 'invalid' },
  },
];

// ---------- releases.json ----------
const releaseKey = signingKey(TEST_RELEASE_KEYS.release.privateKey);
const otherReleaseKey = signingKey(TEST_RELEASE_KEYS.otherRelease.privateKey);
/** The bytes of each file of the vector release, so a controller's checksum code can be checked as well. */
const releaseContents: Record<string, string> = {
  'agent/gatehouse-edge.mjs': "#!/usr/bin/env node\nconsole.log('gatehouse-edge');\n",
  'agent/package.json': '{"type":"module"}\n',
  'node_modules/native/build/Release/native.node#linux-x64': 'x64 native module\n',
  'node_modules/native/build/Release/native.node#linux-arm64': 'arm64 native module\n',
};
const releaseFiles = Object.entries(releaseContents).map(([key, text]) => {
  const [path = '', platform] = key.split('#');
  const bytes = Buffer.from(text);
  return {
    path,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    ...(platform ? { platform: platform as 'linux-x64' | 'linux-arm64' } : {}),
  };
});
const manifest = (over: Partial<ReleaseManifest> = {}): ReleaseManifest => ({
  v: 1,
  product: 'gatehouse-edge',
  version: '0.7.0',
  serial: 7,
  channel: 'stable',
  createdAt: NOW - D,
  expiresAt: NOW + 30 * D,
  minCloudVersion: '0.1.0',
  node: '>=22 <25',
  entry: 'agent/gatehouse-edge.mjs',
  files: releaseFiles,
  notes: 'Test release.',
  ...over,
});
/** Signs any object, valid manifest or not: the refusal cases need signed garbage. */
const signAny = (m: unknown, key = releaseKey) => JSON.stringify(signReleaseBytes(Buffer.from(JSON.stringify(m)), key));
const goodRelease = signRelease(manifest(), releaseKey);
const olderRelease = signRelease(manifest({ version: '0.6.0', serial: 6 }), releaseKey);
const fresh7 = { now: NOW, installedSerial: 6 };
const editedFiles = releaseFiles.map((f, i) => (i === 0 ? { ...f, sha256: 'f'.repeat(64) } : f));
interface ReleaseCase {
  name: string;
  spec: string[];
  signed: string;
  opts: { now: number; installedSerial: number | null; allowDowngradeTo?: number };
  result: { ok: true; version: string; serial: number; files: Record<string, string[]> } | { ok: false; reason: string };
}
const releaseCases: ReleaseCase[] = [];
const addRelease = (c: Omit<ReleaseCase, 'result'> & { reason?: string }) => {
  const { reason, ...rest } = c;
  let result: ReleaseCase['result'];
  if (reason) result = { ok: false, reason };
  else {
    const r = verifyRelease(c.signed, new KeyRing([TEST_RELEASE_KEYS.release.publicKey]), c.opts);
    if (!r.ok) throw new Error(`release vector "${c.name}" should verify: ${r.detail}`);
    const files = Object.fromEntries(RELEASE_PLATFORMS.map((p) => [p, releaseFilesFor(r.manifest, p).map((f) => f.path)]));
    result = { ok: true, version: r.manifest.version, serial: r.manifest.serial, files };
  }
  releaseCases.push({ ...rest, result });
};
addRelease({
  name: 'first install: nothing installed yet',
  spec: ['REL-1', 'REL-3'],
  signed: JSON.stringify(goodRelease),
  opts: { now: NOW, installedSerial: null },
});
addRelease({ name: 'upgrade: serial above the installed one', spec: ['REL-6'], signed: JSON.stringify(goodRelease), opts: fresh7 });
addRelease({
  name: 'the same path once per platform (a native module built for each)',
  spec: ['REL-5'],
  signed: JSON.stringify(goodRelease),
  opts: fresh7,
});
addRelease({ name: 'not JSON', spec: ['REL-3'], signed: 'release.json', opts: fresh7, reason: 'malformed' });
addRelease({
  name: 'signature cut short',
  spec: ['REL-3'],
  signed: JSON.stringify({ ...goodRelease, sig: goodRelease.sig.slice(4) }),
  opts: fresh7,
  reason: 'malformed',
});
addRelease({
  name: 'signed by an organisation key, not a release key',
  spec: ['REL-2', 'REL-3'],
  signed: JSON.stringify(signRelease(manifest(), orgKey)),
  opts: fresh7,
  reason: 'unknown_key',
});
addRelease({
  name: 'signed by another key under the trusted kid',
  spec: ['REL-3'],
  signed: JSON.stringify({ ...signRelease(manifest(), otherReleaseKey), kid: releaseKey.kid }),
  opts: fresh7,
  reason: 'bad_signature',
});
addRelease({
  name: 'a file checksum edited after signing (arbitrary package)',
  spec: ['REL-3', 'REL-9'],
  signed: JSON.stringify({ ...goodRelease, payload: Buffer.from(JSON.stringify(manifest({ files: editedFiles }))).toString('base64') }),
  opts: fresh7,
  reason: 'bad_signature',
});
addRelease({
  name: 'the signature of the older release on this payload',
  spec: ['REL-3'],
  signed: JSON.stringify({ ...goodRelease, sig: olderRelease.sig }),
  opts: fresh7,
  reason: 'bad_signature',
});
addRelease({
  name: 'signed as a message envelope by the release key: other domain tag',
  spec: ['REL-2'],
  signed: JSON.stringify(signEnvelope(Buffer.from(JSON.stringify(manifest())), releaseKey)),
  opts: fresh7,
  reason: 'bad_signature',
});
addRelease({
  name: 'signed, but the payload is not JSON',
  spec: ['REL-3'],
  signed: JSON.stringify(signReleaseBytes(Buffer.from('{"v":1,'), releaseKey)),
  opts: fresh7,
  reason: 'malformed',
});
addRelease({
  name: 'signed, with an unknown field',
  spec: ['REL-1'],
  signed: signAny({ ...manifest(), extra: true }),
  opts: fresh7,
  reason: 'malformed',
});
addRelease({
  name: 'signed, expiring before it was made',
  spec: ['REL-1'],
  signed: signAny(manifest({ expiresAt: NOW - 2 * D })),
  opts: fresh7,
  reason: 'malformed',
});
for (const [what, path] of [
  ['a .. segment', 'agent/../../etc/cron.d/x'],
  ['an absolute path', '/usr/bin/node'],
  ['a backslash', 'agent\\gatehouse-edge.mjs'],
  ['a . segment', './agent/x.mjs'],
  ['an empty segment', 'agent//x.mjs'],
  ['the reserved name release.json', 'release.json'],
] as const) {
  addRelease({
    name: `a file path with ${what}`,
    spec: ['REL-5'],
    signed: signAny(manifest({ files: [...releaseFiles, { path, sha256: 'a'.repeat(64), size: 1 }] })),
    opts: fresh7,
    reason: 'malformed',
  });
}
addRelease({
  name: 'a path listed twice',
  spec: ['REL-5'],
  signed: signAny(manifest({ files: [...releaseFiles, { ...releaseFiles[1]!, sha256: 'b'.repeat(64) }] })),
  opts: fresh7,
  reason: 'malformed',
});
addRelease({
  name: 'a platform file at the path of a common one',
  spec: ['REL-5'],
  signed: signAny(manifest({ files: [...releaseFiles, { ...releaseFiles[1]!, platform: 'linux-arm64' }] })),
  opts: fresh7,
  reason: 'malformed',
});
addRelease({
  name: 'a file under the path of another file',
  spec: ['REL-5'],
  signed: signAny(manifest({ files: [...releaseFiles, { path: 'agent/package.json/x', sha256: 'a'.repeat(64), size: 1 }] })),
  opts: fresh7,
  reason: 'malformed',
});
addRelease({
  name: 'an entry that is not a listed file',
  spec: ['REL-5'],
  signed: signAny(manifest({ entry: 'agent/other.mjs' })),
  opts: fresh7,
  reason: 'malformed',
});
addRelease({
  name: 'an entry listed for one platform only',
  spec: ['REL-5'],
  signed: signAny(
    manifest({ entry: 'node_modules/native/build/Release/native.node', files: releaseFiles.filter((f) => f.platform !== 'linux-arm64') }),
  ),
  opts: fresh7,
  reason: 'malformed',
});
addRelease({
  name: 'a release of another product',
  spec: ['REL-3'],
  signed: signAny({ ...manifest(), product: 'gatehouse-cloud' }),
  opts: fresh7,
  reason: 'wrong_product',
});
addRelease({
  name: 'expired (freeze)',
  spec: ['REL-4'],
  signed: JSON.stringify(goodRelease),
  opts: { ...fresh7, now: NOW + 31 * D },
  reason: 'expired',
});
addRelease({
  name: 'at the very millisecond of expiry',
  spec: ['REL-4'],
  signed: JSON.stringify(goodRelease),
  opts: { ...fresh7, now: NOW + 30 * D },
  reason: 'expired',
});
addRelease({
  name: 'expired and older: expiry is checked first',
  spec: ['REL-3', 'REL-4'],
  signed: JSON.stringify(olderRelease),
  opts: { now: NOW + 31 * D, installedSerial: 7 },
  reason: 'expired',
});
addRelease({
  name: 'a replayed older manifest (rollback)',
  spec: ['REL-6'],
  signed: JSON.stringify(olderRelease),
  opts: { now: NOW, installedSerial: 7 },
  reason: 'rollback',
});
addRelease({
  name: 'the installed serial again (reinstall) is refused',
  spec: ['REL-6'],
  signed: JSON.stringify(goodRelease),
  opts: { now: NOW, installedSerial: 7 },
  reason: 'rollback',
});
addRelease({
  name: 'a rollback job allows exactly its serial',
  spec: ['REL-6'],
  signed: JSON.stringify(olderRelease),
  opts: { now: NOW, installedSerial: 7, allowDowngradeTo: 6 },
});
addRelease({
  name: 'a rollback job for another serial allows nothing else',
  spec: ['REL-6'],
  signed: JSON.stringify(olderRelease),
  opts: { now: NOW, installedSerial: 7, allowDowngradeTo: 5 },
  reason: 'rollback',
});
addRelease({
  name: 'a rollback job may reinstall the running serial',
  spec: ['REL-6'],
  signed: JSON.stringify(goodRelease),
  opts: { now: NOW, installedSerial: 7, allowDowngradeTo: 7 },
});
const nodeCases = [
  ['>=22 <25', '22.12.0', true],
  ['>=22 <25', 'v24.11.1', true],
  ['>=22 <25', '20.19.5', false],
  ['>=22 <25', '25.0.0', false],
  ['>=22.12 <23 || >=24 <25', '22.11.0', false],
  ['>=22.12 <23 || >=24 <25', '22.12.0', true],
  ['>=22.12 <23 || >=24 <25', '23.3.0', false],
  ['>=22.12 <23 || >=24 <25', '24.0.0', true],
  ['22', '22.1.0', true],
  ['=22', '23.0.0', false],
  ['>22', '22.9.0', false],
  ['>22', '23.0.0', true],
  ['<=22', '22.9.9', true],
  ['<=22', '23.0.0', false],
  ['^22', '22.0.0', false],
  ['>=22 <25', 'not a version', false],
].map(([range, node, supported]) => ({ range, node, supported }));
for (const c of nodeCases)
  if (nodeSupported(c.range as string, c.node as string) !== c.supported) throw new Error(`node vector ${c.range} ${c.node}`);

function write(name: string, data: unknown): void {
  writeFileSync(`${outDir}${name}`, `${JSON.stringify(data, null, 2)}\n`);
}

export const vectors = {
  'releases.json': {
    description:
      "REL-1..REL-9: verifyRelease() cases — a signed release (release.json text), the options (now, installed serial, allowed downgrade) → ok with the version, serial and the files per platform, or the refusal reason. `contents` are the bytes of the vector release's files (key path#platform for platform files); `node` are nodeSupported() cases.",
    keys: TEST_RELEASE_KEYS,
    contents: releaseContents,
    cases: releaseCases,
    node: nodeCases,
  },
  'decisions.json': {
    description: 'decide() cases: input text, cached pass/rule/state, gate → {allow, reason}. See SPEC.md DEC-*.',
    keys: TEST_KEYS,
    cases,
  },
  'credentials.json': {
    description: 'parseCredential() cases (inputs prefixed hex: are bytes), RFC 6238 TOTP cases, cardKey cases.',
    credentials: credentialCases,
    totp: totpCases,
    cardKeys,
  },
  'signing.json': {
    description: 'openMessage() cases: a signed envelope and what the edge expects → ok or the error.',
    keys: TEST_KEYS,
    cases: signingCases,
  },
  'sealing.json': {
    description:
      'SEAL-2..4: a secret sealed to a device (X25519 + HKDF-SHA256 + AES-256-GCM): its private key, the message epk, the aad and the sealed text → the plaintext, or null when it must not open. SIGN-7: key fingerprints.',
    keys: TEST_DEVICE_KEYS,
    cases: sealingCases,
    fingerprints,
  },
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, data] of Object.entries(vectors)) write(name, data);
  console.log(
    `wrote ${cases.length} decision, ${credentialCases.length} credential, ${signingCases.length} signing, ${sealingCases.length} sealing, ${releaseCases.length} release vectors`,
  );
}
