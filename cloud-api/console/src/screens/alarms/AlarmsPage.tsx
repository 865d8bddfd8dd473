import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ListFoot, ListTable } from '../../components/ListTable.tsx';
import { optionsOf, SelectField } from '../../components/SelectField.tsx';
import { Badge, ErrorBox, PageHead } from '../../components/ui.tsx';
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
  const list = usePaged<Alarm>(PATHS.alarms, filters, 50);
  const canManage = can('alarms:manage');
  const set = (k: keyof typeof filters) => (value: string) => setFilters((f) => ({ ...f, [k]: value }));
  const zoneOf = (siteId: string) => lookups.sites?.get(siteId)?.timezone;
  // Any alarm change elsewhere (another guard, a controller) shows here without a reload.
  useLiveFeed(
    useCallback((e: LiveEvent) => {
      if (e.type.startsWith('alarm.')) void invalidate(PATHS.alarms);
    }, []),
  );
  const kindText = (a: Alarm) => t(`kind.${a.kind}`, { defaultValue: a.kind });

  return (
    <>
      <PageHead title={t('title')} />
      <div className="toolbar">
        <SelectField
          label={t('filter.status')}
          all={t('common:all')}
          options={[{ value: 'open', label: t('filter.open') }, ...ALARM_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))]}
          value={filters.status}
          onChange={set('status')}
        />
        <SelectField
          label={t('filter.site')}
          all={t('filter.allSites')}
          options={optionsOf(lookups.sites?.values())}
          value={filters.siteId}
          onChange={set('siteId')}
        />
        <SelectField
          label={t('filter.kind')}
          all={t('common:all')}
          options={ALARM_KINDS.map((k) => ({ value: k, label: t(`kind.${k}`) }))}
          value={filters.kind}
          onChange={set('kind')}
        />
      </div>
      <ErrorBox error={list.error} />
      <ListTable
        testId="alarm-history"
        items={list.items}
        loading={list.loading}
        empty={t('empty')}
        columns={[
          t('col.raised'),
          t('col.alarm'),
          t('col.where'),
          t('col.status'),
          t('col.acknowledged'),
          t('col.cleared'),
          canManage && t('common:actions'),
        ]}
        row={(a) => (
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
              <Answer at={a.acknowledgedAt} by={a.acknowledgedBy} note={a.acknowledgeNote} tz={zoneOf(a.siteId)} />
            </td>
            <td>
              <Answer at={a.clearedAt} by={a.clearedBy} note={a.clearNote} tz={zoneOf(a.siteId)} />
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
        )}
      />
      <ListFoot count={list.items.length} list={list} />
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

/** Who acknowledged or cleared an alarm, when, and their note; a dash while nobody has. */
function Answer({ at, by, note, tz }: { at: string | null; by: Alarm['acknowledgedBy']; note: string | null; tz: string | undefined }) {
  const { t } = useTranslation('alarms');
  if (!at) return '—';
  return (
    <>
      <div className="nowrap">{fmtDateTime(at, tz)}</div>
      <div className="muted">{by?.name ?? t('system')}</div>
      {note ? <div>{note}</div> : null}
    </>
  );
}
