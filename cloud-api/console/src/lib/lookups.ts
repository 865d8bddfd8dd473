import { useQueries } from '@tanstack/react-query';
import { getAll } from './api.ts';
import { can, type Permission } from './permissions.ts';
import { keys, PATHS, queryClient } from './query.ts';
import type { AccessRule, Gate, Site, Zone } from './types.ts';

/**
 * Reference lists the screens show names from (a gate's site, a rule's zones), cached per tab until a write
 * invalidates them: the short lists of an organisation only. People and appointments are more than a console can
 * load at a large organisation: their rows come named by the server, and pickers ask it (lib/people.ts).
 */
interface Kinds {
  sites: Site;
  zones: Zone;
  gates: Gate;
  rules: AccessRule;
}
export type LookupKind = keyof Kinds;

const PERMS: Record<LookupKind, Permission> = {
  sites: 'sites:read',
  zones: 'zones:read',
  gates: 'gates:read',
  rules: 'rules:read',
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

/** What stands for a name the console cannot show: the id's tail. */
export const shortId = (id: string) => `…${id.slice(-6)}`;

export function nameOf(map: Map<string, { name?: string; fullName?: string }> | undefined, id: string | null | undefined): string {
  if (!id) return '—';
  const x = map?.get(id);
  return x?.name ?? x?.fullName ?? shortId(id);
}
