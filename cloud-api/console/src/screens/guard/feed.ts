import { fetchLookup } from '../../lib/lookups.ts';
import { queryClient } from '../../lib/query.ts';
import type { Checkin } from '../../lib/types.ts';
import { passQuery } from '../passes/queries.ts';

/** One line of the guard's feed: a check-in, an alarm or a revocation. */
export interface FeedItem {
  key: string;
  kind: 'checkin' | 'alarm' | 'revoked';
  at: string;
  allow?: boolean;
  reason?: string;
  visitor?: string;
  host?: string;
  gateId?: string;
  direction?: string;
  text?: string;
  fresh?: boolean;
}

export const MAX_FEED = 200;

/** A pass as the feed names it: cached for the tab, null when it cannot be read. */
const passOf = (id: string) => queryClient.fetchQuery({ ...passQuery(id), staleTime: Number.POSITIVE_INFINITY }).catch(() => null);

/** Visitor and host names of a check-in, from its pass and the pass's appointment. */
async function describe(c: Checkin): Promise<{ visitor: string; host: string }> {
  if (!c.passId) return { visitor: c.credentialKind === 'card' ? 'Unknown card' : 'Unknown credential', host: '—' };
  const pass = await passOf(c.passId);
  if (!pass) return { visitor: `Pass …${c.passId.slice(-6)}`, host: '—' };
  const [visitors, appts, hosts] = await Promise.all([fetchLookup('visitors'), fetchLookup('appointments'), fetchLookup('hosts')]);
  const visitor = visitors.find((v) => v.id === pass.visitorId)?.fullName ?? `Visitor …${pass.visitorId.slice(-6)}`;
  const appt = pass.appointmentId ? appts.find((a) => a.id === pass.appointmentId) : undefined;
  const host = appt ? (hosts.find((h) => h.id === appt.hostId)?.fullName ?? '—') : '—';
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
