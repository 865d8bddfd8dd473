import { useEffect, useState } from 'react';
import { getAll } from './api.ts';
import { can, type Permission } from './permissions.ts';
import type { AccessRule, Appointment, Gate, Host, Site, User, Visitor, Zone } from './types.ts';

/** Reference lists the screens show names from (a gate's site, a pass's visitor). Cached per tab, dropped on writes. */
interface Kinds {
  sites: Site;
  zones: Zone;
  gates: Gate;
  rules: AccessRule;
  visitors: Visitor;
  hosts: Host;
  users: User;
  appointments: Appointment;
}
export type LookupKind = keyof Kinds;

const SOURCES: Record<LookupKind, { path: string; perm: Permission }> = {
  sites: { path: '/api/admin/sites', perm: 'sites:read' },
  zones: { path: '/api/admin/zones', perm: 'zones:read' },
  gates: { path: '/api/admin/gates', perm: 'gates:read' },
  rules: { path: '/api/admin/access-rules', perm: 'rules:read' },
  visitors: { path: '/api/admin/visitors', perm: 'visitors:read' },
  hosts: { path: '/api/admin/hosts', perm: 'hosts:read' },
  users: { path: '/api/admin/users', perm: 'users:read' },
  appointments: { path: '/api/admin/appointments', perm: 'appointments:read' },
};

const cache = new Map<LookupKind, Promise<unknown[]>>();
const listeners = new Set<() => void>();

export function invalidate(kind?: LookupKind): void {
  if (kind) cache.delete(kind);
  else cache.clear();
  for (const l of listeners) l();
}

export function fetchLookup<K extends LookupKind>(kind: K): Promise<Kinds[K][]> {
  let p = cache.get(kind);
  if (!p) {
    const src = SOURCES[kind];
    p = can(src.perm) ? getAll<Kinds[K]>(src.path) : Promise.resolve([]);
    p.catch(() => cache.delete(kind));
    cache.set(kind, p);
  }
  return p as Promise<Kinds[K][]>;
}

export type Lookups = { [K in LookupKind]?: Map<string, Kinds[K]> };

export function useLookups(kinds: LookupKind[]): { lookups: Lookups; ready: boolean } {
  const [state, setState] = useState<{ lookups: Lookups; ready: boolean }>({ lookups: {}, ready: false });
  const [tick, setTick] = useState(0);
  const key = kinds.join(',');
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-reads after invalidation
  useEffect(() => {
    let alive = true;
    const ks = key ? (key.split(',') as LookupKind[]) : [];
    Promise.all(ks.map((k) => fetchLookup(k).catch(() => [] as unknown[]))).then((lists) => {
      if (!alive) return;
      const out: Record<string, Map<string, unknown>> = {};
      ks.forEach((k, i) => {
        out[k] = new Map((lists[i] as { id: string }[]).map((x) => [x.id, x]));
      });
      setState({ lookups: out as Lookups, ready: true });
    });
    return () => {
      alive = false;
    };
  }, [key, tick]);
  return state;
}

export function nameOf(map: Map<string, { name?: string; fullName?: string }> | undefined, id: string | null | undefined): string {
  if (!id) return '—';
  const x = map?.get(id);
  return x?.name ?? x?.fullName ?? `…${id.slice(-6)}`;
}
