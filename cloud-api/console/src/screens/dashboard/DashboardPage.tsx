import { useQuery } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import { Badge, Empty, ErrorBox, Loading, PageHead, TextLink } from '../../components/ui.tsx';
import { api, getAll } from '../../lib/api.ts';
import { ago, fmtTime } from '../../lib/format.ts';
import { fetchLookup, nameOf } from '../../lib/lookups.ts';
import { can } from '../../lib/permissions.ts';
import { PATHS } from '../../lib/query.ts';
import { href } from '../../lib/router.ts';
import type { Dashboard, Gate, Occupancy, Site } from '../../lib/types.ts';
import { emptyHours, HOURS, HourChart } from './HourChart.tsx';

interface DashboardData {
  sites: Site[];
  gates: Gate[];
  /** Check-ins per hour and their totals; null for a viewer who may not read check-ins. */
  hours: Dashboard | null;
  occupancy: Occupancy[];
}

async function loadDashboard(): Promise<DashboardData> {
  const [sites, gates, hours] = await Promise.all([
    fetchLookup('sites'),
    can('gates:read') ? getAll<Gate>(PATHS.gates, {}, 2000) : Promise.resolve([]),
    // Counted by the database (one GROUP BY): a busy organisation's day is millions of rows, not a download.
    can('checkins:read') ? api.get<Dashboard>(PATHS.dashboard, { hours: HOURS }) : Promise.resolve(null),
  ]);
  const occupancy = can('checkins:read')
    ? await Promise.all(sites.slice(0, 20).map((s) => api.get<Occupancy>(`${PATHS.sites}/${s.id}/occupancy`)))
    : [];
  return { sites, gates, hours, occupancy };
}

export function DashboardPage() {
  const { t } = useTranslation(['dashboard', 'common']);
  // Fetched again on every visit (the cached figures show meanwhile) and by Refresh.
  const { data, error, isFetching: loading, refetch } = useQuery({ queryKey: ['dashboard'], queryFn: loadDashboard });
  if (error && !data) return <ErrorBox error={error} />;
  if (loading && !data) return <Loading label={t('loading')} />;
  if (!data) return null;
  const now = Date.now();
  const online = data.gates.filter((g) => g.online).length;
  const offline = data.gates.length - online;
  const allowed = data.hours?.allowed ?? 0;
  const denied = data.hours?.denied ?? 0;
  const onSite = data.occupancy.reduce((s, o) => s + o.count, 0);
  const siteById = new Map(data.sites.map((s) => [s.id, s]));
  const gateById = new Map(data.gates.map((g) => [g.id, g]));
  const offlineGates = data.gates.filter((g) => !g.online);

  return (
    <>
      <PageHead title={t('title')}>
        <button type="button" onClick={() => void refetch()} disabled={loading}>
          {loading ? t('refreshing') : t('refresh')}
        </button>
      </PageHead>
      <ErrorBox error={error} />
      <div className="stats">
        <div className="card stat">
          <div className="value">{data.sites.length}</div>
          <div className="label">{t('stat.sites')}</div>
        </div>
        <div className="card stat">
          <div className="value">
            {online}
            <span className="muted"> / {data.gates.length}</span>
          </div>
          <div className="label">{t('stat.gatesOnline')}</div>
        </div>
        <div className="card stat">
          <div className="value" data-testid="on-site">
            {onSite}
          </div>
          <div className="label">{t('stat.onSite')}</div>
        </div>
        <div className="card stat">
          <div className="value">{allowed}</div>
          <div className="label">{t('stat.entries')}</div>
        </div>
        <div className="card stat">
          <div className="value">{denied}</div>
          <div className="label">{t('stat.denied')}</div>
        </div>
      </div>
      {data.sites.length === 0 ? (
        <div className="card">
          <Empty>
            <Trans t={t} i18nKey="empty" components={{ link: <TextLink href={href('/sites')} /> }} />
          </Empty>
        </div>
      ) : (
        <div className="grid">
          <section className="card" style={{ gridColumn: '1 / -1' }} aria-labelledby="chart-h">
            <h2 id="chart-h">{t('chart.title')}</h2>
            <HourChart buckets={data.hours?.hours ?? emptyHours(now)} />
          </section>
          <section className="card" aria-labelledby="onsite-h">
            <h2 id="onsite-h">{t('onSite.title')}</h2>
            {data.occupancy.every((o) => o.count === 0) ? (
              <p className="muted">{t('onSite.nobody')}</p>
            ) : (
              data.occupancy
                .filter((o) => o.count > 0)
                .map((o) => (
                  <div key={o.siteId}>
                    <h3>
                      {nameOf(siteById as Map<string, Site>, o.siteId)} · {o.count}
                    </h3>
                    <table>
                      <tbody>
                        {o.items.map((p) => (
                          <tr key={p.passId}>
                            <td>
                              <a href={href(`/passes/${p.passId}`)}>{p.visitorName ?? t('onSite.unknownVisitor')}</a>
                            </td>
                            <td className="muted">{gateById.get(p.gateId)?.name ?? '—'}</td>
                            <td className="muted nowrap">
                              {t('onSite.since', { time: fmtTime(p.since, siteById.get(o.siteId)?.timezone) })}
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                ))
            )}
          </section>
          <section className="card" aria-labelledby="gates-h">
            <h2 id="gates-h">{t('gates.title')}</h2>
            {data.gates.length === 0 ? (
              <p className="muted">
                <Trans t={t} i18nKey="gates.none" components={{ link: <TextLink href={href('/gates')} /> }} />
              </p>
            ) : (
              <>
                <p>
                  <Badge tone="ok">{t('gates.online', { count: online })}</Badge>{' '}
                  <Badge tone={offline ? 'deny' : 'neutral'}>{t('gates.offline', { count: offline })}</Badge>
                </p>
                {offlineGates.length > 0 ? (
                  <table>
                    <tbody>
                      {offlineGates.slice(0, 10).map((g) => (
                        <tr key={g.id}>
                          <td>{g.name}</td>
                          <td className="muted">{siteById.get(g.siteId)?.name ?? ''}</td>
                          {/* May wrap: "последняя связь: 51 сек. назад" is wider than a phone's third. */}
                          <td className="muted">
                            {g.lastSeenAt ? t('common:seen', { ago: ago(g.lastSeenAt, now) }) : t('common:neverSeen')}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : null}
              </>
            )}
          </section>
          <section className="card" aria-labelledby="sites-h">
            <h2 id="sites-h">{t('sites.title')}</h2>
            <table>
              <tbody>
                {data.sites.map((s) => {
                  const gs = data.gates.filter((g) => g.siteId === s.id);
                  return (
                    <tr key={s.id}>
                      <td>
                        <a href={href(`/guard?site=${s.id}`)}>{s.name}</a>
                      </td>
                      <td className="muted">{s.timezone}</td>
                      <td className="num">{t('sites.gates', { online: gs.filter((g) => g.online).length, count: gs.length })}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        </div>
      )}
    </>
  );
}
