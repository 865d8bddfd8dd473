/** A small site for tests: one org key, a gate, a rule, and passes of every credential kind. */
import {
  encodeStaticQr,
  encodeWiegand,
  type GateRecord,
  generateKeyPair,
  newTotpSecret,
  type PassRecord,
  type RuleRecord,
  type SiteRecord,
  signingKey,
  uuidv7,
  type ZoneRecord,
} from '@gatehouse/protocol';

export interface Fixture {
  key: ReturnType<typeof generateKeyPair>;
  site: SiteRecord;
  zone: ZoneRecord;
  gate: GateRecord;
  rule: RuleRecord;
  passes: {
    dynamic: PassRecord;
    multi: PassRecord;
    card: PassRecord;
    revoked: PassRecord;
    expired: PassRecord;
  };
  /** A static QR valid now for a pass that is not in the cache. */
  staticQr(validFrom?: number, validTo?: number, passId?: string): string;
  wiegand: string;
  seed(): {
    gateId: string;
    site: SiteRecord;
    gates: GateRecord[];
    zones: ZoneRecord[];
    rules: RuleRecord[];
    passes: PassRecord[];
    orgPublicKey: string;
  };
}

export function makeFixture(now = Date.now()): Fixture {
  const key = generateKeyPair();
  const signer = signingKey(key.privateKey);
  const site: SiteRecord = { id: 'site-1', name: 'HQ', timezone: 'Europe/Berlin' };
  const zone: ZoneRecord = { id: 'zone-lobby', siteId: site.id, name: 'Lobby' };
  const gate: GateRecord = {
    id: 'gate-1',
    siteId: site.id,
    zoneId: zone.id,
    name: 'Main',
    direction: 'both',
    lockdown: false,
    emergency: false,
  };
  const rule: RuleRecord = {
    id: 'rule-all',
    zoneIds: [zone.id],
    weekdays: [],
    timeWindows: [],
    maxUses: null,
    antiPassback: 'off',
    passbackMinutes: null,
    escortRequired: false,
    escortSeconds: 60,
    holidays: 'observe',
  };
  const day = 86_400_000;
  const base = (over: Partial<PassRecord>): PassRecord => ({
    id: uuidv7(),
    orgId: 'org-1',
    ruleId: rule.id,
    type: 'multi',
    status: 'active',
    validFrom: now - day,
    validTo: now + day,
    maxUses: null,
    totpSecret: null,
    card: null,
    escort: false,
    ...over,
  });
  const passes = {
    dynamic: base({ type: 'single', totpSecret: newTotpSecret() }),
    multi: base({ totpSecret: newTotpSecret() }),
    card: base({ card: { format: 'w26', number: String((42 << 16) | 1234) } }),
    revoked: base({ status: 'revoked', totpSecret: newTotpSecret() }),
    expired: base({ validFrom: now - 3 * day, validTo: now - day, totpSecret: newTotpSecret() }),
  };
  return {
    key,
    site,
    zone,
    gate,
    rule,
    passes,
    staticQr: (validFrom = now - day, validTo = now + day, passId = uuidv7()) => encodeStaticQr({ passId, validFrom, validTo }, signer),
    wiegand: `W26:${encodeWiegand('w26', 42, 1234)}`,
    seed: () => ({
      gateId: gate.id,
      site,
      gates: [gate],
      zones: [zone],
      rules: [rule],
      passes: Object.values(passes),
      orgPublicKey: key.publicKey,
    }),
  };
}
