import type { HostVisit, Page } from '@gatehouse/cloud-api/api';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../lib/api.ts';

export const HOST_VISITS = {
  visits: '/api/host/visits',
  invitations: '/api/host/invitations',
  cancel: (id: string) => `/api/host/visits/${id}/cancel`,
  resend: (id: string, visitorId: string) => `/api/host/visits/${id}/guests/${visitorId}/resend`,
} as const;

/**
 * How often the guests' states are fetched again. Polling, not the live feed:
 * the feed carries check-ins for guards, not a guest opening a link or signing in.
 */
export const REFRESH_MS = 5_000;

/** The caller's visits from a day ago on (the server's default), refreshed every 5 s while the page is open. */
export function useHostVisits() {
  return useQuery({
    queryKey: [HOST_VISITS.visits],
    queryFn: () => api.get<Page<HostVisit>>(HOST_VISITS.visits, { limit: 200 }),
    refetchInterval: REFRESH_MS,
  });
}
