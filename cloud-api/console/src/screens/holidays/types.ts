/**
 * A holiday calendar day as /api/admin/holidays answers it. Said here until
 * the holidays module's schema is exported through `@gatehouse/cloud-api/api`
 * (then this becomes a re-export, like lib/types.ts).
 */
import type { TimeWindow } from '../../lib/types.ts';

export interface Holiday {
  id: string;
  siteId: string;
  /** The site's local date, "2026-12-31". */
  date: string;
  kind: 'closed' | 'special';
  name: string;
  /** The hours of a special day; empty for a closed one. */
  windows: TimeWindow[];
}

export const HOLIDAYS_PATH = '/api/admin/holidays';
