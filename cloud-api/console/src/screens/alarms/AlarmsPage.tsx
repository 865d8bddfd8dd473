import { useCallback, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Badge, Empty, ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import type { Query } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { type LiveEvent, useLiveFeed } from '../../lib/live.ts';
import { useLookups } from '../../lib/lookups.ts';
import { can } from '../../lib/permissions.ts';
import { invalidate, PATHS, usePaged } from '../../lib/query.ts';
import type { Alarm } from '../../lib/types.ts';
import { type AlarmAction, AlarmDialog } from '../guard/AlarmDialog.tsx';
import { ALARM_KINDS, ALARM_STATUSES } from '../guard/alarms.ts';

const TONE = { raised: 'deny', acknowledged: 'warn', cleared: 'neutral' } as const;

/** Every alarm, cleared ones with their notes included: what happened, who answered it, and what they wrote. */
export function AlarmsPage() {
  const { t } = useTranslation(['alarms', 'common', 'guard']);
  const { lookups } = useLookups(['sites']);
  const [filters, setFilters] = useState({ status: '', siteId: '', kind: '' });
  const [acting, setActing] = useState<{ alarm: Alarm; action: AlarmAction } | null>(null);
  const ids = { status: useId(), site: useId(), kind: useId() };
  const query: Query = useMemo(() => ({ ...filters }), [filters]);
  const list = usePaged<Alarm>(PATHS.alarms, query, 50);
  const canManage = can('alarms:manage');
  const set = (k: keyof typeof filters) => (e: { target: { value: string } }) => setFilters((f) => ({ ...f, [k]: e.target.value }));
  const zoneOf = (siteId: string) => lookups.sites?.get(siteId)?.timezone;
  // Any alarm change elsewhere (another guard, a controller) shows here without a reload.
  useLiveFeed(
    useCallback((e: LiveEvent) => {
      if (e.type.startsWith('alarm.')) void invalidate(PATHS.alarms);
    }, []),
  );
  const kindText = (a: Alarm) => t(`kind.${a.kind}`, { defaultValue: a.kind });
  const who = (p: Alarm['acknowledgedBy']) => p?.name ?? t('system');

  return (
    <>
      <PageHead title={t('title')} />
      <div className="toolbar">
        <div className="field">
          <label htmlFor={ids.status}>{t('filter.status')}</label>
          <select id={ids.status} value={filters.status} onChange={set('status')}>
            <option value="">{t('common:all')}</option>
            <option value="open">{t('filter.open')}</option>
            {ALARM_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.site}>{t('filter.site')}</label>
          <select id={ids.site} value={filters.siteId} onChange={set('siteId')}>
            <option value="">{t('filter.allSites')}</option>
            {[...(lookups.sites?.values() ?? [])].map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.kind}>{t('filter.kind')}</label>
          <select id={ids.kind} value={filters.kind} onChange={set('kind')}>
            <option value="">{t('common:all')}</option>
            {ALARM_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`kind.${k}`)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorBox error={list.error} />
      {list.loading && list.items.length === 0 ? (
        <Loading />
      ) : list.items.length === 0 ? (
        <div className="table-wrap">
          <Empty>{t('empty')}</Empty>
        </div>
      ) : (
        <div className="table-wrap">
          <table data-testid="alarm-history">
            <thead>
              <tr>
                <th scope="col">{t('col.raised')}</th>
                <th scope="col">{t('col.alarm')}</th>
                <th scope="col">{t('col.where')}</th>
                <th scope="col">{t('col.status')}</th>
                <th scope="col">{t('col.acknowledged')}</th>
                <th scope="col">{t('col.cleared')}</th>
                {canManage ? <th scope="col">{t('common:actions')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {list.items.map((a) => (
                <tr key={a.id} data-alarm-id={a.id}>
                  <td className="nowrap">{fmtDateTime(a.raisedAt, zoneOf(a.siteId))}</td>
                  <td>
                    <strong>{kindText(a)}</strong> <span className="muted">· {t(`severity.${a.severity}`)}</span>
                    {a.detail ? <div className="muted">{a.detail}</div> : null}
                    {a.conditionClearedAt ? (
                      <div className="muted">{t('conditionGone', { time: fmtDateTime(a.conditionClearedAt, zoneOf(a.siteId)) })}</div>
                    ) : null}
                  </td>
                  <td>
                    {a.gateName ?? '—'}
                    {a.reader ? <span className="muted"> ({a.reader})</span> : null}
                    <div className="muted">{a.siteName ?? '—'}</div>
                  </td>
                  <td>
                    <Badge tone={TONE[a.status]}>{t(`status.${a.status}`)}</Badge>
                  </td>
                  <td>
                    {a.acknowledgedAt ? (
                      <>
                        <div className="nowrap">{fmtDateTime(a.acknowledgedAt, zoneOf(a.siteId))}</div>
                        <div className="muted">{who(a.acknowledgedBy)}</div>
                        {a.acknowledgeNote ? <div>{a.acknowledgeNote}</div> : null}
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    {a.clearedAt ? (
                      <>
                        <div className="nowrap">{fmtDateTime(a.clearedAt, zoneOf(a.siteId))}</div>
                        <div className="muted">{who(a.clearedBy)}</div>
                        {a.clearNote ? <div>{a.clearNote}</div> : null}
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  {canManage ? (
                    <td>
                      <div className="actions">
                        {a.status === 'raised' ? (
                          <button type="button" onClick={() => setActing({ alarm: a, action: 'acknowledge' })}>
                            {t('guard:panel.button.acknowledge')}
                          </button>
                        ) : null}
                        {a.status !== 'cleared' ? (
                          <button type="button" onClick={() => setActing({ alarm: a, action: 'clear' })}>
                            {t('guard:panel.button.clear')}
                          </button>
                        ) : null}
                      </div>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="list-foot">
        <span>{t('common:shown', { count: list.items.length })}</span>
        {list.hasMore ? (
          <button type="button" onClick={list.loadMore} disabled={list.loading}>
            {list.loading ? t('common:loading') : t('common:loadMore')}
          </button>
        ) : null}
      </div>
      {acting ? (
        <AlarmDialog
          alarm={acting.alarm}
          action={acting.action}
          title={[kindText(acting.alarm), acting.alarm.gateName].filter(Boolean).join(' · ')}
          onClose={() => setActing(null)}
          onDone={() => setActing(null)}
        />
      ) : null}
    </>
  );
}
