/**
 * decide(): the access decision (SPEC DEC-1..DEC-15). Pure: the caller looks
 * up the pass, its rule and its state, and applies `nextPassState` when the
 * gate actually lets the person through. The cloud runs the same function
 * to answer "would this pass open gate X at time T?".
 *
 * Precedence (DEC-2), first match wins, direction `in`:
 *   malformed → bad_signature → unknown → revoked → lockdown →
 *   not_yet_valid → expired → bad_code → replay → wrong_zone | wrong_site →
 *   outside_schedule → holiday → used_up → passback → escort_required → ok
 * Integrity comes first because until the credential checks, its pass id
 * cannot be trusted; then revocation, which wins over everything about the
 * pass (a revoked pass is `revoked` whatever else is wrong with it); then the
 * gate's own lockdown; then time, code, place, and counts.
 * Direction `out` (DEC-10) stops after replay: leaving is never blocked by
 * schedule, zone, use count, validity, anti-passback, holidays or escort.
 */
import { type Credential, type ParsedCredential, siteTag, verifyStatic } from './credentials.js';
import type { HolidayRecord, PassRecord, RuleRecord } from './messages.js';
import type { Reason } from './reasons.js';
import { inSchedule, localDate, wallClock } from './schedule.js';
import type { KeyRing } from './signing.js';
import { totpVerify } from './totp.js';

export type Direction = 'in' | 'out';
export type CredentialKind = Credential['kind'] | 'none';

/** The gate as the decision needs it: where it is, which way this reader faces, and the org's keys. */
export interface GateContext {
  gateId: string;
  zoneId: string;
  /** The gate's site: a scoped static QR of a pass not in the cache opens only the sites it names (DEC-13). */
  siteId: string;
  /** IANA time zone of the gate's site. */
  timezone: string;
  direction: Direction;
  lockdown: boolean;
  keys: KeyRing;
  /** DEC-14: the site's calendar by local date ("YYYY-MM-DD"); absent = no holidays. */
  holidays?: ReadonlyMap<string, Pick<HolidayRecord, 'kind' | 'windows'>>;
  /** DEC-15: when a valid escort credential was last shown at this gate (epoch ms); absent = none. */
  escortAt?: number | null;
}

/** Per-pass state an edge keeps between scans. */
export interface PassState {
  /** Entries (`in`) counted so far. */
  useCount: number;
  lastDirection: Direction | null;
  /** TOTP step of the last accepted dynamic code (DEC-6). */
  lastTotpStep: number | null;
  /** When the pass last went through (epoch ms): timed anti-passback, and ordering against the cloud's state (SYNC-3). */
  lastAt: number | null;
}

export interface Decision {
  allow: boolean;
  reason: Reason;
  passId: string | null;
  credentialKind: CredentialKind;
  /** TOTP step the code matched, for the replay state; null for other kinds. */
  totpStep: number | null;
  /** Admitted, but to be reported: an entry after an entry under a soft anti-passback rule (DEC-11). */
  alert: 'passback' | null;
}

export const EMPTY_PASS_STATE: Readonly<PassState> = Object.freeze({ useCount: 0, lastDirection: null, lastTotpStep: null, lastAt: null });

/** DEC-9: how many entries a pass allows; null = unlimited. */
export function effectiveMaxUses(pass: PassRecord | undefined, rule: RuleRecord | undefined): number | null {
  if (!pass) return null;
  if (pass.type === 'single') return 1;
  return pass.maxUses ?? rule?.maxUses ?? null;
}

