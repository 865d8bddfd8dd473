import { useTranslation } from 'react-i18next';
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

/** Entries per hour as plain SVG: bars of allowed entries with denied ones stacked on top in red. */
export function HourChart({ buckets }: { buckets: Bucket[] }) {
  const { t } = useTranslation(['dashboard', 'common']);
  const W = 720;
  const H = 180;
  const padL = 28;
  const padB = 20;
  const padT = 10;
  const max = Math.max(4, ...buckets.map((b) => b.allowed + b.denied));
  const step = (W - padL) / buckets.length;
  const y = (v: number) => ((H - padB - padT) * v) / max;
  const ticks = [0, Math.round(max / 2), max];
  const total = buckets.reduce((s, b) => s + b.allowed + b.denied, 0);
  return (
    <figure className="chart" style={{ margin: 0 }}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t('chart.label', { count: total })}>
        {ticks.map((t) => (
          <g key={t}>
            <line className="gridline" x1={padL} x2={W} y1={H - padB - y(t)} y2={H - padB - y(t)} />
            <text className="axis" x={padL - 4} y={H - padB - y(t) + 3} textAnchor="end">
              {t}
            </text>
          </g>
        ))}
        {buckets.map((b, i) => {
          const x = padL + i * step + 2;
          const w = Math.max(2, step - 4);
          const hour = new Date(b.start).getHours();
          return (
            <g key={b.start}>
              <title>{t('chart.bar', { hour: `${String(hour).padStart(2, '0')}:00`, allowed: b.allowed, denied: b.denied })}</title>
              <rect className="bar" x={x} width={w} y={H - padB - y(b.allowed)} height={y(b.allowed)} />
              <rect className="bar-deny" x={x} width={w} y={H - padB - y(b.allowed + b.denied)} height={y(b.denied)} />
              {i % 3 === 0 ? (
                <text className="axis" x={x + w / 2} y={H - 6} textAnchor="middle">
                  {String(hour).padStart(2, '0')}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="muted">
        {t('chart.caption')} · <span className="badge ok">{t('common:result.allowed')}</span>{' '}
        <span className="badge deny">{t('common:result.denied')}</span>
      </figcaption>
    </figure>
  );
}
