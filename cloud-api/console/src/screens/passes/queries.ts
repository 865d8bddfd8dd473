import { api } from '../../lib/api.ts';
import { keys, PATHS } from '../../lib/query.ts';
import type { Credential, Pass } from '../../lib/types.ts';

export const passQuery = (id: string) => ({
  queryKey: keys.one(PATHS.passes, id),
  queryFn: () => api.get<Pass>(`${PATHS.passes}/${id}`),
});

/** A pass's QR text; under the pass's key, so a revocation drops it with the pass. */
export const credentialQuery = (id: string, kind: 'dynamic' | 'static') => ({
  queryKey: [...keys.one(PATHS.passes, id), 'credential', kind] as const,
  queryFn: () => api.get<Credential>(`${PATHS.passes}/${id}/credential`, { kind }),
});
