import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decide,
  dynamicQrAt,
  EMPTY_PASS_STATE,
  effectiveMaxUses,
  encodeStaticQr,
  type GateContext,
  generateKeyPair,
  KeyRing,
  localDate,
  mergePresence,
  newTotpSecret,
  nextPassState,
  type PassRecord,
  type PassState,
  parseCredential,
  REASONS,
  type RuleRecord,
  signingKey,
  uuidv7,
} from '../src/index.js';

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
const now = Date.UTC(2026, 5, 3, 10, 0); // Wednesday, noon in Paris
const secret = newTotpSecret();
const rule: RuleRecord = {
  id: 'r',
  zoneIds: ['z'],
  weekdays: [],
  timeWindows: [],
  maxUses: null,
  antiPassback: 'hard',
  passbackMinutes: null,
  escortRequired: false,
  escortSeconds: 30,
  holidays: 'observe',
};
const pass = (over: Partial<PassRecord> = {}): PassRecord => ({
  id: uuidv7(),
  orgId: 'o',
  ruleId: 'r',
  type: 'single',
  status: 'active',
  validFrom: now - 3_600_000,
  validTo: now + 3_600_000,
  maxUses: null,
  totpSecret: secret,
  card: null,
  escort: false,
  ...over,
});

describe('decide + nextPassState (SPEC DEC-6, DEC-12)', () => {
  const walk = (p: PassRecord) => {
    let state: PassState | undefined;
    const scan = (at: number, direction: 'in' | 'out') => {
      const d = decide(parseCredential(dynamicQrAt(p.id, secret, at)), p, rule, { ...gate, direction }, state, at);
      state = nextPassState(state, d, direction, at);
      return d.reason;
    };
    return { scan, state: () => state };
  };

  it('CRED-3, DEC-6, DEC-9, DEC-12: a single pass: in, the same code again is a replay, a new code is used up, out is fine, in again is used up', () => {
    const w = walk(pass());
    expect(w.scan(now, 'in')).toBe('ok');
    expect(w.state()).toMatchObject({ useCount: 1, lastDirection: 'in' });
    expect(w.scan(now + 1000, 'in')).toBe('replay');
    expect(w.scan(now + 30_000, 'in')).toBe('used_up');
    expect(w.scan(now + 60_000, 'out')).toBe('ok');
    expect(w.scan(now + 90_000, 'in')).toBe('used_up');
    expect(w.state()).toMatchObject({ useCount: 1, lastDirection: 'out' });
  });

  it('DEC-11: a multi pass: in, in again is passback, out, in again is fine', () => {
    const w = walk(pass({ type: 'multi' }));
    expect(w.scan(now, 'in')).toBe('ok');
    expect(w.scan(now + 30_000, 'in')).toBe('passback');
    expect(w.scan(now + 60_000, 'out')).toBe('ok');
    expect(w.scan(now + 90_000, 'in')).toBe('ok');
    expect(w.state()).toMatchObject({ useCount: 2, lastDirection: 'in' });
  });

  it('DEC-6, DEC-12: a denial leaves the state as it was', () => {
    const s: PassState = { useCount: 2, lastDirection: 'out', lastTotpStep: 5, lastAt: now - 60_000 };
    const d = decide({ kind: 'malformed', detail: 'x' }, undefined, undefined, gate, s, now);
    expect(nextPassState(s, d, 'in', now)).toEqual(s);
    expect(nextPassState(undefined, d, 'in', now)).toEqual(EMPTY_PASS_STATE);
  });

  it('DEC-9, DEC-12: exits do not count as uses', () => {
    const p = pass({ type: 'multi' });
    const d = decide(
      parseCredential(encodeStaticQr({ passId: p.id, validFrom: p.validFrom, validTo: p.validTo }, key)),
      p,
      rule,
      { ...gate, direction: 'out' },
      undefined,
      now,
    );
    expect(nextPassState(undefined, d, 'out', now)).toEqual({ useCount: 0, lastDirection: 'out', lastTotpStep: null, lastAt: now });
  });

  it('DEC-9: maxUses: single is 1 whatever the record says; multi takes the pass, then the rule', () => {
    expect(effectiveMaxUses(pass({ type: 'single', maxUses: 9 }), rule)).toBe(1);
    expect(effectiveMaxUses(pass({ type: 'multi', maxUses: 9 }), { ...rule, maxUses: 2 })).toBe(9);
    expect(effectiveMaxUses(pass({ type: 'multi' }), { ...rule, maxUses: 2 })).toBe(2);
    expect(effectiveMaxUses(pass({ type: 'group' }), rule)).toBeNull();
    expect(effectiveMaxUses(undefined, rule)).toBeNull();
  });

  it('DEC-7: a pass without a rule is limited only by its validity and counts', () => {
    const p = pass({ ruleId: null, type: 'multi' });
    expect(
      decide(parseCredential(dynamicQrAt(p.id, secret, now)), p, undefined, { ...gate, zoneId: 'elsewhere' }, undefined, now).reason,
    ).toBe('ok');
  });

  it('DEC-4: a card credential matches the card pass it was looked up by', () => {
    const p = pass({ totpSecret: null, card: { format: 'raw', number: '77' } });
    const d = decide(parseCredential('CARD:77'), p, rule, gate, undefined, now);
    expect(d).toEqual({ allow: true, reason: 'ok', passId: p.id, credentialKind: 'card', totpStep: null, alert: null });
  });

  it('DEC-4: a QR whose pass id differs from the looked-up pass is unknown (a store bug must not admit anyone)', () => {
    const p = pass();
    expect(decide(parseCredential(dynamicQrAt(uuidv7(), secret, now)), p, rule, gate, undefined, now).reason).toBe('unknown');
  });
});

