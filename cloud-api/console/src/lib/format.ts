import i18n, { formatLocale } from '../i18n/index.ts';

/**
 * Dates and times in the interface language, and in a site's time zone when
 * the screen knows the site (a guard reads the turnstile's clock, not the
 * laptop's); the browser's zone otherwise. Formatters are cached per locale,
 * zone and style: building one is far slower than using it.
 */
type Style = 'dateTime' | 'time';
const STYLES: Record<Style, Intl.DateTimeFormatOptions> = {
  dateTime: { dateStyle: 'medium', timeStyle: 'short' },
  time: { hour: '2-digit', minute: '2-digit', second: '2-digit' },
};
const formatters = new Map<string, Intl.DateTimeFormat>();

export function dateFormatter(style: Style, timeZone?: string | null): Intl.DateTimeFormat {
  const locale = formatLocale();
  const key = `${locale}|${style}|${timeZone ?? ''}`;
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale, { ...STYLES[style], ...(timeZone ? { timeZone } : {}) });
    } catch {
      // A zone this browser does not know: the browser's own rather than nothing.
      f = new Intl.DateTimeFormat(locale, STYLES[style]);
    }
    formatters.set(key, f);
  }
  return f;
}

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "12 May 2026, 14:05" / "12 мая 2026 г., 14:05". */
export function fmtDateTime(iso: string | null | undefined, timeZone?: string | null): string {
  const d = parse(iso);
  return d ? dateFormatter('dateTime', timeZone).format(d) : '—';
}
/** "14:05:09". */
export function fmtTime(iso: string | null | undefined, timeZone?: string | null): string {
  const d = parse(iso);
  return d ? dateFormatter('time', timeZone).format(d) : '—';
}

/** "3 min. ago" / "3 мин. назад"; "never" when there is no time. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  const d = parse(iso);
  if (!d) return i18n.t('never');
  const rtf = new Intl.RelativeTimeFormat(formatLocale(), { style: 'short', numeric: 'always' });
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  if (s < 60) return rtf.format(-s, 'second');
  if (s < 3600) return rtf.format(-Math.floor(s / 60), 'minute');
  if (s < 86400) return rtf.format(-Math.floor(s / 3600), 'hour');
  return rtf.format(-Math.floor(s / 86400), 'day');
}

/** `<input type="datetime-local">` speaks local time without an offset. */
export function toLocalInput(iso: string | null | undefined): string {
  const d = parse(iso);
  if (!d) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
export function fromLocalInput(v: string): string | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
export const shortId = (id: string | null | undefined) => (id ? id.slice(-8) : '—');

/** ISO weekday numbers (1 = Monday … 7 = Sunday), as access rules store them. */
export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;
const WEEKDAY_KEYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** "Mon" / "Пн". */
export const weekdayName = (n: number): string => {
  const k = WEEKDAY_KEYS[n - 1];
  return k ? i18n.t(`weekday.${k}`) : String(n);
};
