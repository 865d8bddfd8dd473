import { useTranslation } from 'react-i18next';
import { StackedBars } from '../../components/StackedBars.tsx';
import type { Checkin } from '../../lib/types.ts';

export const HOURS = 24;

interface Bucket {
  start: number;
  allowed: number;
  denied: number;
}

export function bucketByHour(checkins: Checkin[], now: number): Bucket[] {
  const top = Math.floor(now / 3600_000) * 3600_000;
  const buckets: Bucket[] = Array.from({ length: HOURS }, (_, i) => ({ start: top - (HOURS - 1 - i) * 3600_000, allowed: 0, denied: 0 }));
  for (const c of checkins) {
    const t = new Date(c.occurredAt).getTime();
    const i = HOURS - 1 - Math.floor((top - Math.floor(t / 3600_000) * 3600_000) / 3600_000);
    const b = buckets[i];
    if (!b) continue;
    if (c.allow) b.allowed++;
    else b.denied++;
  }
  return buckets;
}

/** Entries per hour: bars of allowed entries with denied ones stacked on top in red. */
export function HourChart({ buckets }: { buckets: Bucket[] }) {
  const { t } = useTranslation(['dashboard', 'common']);
  const total = buckets.reduce((s, b) => s + b.allowed + b.denied, 0);
  const hh = (start: number) => String(new Date(start).getHours()).padStart(2, '0');
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
