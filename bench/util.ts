/** What the benches share: waiting, percentiles, and the one-gate site they seed an edge with. */
import type { PassRecord, RuleRecord } from '@gatehouse/protocol';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until fn gives a truthy value. The test helpers' until polls coarsely; a bench measuring propagation
 * polls every few ms so the poll does not become the figure.
 */
export async function until<T>(fn: () => T | Promise<T>, what: string, ms: number, everyMs: number): Promise<NonNullable<T>> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Nearest-rank percentile (p in percent) of an ascending array; NaN when it is empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** p50, p99 and max of unsorted samples. */
export function summary(xs: readonly number[]): { p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? Number.NaN };
}

/** A snapshot for parseSeed: site-1 with one gate (gate-1) in one zone (zone-1) and one rule (rule-1). */
export function oneGateSeed(o: { timezone: string; rule?: Partial<RuleRecord>; passes?: PassRecord[]; orgPublicKey?: string }) {
  const rule: RuleRecord = {
    id: 'rule-1',
    zoneIds: ['zone-1'],
    weekdays: [],
    timeWindows: [],
    maxUses: null,
    antiPassback: 'off',
    passbackMinutes: null,
    escortRequired: false,
    escortSeconds: 60,
    holidays: 'observe',
    ...o.rule,
  };
  return {
    gateId: 'gate-1',
    site: { id: 'site-1', name: 'HQ', timezone: o.timezone },
    gates: [{ id: 'gate-1', siteId: 'site-1', zoneId: 'zone-1', name: 'Main', direction: 'both', lockdown: false, emergency: false }],
    zones: [{ id: 'zone-1', siteId: 'site-1', name: 'Lobby' }],
    rules: [rule],
    passes: o.passes ?? [],
    ...(o.orgPublicKey ? { orgPublicKey: o.orgPublicKey } : {}),
  };
}

/** The raw floors' check-in INSERT: `rows` rows of 12 parameters each (id … occurred_at), driver-level, no ORM. */
export function checkinInsertText(rows: number): string {
  const cols = 12;
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const ps: string[] = [];
    for (let c = 1; c <= cols; c++) ps.push(`$${r * cols + c}`);
    tuples.push(`(${ps.join(',')})`);
  }
  return `insert into checkins (id, org_id, site_id, gate_id, pass_id, device_id, type, credential_kind, direction, allow, reason, occurred_at)
    values ${tuples.join(',')} on conflict (id, occurred_at) do nothing returning id`;
}