export function decide(
  credential: ParsedCredential,
  pass: PassRecord | undefined,
  rule: RuleRecord | undefined,
  gate: GateContext,
  state: PassState | undefined,
  now: number,
): Decision {
  const kind: CredentialKind = credential.kind === 'malformed' ? 'none' : credential.kind;
  let totpStep: number | null = null;
  let alert: Decision['alert'] = null;
  const passId = pass?.id ?? (credential.kind === 'dynamic' || credential.kind === 'static' ? credential.passId : null);
  const result = (reason: Reason): Decision => ({
    allow: reason === 'ok',
    reason,
    passId,
    credentialKind: kind,
    totpStep,
    alert: reason === 'ok' ? alert : null,
  });

  // DEC-3: integrity.
  if (credential.kind === 'malformed') return { ...result('malformed'), passId: null };
  if (credential.kind === 'static' && !verifyStatic(credential, gate.keys)) return result('bad_signature');

  // DEC-4: a pass must be known — except a well-signed static QR, which carries its own validity (CRED-5).
  if (!pass && credential.kind !== 'static') return result('unknown');
  if (pass && credential.kind !== 'card' && pass.id !== credential.passId) return result('unknown');

  if (pass?.status === 'revoked') return result('revoked');
  if (gate.lockdown) return result('lockdown');

  const out = gate.direction === 'out';
  if (!out) {
    // DEC-5: the validity window is the pass's, narrowed by a static QR's own.
    let from = pass?.validFrom ?? Number.NEGATIVE_INFINITY;
    let to = pass?.validTo ?? Number.POSITIVE_INFINITY;
    if (credential.kind === 'static') {
      from = Math.max(from, credential.validFrom);
      to = Math.min(to, credential.validTo);
    }
    if (pass?.status === 'draft' || now < from) return result('not_yet_valid');
    if (pass?.status === 'expired' || now >= to) return result('expired');
  }

  if (credential.kind === 'dynamic' && pass) {
    // DEC-6: the code is checked against the pass's own secret, then must be newer than the last one accepted.
    const step = pass.totpSecret ? totpVerify(pass.totpSecret, credential.code, now) : null;
    if (step === null) return result('bad_code');
    totpStep = step;
    if (state?.lastTotpStep != null && step <= state.lastTotpStep) return result('replay');
  }

  if (out) return result('ok');

  // DEC-13: a scoped static QR of a pass the edge does not hold is admitted only at a site it names.
  if (!pass && credential.kind === 'static' && credential.sites !== null && !credential.sites.includes(siteTag(gate.siteId)))
    return result('wrong_site');

  if (pass?.ruleId != null) {
    // DEC-7: a pass whose rule is not in the cache is not known to be allowed here.
    if (!rule || rule.id !== pass.ruleId || !rule.zoneIds.includes(gate.zoneId)) return result('wrong_zone');
    const clock = wallClock(now, gate.timezone);
    if (!inSchedule(clock, rule.weekdays, rule.timeWindows)) return result('outside_schedule');
    // DEC-14: a closed day closes the rule; special hours narrow it to their windows.
    const day = rule.holidays === 'observe' ? gate.holidays?.get(localDate(now, gate.timezone)) : undefined;
    if (day && (day.kind === 'closed' || !inSchedule(clock, [], day.windows))) return result('holiday');
  }

  const maxUses = effectiveMaxUses(pass, rule);
  if (maxUses !== null && (state?.useCount ?? 0) >= maxUses) return result('used_up');

  // DEC-11: in after in without an out — unless timed out, and never for a group pass, whose members enter one by one.
  const mode = rule?.antiPassback ?? 'hard';
  if (mode !== 'off' && pass?.type !== 'group' && state?.lastDirection === 'in') {
    const forgiven = rule?.passbackMinutes != null && state.lastAt !== null && now - state.lastAt >= rule.passbackMinutes * 60_000;
    if (!forgiven) {
      if (mode === 'hard') return result('passback');
      alert = 'passback';
    }
  }

  // DEC-15: an escorted visitor needs an escort's credential at this gate within the rule's window; an escort needs none.
  if (rule?.escortRequired && pass?.ruleId === rule.id && !pass.escort) {
    const at = gate.escortAt;
    if (at == null || Math.abs(now - at) > rule.escortSeconds * 1000) return result('escort_required');
  }

  return result('ok');
}

/** DEC-12: the state after the person actually went through at `at`; unchanged for a denial. */
export function nextPassState(state: PassState | undefined, decision: Decision, direction: Direction, at: number): PassState {
  const s = state ?? EMPTY_PASS_STATE;
  if (!decision.allow) return { ...s };
  return {
    useCount: s.useCount + (direction === 'in' ? 1 : 0),
    lastDirection: direction,
    lastTotpStep: decision.totpStep ?? s.lastTotpStep,
    lastAt: at,
  };
}

/**
 * SYNC-3: the edge's own state merged with the cloud's view of the pass at every gate of the site. Counts only
 * grow (the larger wins); the in/out side is whichever was set later, so a guard's forgiveness (null at the
 * time it was given) overrides an older entry but not a newer one.
 */
export function mergePresence(
  local: PassState | undefined,
  cloud: { useCount: number; lastDirection: Direction | null; lastAt: number | null },
): PassState {
  const s = local ?? EMPTY_PASS_STATE;
  const cloudNewer = cloud.lastAt !== null && (s.lastAt === null || cloud.lastAt >= s.lastAt);
  return {
    useCount: Math.max(s.useCount, cloud.useCount),
    lastDirection: cloudNewer ? cloud.lastDirection : s.lastDirection,
    lastTotpStep: s.lastTotpStep,
    lastAt: cloudNewer ? cloud.lastAt : s.lastAt,
  };
}
