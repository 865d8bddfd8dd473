import { api } from '../../lib/api.ts';
import { keys, PATHS } from '../../lib/query.ts';
import type { Credential, Pass } from '../../lib/types.ts';

export const passQuery = (id: string) => ({
  queryKey: keys.one(PATHS.passes, id),
  queryFn: () => api.get<Pass>(`${PATHS.passes}/${id}`),
});

/**
 * A pass's QR text. Kept out of the passes' keys: a write to a pass (a
 * revocation) must not ask for the code of a pass that can no longer have one
 * (409); the pass refetches, is no longer live, and the codes leave the screen.
 */
export const credentialQuery = (id: string, kind: 'dynamic' | 'static') => ({
  queryKey: ['credential', id, kind] as const,
  queryFn: () => api.get<Credential>(`${PATHS.passes}/${id}/credential`, { kind }),
});
