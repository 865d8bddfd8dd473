import type { HolidayRecord } from '@gatehouse/protocol';
import type { siteHolidays } from '../../db/schema.js';

/** The calendar day as the edge caches it and decide() reads it (DEC-14, SYNC-4). */
export const holidayRecord = (r: typeof siteHolidays.$inferSelect): HolidayRecord => ({
  id: r.id,
  siteId: r.siteId,
  date: r.date,
  kind: r.kind,
  name: r.name,
  windows: r.windows,
});
