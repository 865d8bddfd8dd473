import { useTranslation } from 'react-i18next';
import { StackedBars } from '../../components/StackedBars.tsx';
import type { Dashboard } from '../../lib/types.ts';

export const HOURS = 24;

type Bucket = Dashboard['hours'][number];

/** The hours with nothing in them: what the chart shows to a viewer who may not read check-ins. */
export function emptyHours(now: number): Bucket[] {
  const top = Math.floor(now / 3600_000) * 3600_000;
  return Array.from({ length: HOURS }, (_, i) => ({
    start: new Date(top - (HOURS - 1 - i) * 3600_000).toISOString(),
    allowed: 0,
    denied: 0,
  }));
}

/** Entries per hour, as the server counted them: bars of allowed entries with denied ones stacked on top in red. */
export function HourChart({ buckets }: { buckets: Bucket[] }) {
  const { t } = useTranslation(['dashboard', 'common']);
  const total = buckets.reduce((s, b) => s + b.allowed + b.denied, 0);
  const hh = (start: string) => String(new Date(start).getHours()).padStart(2, '0');
  return (
    <StackedBars
      bars={buckets.map((b) => ({
        key: b.start,
        ok: b.allowed,
        bad: b.denied,
        title: t('chart.bar', { hour: `${hh(b.start)}:00`, allowed: b.allowed, denied: b.denied }),
        label: hh(b.start),
      }))}
      ariaLabel={t('chart.label', { count: total })}
      height={180}
      padLeft={28}
      labelEvery={3}
      caption={
        <>
          {t('chart.caption')} · <span className="badge ok">{t('common:result.allowed')}</span>{' '}
          <span className="badge deny">{t('common:result.denied')}</span>
        </>
      }
    />
  );
}
