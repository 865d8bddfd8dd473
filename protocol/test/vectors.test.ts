import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vectors } from '../scripts/make-vectors.js';
import {
  cardKey,
  decide,
  type GateContext,
  type HolidayRecord,
  KeyRing,
  openMessage,
  type PassRecord,
  type PassState,
  parseCredential,
  REASONS,
  type RuleRecord,
  totpCode,
} from '../src/index.js';

const dir = new URL('../test-vectors/', import.meta.url);
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as T;

interface KeySet {
  [name: string]: { kid: string; publicKey: string; privateKey: string };
}
interface DecisionCase {
  name: string;
  spec: string[];
  now: number;
  input: string;
  gate: Omit<GateContext, 'keys' | 'holidays'> & { holidays?: HolidayRecord[] };
  keys: string[];
  pass: PassRecord | null;
  rule: RuleRecord | null;
  state: PassState | null;
  expect: { allow: boolean; reason: string; alert?: string | null };
}

/** Vector inputs starting with `hex:` are raw bytes from a reader, not text. */
function vectorInput(input: string): string | Uint8Array {
  return input.startsWith('hex:') ? Uint8Array.from(Buffer.from(input.slice(4), 'hex')) : input;
}

const decisions = load<{ keys: KeySet; cases: DecisionCase[] }>('decisions.json');

describe('decision vectors (SPEC DEC-*)', () => {
  // Each case is named after the SPEC rules it proves (its `spec` list), e.g. "DEC-4: card not in the cache".
  it.each(decisions.cases.map((c) => [`${c.spec.join(', ')}: ${c.name}`, c] as const))('%s', (_name, c) => {
    const ring = new KeyRing(c.keys.map((k) => decisions.keys[k]?.publicKey ?? ''));
    const credential = parseCredential(vectorInput(c.input));
    // The lookup a store does: by pass id for QR codes, by card key for cards.
    let pass: PassRecord | undefined;
    if (c.pass && credential.kind === 'card') pass = c.pass.card && cardKey(c.pass.card) === cardKey(credential) ? c.pass : undefined;
    else if (c.pass && (credential.kind === 'dynamic' || credential.kind === 'static'))
      pass = c.pass.id === credential.passId ? c.pass : undefined;
    const holidays = new Map((c.gate.holidays ?? []).map((h) => [h.date, h] as const));
    const d = decide(credential, pass, c.rule ?? undefined, { ...c.gate, holidays, keys: ring }, c.state ?? undefined, c.now);
    // A case that names an alert checks it too (DEC-11 soft mode).
    const got = 'alert' in c.expect ? { allow: d.allow, reason: d.reason, alert: d.alert } : { allow: d.allow, reason: d.reason };
    expect(got).toEqual(c.expect);
  });

  it('DEC-1: covers every reason decide() can give (all but `manual`, which only a command produces)', () => {
    const seen = new Set(decisions.cases.map((c) => c.expect.reason));
    expect([...REASONS].filter((r) => r !== 'manual' && !seen.has(r))).toEqual([]);
  });

  it('names a SPEC rule in every case', () => {
    for (const c of decisions.cases) expect(c.spec.length, c.name).toBeGreaterThan(0);
  });
});

describe('credential vectors (SPEC CRED-*)', () => {
  const creds = load<{
    credentials: { name: string; input: string; expect: Record<string, unknown> }[];
    totp: { secret: string; time: number; code: string }[];
    cardKeys: { card: { format: 'w26' | 'w34' | 'raw'; number: string }; key: string }[];
  }>('credentials.json');

  it.each(creds.credentials.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    expect(parseCredential(vectorInput(c.input))).toMatchObject(c.expect);
  });
  it.each(creds.totp)('CRED-2: RFC 6238 at t=$time is $code', ({ secret, time, code }) => {
    expect(totpCode(secret, time * 1000)).toBe(code);
  });
  it.each(creds.cardKeys)('CRED-8: card key $key', ({ card, key }) => {
    expect(cardKey(card)).toBe(key);
  });
});

describe('signing vectors (SPEC SIGN-3, SIGN-4)', () => {
  const signing = load<{
    keys: KeySet;
    cases: {
      name: string;
      envelope: string;
      expect: { orgId: string; deviceId: string; lastSeq: number };
      result: { ok: boolean; seq?: number; error?: string };
    }[];
  }>('signing.json');
  const ring = new KeyRing([signing.keys.org?.publicKey ?? '']);

  it.each(signing.cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const r = openMessage(c.envelope, ring, c.expect);
    if (c.result.ok) {
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.message.seq).toBe(c.result.seq);
    } else {
      expect(r).toEqual({ ok: false, error: c.result.error });
    }
  });
});

describe('vector files', () => {
  it('are exactly what scripts/make-vectors.ts produces (no drift between code and vectors)', () => {
    for (const [name, data] of Object.entries(vectors)) {
      expect(readFileSync(new URL(name, dir), 'utf8'), name).toBe(`${JSON.stringify(data, null, 2)}\n`);
    }
  });
});

// That every rule of SPEC.md is cited by some test, and no test cites a rule it lacks: test/spec-coverage.test.ts.
describe('SPEC.md', () => {
  const spec = readFileSync(new URL('../SPEC.md', import.meta.url), 'utf8');
  it('defines every rule the vectors name, and every DEC rule is exercised by a vector', () => {
    const named = new Set(decisions.cases.flatMap((c) => c.spec));
    for (const rule of named) expect(spec, rule).toContain(`**${rule}**`);
    const decRules = [...spec.matchAll(/\*\*(DEC-\d+)\*\*/g)].map((m) => m[1]);
    expect(decRules.length).toBeGreaterThan(10);
    expect(decRules.filter((r) => r !== 'DEC-1' && r !== 'DEC-12' && !named.has(r ?? ''))).toEqual([]);
  });
});
