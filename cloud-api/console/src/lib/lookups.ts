import { useQueries } from '@tanstack/react-query';
import { getAll } from './api.ts';
import { can, type Permission } from './permissions.ts';
import { keys, PATHS, queryClient } from './query.ts';
import type { AccessRule, Appointment, Gate, Host, Site, User, Visitor, Zone } from './types.ts';

/** Reference lists the screens show names from (a gate's site, a pass's visitor). Cached per tab until a write invalidates them. */
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

const PERMS: Record<LookupKind, Permission> = {
  sites: 'sites:read',
  zones: 'zones:read',
  gates: 'gates:read',
  rules: 'rules:read',
  visitors: 'visitors:read',
  hosts: 'hosts:read',
  users: 'users:read',
  appointments: 'appointments:read',
};

export function lookupQuery<K extends LookupKind>(kind: K) {
  const path = PATHS[kind];
  return {
    queryKey: keys.all(path),
    queryFn: (): Promise<Kinds[K][]> => (can(PERMS[kind]) ? getAll<Kinds[K]>(path) : Promise.resolve([])),
    staleTime: Number.POSITIVE_INFINITY,
  };
}

export function fetchLookup<K extends LookupKind>(kind: K): Promise<Kinds[K][]> {
  return queryClient.fetchQuery(lookupQuery(kind));
}

export type Lookups = { [K in LookupKind]?: Map<string, Kinds[K]> };

/** The lists as maps by id; a list that fails to load is empty (names fall back to a short id). */
export function useLookups(kinds: LookupKind[]): { lookups: Lookups; ready: boolean } {
  return useQueries({
    queries: kinds.map((k) => lookupQuery(k)),
    combine: (results) => {
      const lookups: Record<string, Map<string, unknown>> = {};
      kinds.forEach((k, i) => {
        lookups[k] = new Map(((results[i]?.data ?? []) as { id: string }[]).map((x) => [x.id, x]));
      });
      return { lookups: lookups as Lookups, ready: results.every((r) => !r.isPending) };
    },
  });
}

export function nameOf(map: Map<string, { name?: string; fullName?: string }> | undefined, id: string | null | undefined): string {
  if (!id) return '—';
  const x = map?.get(id);
  return x?.name ?? x?.fullName ?? `…${id.slice(-6)}`;
}
