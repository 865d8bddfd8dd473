import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type Page, type Query } from './api.ts';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `fn` on mount and whenever `deps` change; drops answers that arrive after a newer request. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const gen = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's
  useEffect(() => {
    const my = ++gen.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    fn().then(
      (data) => my === gen.current && setState({ data, error: null, loading: false }),
      (error: unknown) => my === gen.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export interface Paged<T> {
  items: T[];
  loading: boolean;
  error: unknown;
  hasMore: boolean;
  loadMore: () => void;
  reload: () => void;
}

/** A cursor-paginated list: first page on mount or when the query changes, more on demand. */
export function usePaged<T>(path: string, query: Query, pageSize = 50): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const gen = useRef(0);
  const key = JSON.stringify(query);
  const fetchPage = useCallback(
    async (from: string | null, append: boolean) => {
      const my = ++gen.current;
      setLoading(true);
      setError(null);
      try {
        const pg = await api.get<Page<T>>(path, { ...(JSON.parse(key) as Query), limit: pageSize, cursor: from });
        if (my !== gen.current) return;
        setItems((prev) => (append ? [...prev, ...pg.items] : pg.items));
        setCursor(pg.nextCursor);
      } catch (e) {
        if (my === gen.current) setError(e);
      } finally {
        if (my === gen.current) setLoading(false);
      }
    },
    [path, key, pageSize],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick forces a reload
  useEffect(() => {
    void fetchPage(null, false);
  }, [fetchPage, tick]);
  return {
    items,
    loading,
    error,
    hasMore: cursor !== null,
    loadMore: () => void fetchPage(cursor, true),
    reload: () => setTick((t) => t + 1),
  };
}