describe('decide is total (property)', () => {
  const reasons = new Set<string>(REASONS);
  it('DEC-1, DEC-2: returns a known reason, allow iff ok, and never throws for random inputs and states', () => {
    const arbState = fc.option(
      fc.record({
        useCount: fc.nat(5),
        lastDirection: fc.constantFrom<'in' | 'out' | null>('in', 'out', null),
        lastTotpStep: fc.option(fc.integer({ min: 0, max: 2 ** 31 }), { nil: null }),
        lastAt: fc.option(fc.integer({ min: now - 1e8, max: now + 1e8 }), { nil: null }),
      }),
      { nil: undefined },
    );
    // The rule's newer knobs (DEC-11, DEC-14, DEC-15) and the gate's calendar and escort time vary too.
    const arbRule = fc.record({
      antiPassback: fc.constantFrom<RuleRecord['antiPassback']>('off', 'soft', 'hard'),
      passbackMinutes: fc.option(fc.integer({ min: 1, max: 600 }), { nil: null }),
      escortRequired: fc.boolean(),
      escortSeconds: fc.integer({ min: 1, max: 600 }),
      holidays: fc.constantFrom<RuleRecord['holidays']>('observe', 'ignore'),
    });
    const arbGate = fc.record({
      escortAt: fc.option(fc.integer({ min: now - 1e8, max: now + 1e8 }), { nil: null }),
      closedToday: fc.boolean(),
    });
    const arbPass = fc.record({
      type: fc.constantFrom<PassRecord['type']>('single', 'multi', 'group'),
      status: fc.constantFrom<PassRecord['status']>('draft', 'active', 'revoked', 'expired'),
      validFrom: fc.integer({ min: now - 1e8, max: now + 1e8 }),
      span: fc.integer({ min: 1, max: 1e9 }),
      maxUses: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
    });
    fc.assert(
      fc.property(
        arbPass,
        arbState,
        fc.boolean(),
        fc.constantFrom<'in' | 'out'>('in', 'out'),
        fc.constantFrom('dynamic', 'static', 'garbage'),
        fc.integer({ min: now - 1e8, max: now + 1e8 }),
        arbRule,
        arbGate,
        (pp, state, lockdown, direction, kind, at, rr, gg) => {
          const p = pass({
            type: pp.type,
            status: pp.status,
            validFrom: pp.validFrom,
            validTo: pp.validFrom + pp.span,
            maxUses: pp.maxUses,
          });
          const text =
            kind === 'dynamic'
              ? dynamicQrAt(p.id, secret, at)
              : kind === 'static'
                ? encodeStaticQr({ passId: p.id, validFrom: p.validFrom, validTo: p.validTo }, key)
                : `GHD1:${p.id}`;
          const r: RuleRecord = { ...rule, ...rr };
          const holidays = new Map(gg.closedToday ? [[localDate(at, gate.timezone), { kind: 'closed' as const, windows: [] }]] : []);
          const d = decide(parseCredential(text), p, r, { ...gate, lockdown, direction, escortAt: gg.escortAt, holidays }, state, at);
          expect(reasons.has(d.reason)).toBe(true);
          expect(d.allow).toBe(d.reason === 'ok');
          if (d.alert !== null) expect(d.allow && r.antiPassback === 'soft').toBe(true);
          if (direction === 'out') expect(['holiday', 'escort_required', 'passback', 'used_up']).not.toContain(d.reason);
          if (p.status === 'revoked' && kind !== 'garbage') expect(d.reason).toBe('revoked');
          if (lockdown) expect(d.allow).toBe(false);
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe('mergePresence (SPEC SYNC-3)', () => {
  const local: PassState = { useCount: 2, lastDirection: 'in', lastTotpStep: 7, lastAt: now };
  it('takes the larger use count, and the in/out side set later', () => {
    expect(mergePresence(local, { useCount: 3, lastDirection: 'out', lastAt: now + 1 })).toEqual({
      useCount: 3,
      lastDirection: 'out',
      lastTotpStep: 7,
      lastAt: now + 1,
    });
    expect(mergePresence(local, { useCount: 1, lastDirection: 'out', lastAt: now - 1 })).toEqual(local);
  });
  it("a guard's forgiveness clears an earlier entry but not a later one", () => {
    expect(mergePresence(local, { useCount: 2, lastDirection: null, lastAt: now + 5 }).lastDirection).toBeNull();
    expect(mergePresence(local, { useCount: 2, lastDirection: null, lastAt: now - 5 }).lastDirection).toBe('in');
  });
  it('a pass the edge never saw takes the cloud state as it is', () => {
    expect(mergePresence(undefined, { useCount: 1, lastDirection: 'in', lastAt: now })).toEqual({
      useCount: 1,
      lastDirection: 'in',
      lastTotpStep: null,
      lastAt: now,
    });
  });
});
