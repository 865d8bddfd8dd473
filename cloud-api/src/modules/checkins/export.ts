import { Readable } from 'node:stream';
import { REASONS } from '@gatehouse/protocol';
import { stringify } from 'csv-stringify';
import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import { gates, type Language, sites } from '../../db/schema.js';
import { translator } from '../../lib/i18n.js';
import { type CheckinQuery, listCheckins, type NameAccess } from './service.js';

/** Rows read per statement: the list's keyset pages, larger than the console's (500 at most through the API). */
const PAGE = 1000;

export const EXPORT_COLUMNS = [
  'occurredAt',
  'localTime',
  'site',
  'gate',
  'direction',
  'result',
  'reason',
  'reasonText',
  'visitor',
  'host',
  'passId',
  'credentialKind',
  'receivedAt',
  'id',
] as const;

/** "2026-11-30 14:05:09" at a site's clock (sv-SE is the locale that writes ISO-like dates). */
function localClock(timeZone: string) {
  const f = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  return (iso: string) => f.format(new Date(iso));
}

/**
 * The check-in history as CSV, streamed, for auditors and spreadsheets: the list's own query (the same filters,
 * the same names as far as `access` allows), read in keyset pages and written as each is read, so memory holds
 * one page whatever the range, and a client that goes away stops the walk. The console used to page through at
 * most 50,000 rows in the browser and build the file there; a month of a busy site is more.
 *
 * UTF-8 with a byte-order mark (Excel then reads Cyrillic names right), Windows line ends, cells a spreadsheet
 * would run as formulas defused (csv-stringify's escape_formulas), like the muster's CSV. Times are UTC ISO, and
 * `localTime` is the site's clock. A database error part-way ends the response unfinished (no final chunk), so
 * a download is never a short file that looks complete.
 */
export async function checkinsCsv(
  ctx: AppContext,
  orgId: string,
  q: Omit<CheckinQuery, 'limit' | 'cursor'>,
  access: NameAccess,
  lng: Language,
): Promise<Readable> {
  // Names of the organisation's sites and gates, deleted ones too (the history still names them): short lists.
  const [siteRows, gateRows] = await Promise.all([
    ctx.db.select({ id: sites.id, name: sites.name, timezone: sites.timezone }).from(sites).where(eq(sites.orgId, orgId)),
    ctx.db.select({ id: gates.id, name: gates.name }).from(gates).where(eq(gates.orgId, orgId)),
  ]);
  const siteOf = new Map(siteRows.map((s) => [s.id, { name: s.name, local: localClock(s.timezone) }]));
  const gateName = new Map(gateRows.map((g) => [g.id, g.name]));
  const t = translator(lng, 'reasons');
  const reasonText = new Map(REASONS.map((r) => [r, t(r)]));

  async function* rows() {
    let cursor: string | undefined;
    do {
      const p = await listCheckins(ctx, orgId, { ...q, limit: PAGE, cursor }, access);
      for (const c of p.items) {
        const site = siteOf.get(c.siteId);
        yield [
          c.occurredAt,
          site?.local(c.occurredAt) ?? '',
          site?.name ?? '',
          gateName.get(c.gateId) ?? '',
          c.direction,
          c.allow ? 'allowed' : 'denied',
          c.reason,
          reasonText.get(c.reason) ?? c.reason,
          c.visitorName ?? '',
          c.hostName ?? '',
          c.passId ?? '',
          c.credentialKind,
          c.receivedAt,
          c.id,
        ];
      }
      cursor = p.nextCursor ?? undefined;
    } while (cursor);
  }

  const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS], escape_formulas: true, record_delimiter: 'windows', bom: true });
  const source = Readable.from(rows());
  // An error of the walk reaches the response (which ends it unfinished); a response closed early stops the walk.
  source.on('error', (e) => csv.destroy(e));
  csv.on('close', () => source.destroy());
  return source.pipe(csv);
}
