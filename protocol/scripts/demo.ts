/**
 * A decision, end to end, with no servers: an org key, a pass, its dynamic
 * and static QR texts, a gate, and what decide() says as time and state move.
 *   npx tsx protocol/scripts/demo.ts
 */
import {
  decide,
  dynamicQrAt,
  encodeStaticQr,
  type GateContext,
  generateKeyPair,
  KeyRing,
  newTotpSecret,
  nextPassState,
  type PassRecord,
  type PassState,
  parseCredential,
  REASON_TEXT,
  type RuleRecord,
  signingKey,
  uuidv7,
} from '../src/index.js';

const org = generateKeyPair();
const key = signingKey(org.privateKey);
const now = Date.now();
const rule: RuleRecord = {
  id: 'weekdays',
  zoneIds: ['lobby'],
  weekdays: [],
  timeWindows: [],
  maxUses: null,
  antiPassback: 'hard',
  passbackMinutes: null,
  escortRequired: false,
  escortSeconds: 30,
  holidays: 'observe',
};
const pass: PassRecord = {
  id: uuidv7(),
  orgId: 'demo',
  ruleId: rule.id,
  type: 'single',
  status: 'active',
  validFrom: now - 60_000,
  validTo: now + 8 * 3_600_000,
  maxUses: null,
  totpSecret: newTotpSecret(),
  card: null,
  escort: false,
};
const gate: GateContext = {
  gateId: 'main',
  zoneId: 'lobby',
  siteId: 'hq',
  timezone: 'Europe/Paris',
  direction: 'in',
  lockdown: false,
  keys: new KeyRing([org.publicKey]),
};
let state: PassState | undefined;

function scan(label: string, text: string, at: number, g: GateContext = gate): void {
  const d = decide(parseCredential(text), pass, rule, g, state, at);
  state = nextPassState(state, d, g.direction, at);
  console.log(`${d.allow ? 'ALLOW' : 'DENY '}  ${d.reason.padEnd(16)} ${label.padEnd(40)} ${REASON_TEXT[d.reason]}`);
}

const dynamic = dynamicQrAt(pass.id, pass.totpSecret ?? '', now);
const stat = encodeStaticQr({ passId: pass.id, validFrom: pass.validFrom, validTo: pass.validTo }, key);
console.log(`pass ${pass.id} (single use)\n  dynamic QR: ${dynamic}\n  static QR:  ${stat}\n`);
scan('dynamic QR at the entry', dynamic, now);
scan('same screenshot again', dynamic, now + 2_000);
scan('exit reader', stat, now + 60_000, { ...gate, direction: 'out' });
scan('back in with a fresh code', dynamicQrAt(pass.id, pass.totpSecret ?? '', now + 90_000), now + 90_000);
scan(
  'a forged static QR',
  encodeStaticQr({ passId: pass.id, validFrom: now, validTo: now + 1e9 }, signingKey(generateKeyPair().privateKey)),
  now,
);
scan('a foreign QR code', 'https://example.com', now);
