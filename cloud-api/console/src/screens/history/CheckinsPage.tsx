import { useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Badge, Empty, ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import { getAll, type Query } from '../../lib/api.ts';
import { fmtDateTime, fromLocalInput } from '../../lib/format.ts';
import { nameOf, useLookups } from '../../lib/lookups.ts';
import { PATHS, usePaged } from '../../lib/query.ts';
import { reasonText } from '../../lib/reasons.ts';
import type { Checkin } from '../../lib/types.ts';
import { csvCell, download } from './csv.ts';

export function CheckinsPage() {
  const { t } = useTranslation(['history', 'common']);
  const { lookups } = useLookups(['sites', 'gates']);
  const [filters, setFilters] = useState({ siteId: '', gateId: '', since: '', until: '', result: '' });
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<unknown>(null);
  const ids = { site: useId(), gate: useId(), since: useId(), until: useId(), result: useId() };
  const query: Query = useMemo(
    () => ({
      siteId: filters.siteId,
      gateId: filters.gateId,
      since: fromLocalInput(filters.since),
      until: fromLocalInput(filters.until),
    }),
    [filters],
  );
  const list = usePaged<Checkin>(PATHS.checkins, query, 100);
  const shown = filters.result ? list.items.filter((c) => (filters.result === 'allowed' ? c.allow : !c.allow)) : list.items;
  const gates = [...(lookups.gates?.values() ?? [])].filter((g) => !filters.siteId || g.siteId === filters.siteId);
  const set = (k: keyof typeof filters) => (e: { target: { value: string } }) => setFilters((f) => ({ ...f, [k]: e.target.value }));
  // A check-in's time is its site's: the clock the visitor and the guard saw.
  const zoneOf = (siteId: string) => lookups.sites?.get(siteId)?.timezone;

  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const rows = await getAll<Checkin>(PATHS.checkins, query, 50_000);
      const head = [
        'occurredAt',
        'site',
        'gate',
        'direction',
        'result',
        'reason',
        'reasonText',
        'passId',
        'credentialKind',
        'receivedAt',
        'id',
      ];
      const lines = rows
        .filter((c) => !filters.result || (filters.result === 'allowed' ? c.allow : !c.allow))
        .map((c) =>
          [
            c.occurredAt,
            nameOf(lookups.sites, c.siteId),
            nameOf(lookups.gates, c.gateId),
            c.direction,
            c.allow ? 'allowed' : 'denied',
            c.reason,
            reasonText(c.reason),
            c.passId,
            c.credentialKind,
            c.receivedAt,
            c.id,
          ]
            .map(csvCell)
            .join(','),
        );
      download(
        `checkins-${new Date().toISOString().slice(0, 19).replaceAll(':', '')}.csv`,
        `${[head.join(','), ...lines].join('\r\n')}\r\n`,
      );
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(false);
    }
  };

  return (
    <>
      <PageHead title={t('checkins.title')}>
        <button type="button" onClick={exportCsv} disabled={exporting}>
          {exporting ? t('checkins.exporting') : t('checkins.export')}
        </button>
      </PageHead>
      <div className="toolbar">
        <div className="field">
          <label htmlFor={ids.site}>{t('checkins.site')}</label>
          <select id={ids.site} value={filters.siteId} onChange={(e) => setFilters((f) => ({ ...f, siteId: e.target.value, gateId: '' }))}>
            <option value="">{t('checkins.allSites')}</option>
            {[...(lookups.sites?.values() ?? [])].map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.gate}>{t('checkins.gate')}</label>
          <select id={ids.gate} value={filters.gateId} onChange={set('gateId')}>
            <option value="">{t('checkins.allGates')}</option>
            {gates.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.since}>{t('checkins.since')}</label>
          <input id={ids.since} type="datetime-local" value={filters.since} onChange={set('since')} />
        </div>
        <div className="field">
          <label htmlFor={ids.until}>{t('checkins.until')}</label>
          <input id={ids.until} type="datetime-local" value={filters.until} onChange={set('until')} />
        </div>
        <div className="field">
          <label htmlFor={ids.result}>{t('checkins.result')}</label>
          <select id={ids.result} value={filters.result} onChange={set('result')}>
            <option value="">{t('common:all')}</option>
            <option value="allowed">{t('checkins.allowed')}</option>
            <option value="denied">{t('checkins.denied')}</option>
          </select>
        </div>
      </div>
      <ErrorBox error={list.error ?? exportError} />
      {list.loading && list.items.length === 0 ? (
        <Loading />
      ) : shown.length === 0 ? (
        <div className="table-wrap">
          <Empty>{t('checkins.empty')}</Empty>
        </div>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('checkins.col.time')}</th>
                <th scope="col">{t('checkins.col.gate')}</th>
                <th scope="col">{t('checkins.col.direction')}</th>
                <th scope="col">{t('checkins.col.result')}</th>
                <th scope="col">{t('checkins.col.reason')}</th>
                <th scope="col">{t('checkins.col.credential')}</th>
                <th scope="col">{t('checkins.col.pass')}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((c) => (
                <tr key={c.id}>
                  <td className="nowrap">{fmtDateTime(c.occurredAt, zoneOf(c.siteId))}</td>
                  <td>
                    {nameOf(lookups.gates, c.gateId)} <span className="muted">· {nameOf(lookups.sites, c.siteId)}</span>
                  </td>
                  <td>{t(`common:direction.${c.direction}`)}</td>
                  <td>
                    {c.allow ? (
                      <Badge tone="ok">{t('common:result.allowed')}</Badge>
                    ) : (
                      <Badge tone="deny">{t('common:result.denied')}</Badge>
                    )}
                  </td>
                  <td>{reasonText(c.reason)}</td>
                  <td>{t(`checkins.kind.${c.credentialKind}`)}</td>
                  <td className="mono">{c.passId ? <a href={`#/passes/${c.passId}`}>…{c.passId.slice(-8)}</a> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="list-foot">
        <span>{t('common:shown', { count: shown.length })}</span>
        {list.hasMore ? (
          <button type="button" onClick={list.loadMore} disabled={list.loading}>
            {list.loading ? t('common:loading') : t('common:loadMore')}
          </button>
        ) : null}
      </div>
    </>
  );
}
