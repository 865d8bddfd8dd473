import { fetchLookup } from '../../lib/lookups.ts';
import { queryClient } from '../../lib/query.ts';
import type { Checkin } from '../../lib/types.ts';
import { passQuery } from '../passes/queries.ts';

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
  /** An alarm's own message (the server's), when it has one. */
  text?: string;
  /** A revocation: whose pass, and why. */
  revoked?: { who: string; reason: string | null };
  fresh?: boolean;
}

export const MAX_FEED = 200;

/** A pass as the feed names it: cached for the tab, null when it cannot be read. */
const passOf = (id: string) => queryClient.fetchQuery({ ...passQuery(id), staleTime: Number.POSITIVE_INFINITY }).catch(() => null);

/** Visitor and host names of a check-in, from its pass and the pass's appointment. */
async function describe(c: Checkin): Promise<{ visitor: Who; host: string | null }> {
  if (!c.passId) return { visitor: { unknown: c.credentialKind === 'card' ? 'card' : 'credential' }, host: null };
  const pass = await passOf(c.passId);
  if (!pass) return { visitor: { pass: c.passId.slice(-6) }, host: null };
  const [visitors, appts, hosts] = await Promise.all([fetchLookup('visitors'), fetchLookup('appointments'), fetchLookup('hosts')]);
  const name = visitors.find((v) => v.id === pass.visitorId)?.fullName;
  const visitor: Who = name ? { name } : { visitor: pass.visitorId.slice(-6) };
  const appt = pass.appointmentId ? appts.find((a) => a.id === pass.appointmentId) : undefined;
  const host = appt ? (hosts.find((h) => h.id === appt.hostId)?.fullName ?? null) : null;
  return { visitor, host };
}

export async function toItem(c: Checkin, fresh: boolean): Promise<FeedItem> {
  const d = await describe(c);
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
    fresh,
  };
}
