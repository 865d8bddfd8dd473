import { keepPreviousData, QueryClient, useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, type Page, type Query } from './api.ts';
import { getSession, onSessionChange } from './session.ts';

/**
 * The console's one cache of server data (TanStack Query). Every key starts
 * with the API path of its resource (`['/api/admin/passes', 'one', id]`), so a
 * write to a resource invalidates everything read from it — its lists, its
 * lookups, its detail pages — with one `invalidate(path)`.
 */
export const queryClient = new QueryClient({
  defaultOptions: {
    // As before the library: an error shows at once, and nothing refetches behind the user's back.
    queries: { retry: false, refetchOnWindowFocus: false, refetchOnReconnect: false },
    mutations: { retry: false },
  },
});

export const PATHS = {
  sites: '/api/admin/sites',
  zones: '/api/admin/zones',
  gates: '/api/admin/gates',
  rules: '/api/admin/access-rules',
  users: '/api/admin/users',
  hosts: '/api/admin/hosts',
  visitors: '/api/admin/visitors',
  appointments: '/api/admin/appointments',
  passes: '/api/admin/passes',
  checkins: '/api/admin/checkins',
  dashboard: '/api/admin/dashboard',
  audit: '/api/admin/audit-logs',
  alarms: '/api/admin/alarms',
  holidays: '/api/admin/holidays',
  muster: '/api/admin/muster',
} as const;

export const keys = {
  /** A cursor-paginated list with its filters. */
  list: (path: string, query: Query, pageSize: number) => [path, 'list', query, pageSize] as const,
  /** Everything of a resource, for names and selects (lib/lookups.ts). */
  all: (path: string) => [path, 'all'] as const,
  one: (path: string, id: string) => [path, 'one', id] as const,
};

/** After a write: every query read from these resources is stale; the ones on screen refetch now. */
export function invalidate(...paths: string[]): Promise<void> {
  return Promise.all(paths.map((p) => queryClient.invalidateQueries({ queryKey: [p] }))).then(() => undefined);
}

// A different user must not see the previous one's cached data: dropped before the next render.
let cachedFor = getSession()?.user.id;
onSessionChange(() => {
  const id = getSession()?.user.id;
  if (id !== cachedFor) {
    cachedFor = id;
    queryClient.clear();
  }
});

export interface Paged<T> {
  items: T[];
  loading: boolean;
  error: unknown;
  hasMore: boolean;
  loadMore: () => void;
  refetch: () => void;
}

/**
 * A cursor-paginated list: first page on mount or when the query changes (the old rows stay until then), more on demand;
 * with `refetchIntervalMs`, read again that often (a screen whose rows change without events for every change).
 */
export function usePaged<T>(path: string, query: Query, pageSize = 50, opts: { refetchIntervalMs?: number } = {}): Paged<T> {
  const q = useInfiniteQuery({
    queryKey: keys.list(path, query, pageSize),
    queryFn: ({ pageParam }) => api.get<Page<T>>(path, { ...query, limit: pageSize, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    placeholderData: keepPreviousData,
    ...(opts.refetchIntervalMs ? { refetchInterval: opts.refetchIntervalMs } : {}),
  });
  return {
    items: q.data?.pages.flatMap((p) => p.items) ?? [],
    loading: q.isFetching,
    error: q.error,
    hasMore: q.hasNextPage,
    loadMore: () => void q.fetchNextPage(),
    refetch: () => void q.refetch(),
  };
}

/**
 * `value` once it has stopped changing for `ms`: a search box asks the server
 * when the typing pauses, not once per key.
 */
export function useDebounced<T>(value: T, ms = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
