/** An application's calls and errors per UTC day over the last 30 days (a bar chart and the table), and its webhooks' success rate. */
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { StackedBars } from '../../components/StackedBars.tsx';
import { ErrorBox, Loading } from '../../components/ui.tsx';
import { formatLocale } from '../../i18n/index.ts';
import { api } from '../../lib/api.ts';
import { type App, DEV, type Usage } from './types.ts';

const DAYS = 30;

/** The last `n` UTC days, oldest first, with the server's counts where it has a row (it may leave out empty days). */
export function fillDays(days: Usage['days'], n: number, now = Date.now()): Usage['days'] {
  const byDay = new Map(days.map((d) => [d.day, d]));
  return Array.from({ length: n }, (_, i) => {
    const day = new Date(now - (n - 1 - i) * 86400_000).toISOString().slice(0, 10);
    return byDay.get(day) ?? { day, calls: 0, errors: 0 };
  });
}

export function UsagePanel({ app }: { app: App }) {
  const { t } = useTranslation('devconsole');
  const usage = useQuery({
    queryKey: [DEV.usage(app.id), DAYS],
    queryFn: () => api.get<Usage>(DEV.usage(app.id), { days: DAYS }),
  });
  const u = usage.data;
  if (!u) return usage.isLoading ? <Loading /> : <ErrorBox error={usage.error} />;
  const days = fillDays(u.days, DAYS);
  const calls = days.reduce((s, d) => s + d.calls, 0);
  const errors = days.reduce((s, d) => s + d.errors, 0);
  const pct = new Intl.NumberFormat(formatLocale(), { style: 'percent', maximumFractionDigits: 1 });
  const w = u.webhooks;
  return (
    <>
      <p className="muted">{t('usage.intro')}</p>
      <div className="stats">
        <div className="stat card">
          <div className="muted">{t('usage.calls')}</div>
          <strong data-usage="calls">{calls}</strong>
        </div>
        <div className="stat card">
          <div className="muted">{t('usage.errors')}</div>
          <strong data-usage="errors">{errors}</strong>
        </div>
        <div className="stat card">
          <div className="muted">{t('usage.successRate')}</div>
          <strong data-usage="successRate">{w.successRate === null ? '—' : pct.format(w.successRate)}</strong>
        </div>
      </div>
      <DayChart days={days} calls={calls} errors={errors} />
      <h3>{t('usage.webhooks')}</h3>
      <dl className="dev-facts">
        <dt>{t('usage.delivered')}</dt>
        <dd>{w.delivered}</dd>
        <dt>{t('usage.failed')}</dt>
        <dd>{w.failed}</dd>
        <dt>{t('usage.dead')}</dt>
        <dd>{w.dead}</dd>
        <dt>{t('usage.pending')}</dt>
        <dd>{w.pending}</dd>
      </dl>
      {calls === 0 ? (
        <p className="muted">{t('usage.noCalls')}</p>
      ) : (
        <details>
          <summary>{t('usage.table')}</summary>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('usage.col.day')}</th>
                  <th scope="col">{t('usage.col.calls')}</th>
                  <th scope="col">{t('usage.col.errors')}</th>
                </tr>
              </thead>
              <tbody>
                {days
                  .filter((d) => d.calls > 0)
                  .reverse()
                  .map((d) => (
                    <tr key={d.day} data-day={d.day}>
                      <td className="nowrap">{d.day}</td>
                      <td>{d.calls}</td>
                      <td>{d.errors}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </>
  );
}

/** Calls per day, errors stacked in red inside each bar (as the dashboard's hourly chart). */
function DayChart({ days, calls, errors }: { days: Usage['days']; calls: number; errors: number }) {
  const { t } = useTranslation('devconsole');
  return (
    <StackedBars
      bars={days.map((d) => ({
        key: d.day,
        ok: d.calls - d.errors,
        bad: d.errors,
        title: t('usage.bar', { day: d.day, calls: d.calls, errors: d.errors }),
        label: d.day.slice(5),
      }))}
      ariaLabel={t('usage.chart', { calls, errors })}
      height={160}
      padLeft={36}
      labelEvery={5}
    />
  );
}
