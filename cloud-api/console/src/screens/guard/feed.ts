import type { Checkin } from '../../lib/types.ts';

/**
 * Who a check-in was, as far as the console can tell. Kept as facts, not
 * words: the feed outlives a language switch, so the words are chosen when
 * it is drawn (guard/words.ts).
 */
export type Who =
  | { name: string }
  | { unknown: 'card' | 'credential' }
  /** A pass this user cannot read, by the tail of its id. */
  | { pass: string }
  /** A visitor not in the list, by the tail of their id. */
  | { visitor: string };

/** One line of the guard's feed: a check-in, an alarm or a revocation. */
export interface FeedItem {
  key: string;
  kind: 'checkin' | 'alarm' | 'revoked';
  at: string;
  allow?: boolean;
  reason?: string;
  visitor?: Who;
  /** The host's name, or null when the visit has none. */
  host?: string | null;
  gateId?: string;
  direction?: string;
  /**
   * A door or reader condition the check-in carried (a forced passage, an ALARM-1 event): drawn as an
   * alarm line, not as a denial of somebody.
   */
  condition?: { kind: string; state: 'raised' | 'cleared' };
  /** Admitted, but a soft anti-passback rule reports it (DEC-11). */
  alert?: string;
  /** The pass of a check-in, for actions on it (forgiving a passback). */
  passId?: string | null;
  /** An alarm's own message (the server's), when it has one. */
  text?: string;
  /** A revocation: whose pass, and why. */
  revoked?: { who: string; reason: string | null };
  fresh?: boolean;
}

export const MAX_FEED = 200;

/**
 * Visitor and host names of a check-in, as the server sends them with it (the
 * list and the live event alike: joined and opened there, so the feed costs
 * no request per line). A pass whose visitor this user may not see is named
 * by the tail of its id.
 */
function describe(c: Checkin): { visitor: Who; host: string | null } {
  if (!c.passId) return { visitor: { unknown: c.credentialKind === 'card' ? 'card' : 'credential' }, host: null };
  return { visitor: c.visitorName ? { name: c.visitorName } : { pass: c.passId.slice(-6) }, host: c.hostName ?? null };
}

function conditionOf(c: Checkin): FeedItem['condition'] {
  if (c.type === 'forced') return { kind: 'forced', state: 'raised' };
  if (c.type === 'alarm' && c.alarm) return { kind: c.alarm.kind, state: c.alarm.state };
  return undefined;
}

export function toItem(c: Checkin, fresh: boolean): FeedItem {
  const d = describe(c);
  const condition = conditionOf(c);
  return {
    key: c.id,
    kind: 'checkin',
    at: c.occurredAt,
    allow: c.allow,
    reason: c.reason,
    visitor: d.visitor,
    host: d.host,
    gateId: c.gateId,
    direction: c.direction,
    passId: c.passId,
    ...(condition ? { condition } : {}),
    ...(c.alert ? { alert: c.alert } : {}),
    fresh,
  };
}
