import { useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ListFoot, ListTable } from '../../components/ListTable.tsx';
import { optionsOf, SelectField } from '../../components/SelectField.tsx';
import { Badge, ErrorBox, PageHead } from '../../components/ui.tsx';
import { currentLanguage } from '../../i18n/index.ts';
import { type Query, request, withQuery } from '../../lib/api.ts';
import { fmtDateTime, fromLocalInput } from '../../lib/format.ts';
import { nameOf, useLookups } from '../../lib/lookups.ts';
import { PATHS, useDebounced, usePaged } from '../../lib/query.ts';
import { reasonText } from '../../lib/reasons.ts';
import type { Checkin } from '../../lib/types.ts';
import { download } from './csv.ts';

export function CheckinsPage() {
  const { t } = useTranslation(['history', 'common']);
  const { lookups } = useLookups(['sites', 'gates']);
  const [filters, setFilters] = useState({ siteId: '', gateId: '', since: '', until: '', result: '' });
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<unknown>(null);
  const [search, setSearch] = useState('');
  const ids = { since: useId(), until: useId(), search: useId() };
  // Asked of the server once the typing pauses; a new term starts the list again from its first page.
  const q = useDebounced(search.trim());
  // Filtered by the server: the refusals of a busy site may all lie pages past the loaded rows.
  const query: Query = useMemo(
    () => ({
      siteId: filters.siteId,
      gateId: filters.gateId,
      since: fromLocalInput(filters.since),
      until: fromLocalInput(filters.until),
      result: filters.result === 'allowed' ? 'allow' : filters.result === 'denied' ? 'deny' : undefined,
      q,
    }),
    [filters, q],
  );
  const list = usePaged<Checkin>(PATHS.checkins, query, 100);
  const gates = [...(lookups.gates?.values() ?? [])].filter((g) => !filters.siteId || g.siteId === filters.siteId);
  const set = (k: keyof typeof filters) => (value: string) => setFilters((f) => ({ ...f, [k]: value }));
  // A check-in's time is its site's: the clock the visitor and the guard saw.
  const zoneOf = (siteId: string) => lookups.sites?.get(siteId)?.timezone;

  // The server writes the file (every row the filters match, streamed, the reasons in this language): a large
  // organisation's month is more than a browser should page through. It needs the session's token, so it is
  // fetched and handed over rather than linked.
  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const text = await request<string>('GET', withQuery(`${PATHS.checkins}.csv`, { ...query, lang: currentLanguage() }), undefined, {
        raw: true,
      });
      download(`checkins-${new Date().toISOString().slice(0, 19).replaceAll(':', '')}.csv`, text);
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
          <label htmlFor={ids.search}>{t('common:search')}</label>
          <input
            id={ids.search}
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder={t('common:searchPlaceholder')}
            // The API's limit for q: longer is refused, and no e-mail, phone or id is longer.
            maxLength={200}
          />
        </div>
        <SelectField
          label={t('checkins.site')}
          all={t('checkins.allSites')}
          options={optionsOf(lookups.sites?.values())}
          value={filters.siteId}
          onChange={(siteId) => setFilters((f) => ({ ...f, siteId, gateId: '' }))}
        />
        <SelectField
          label={t('checkins.gate')}
          all={t('checkins.allGates')}
          options={optionsOf(gates)}
          value={filters.gateId}
          onChange={set('gateId')}
        />
        <div className="field">
          <label htmlFor={ids.since}>{t('checkins.since')}</label>
          <input id={ids.since} type="datetime-local" value={filters.since} onChange={(e) => set('since')(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.until}>{t('checkins.until')}</label>
          <input id={ids.until} type="datetime-local" value={filters.until} onChange={(e) => set('until')(e.target.value)} />
        </div>
        <SelectField
          label={t('checkins.result')}
          all={t('common:all')}
          options={[
            { value: 'allowed', label: t('checkins.allowed') },
            { value: 'denied', label: t('checkins.denied') },
          ]}
          value={filters.result}
          onChange={set('result')}
        />
      </div>
      <ErrorBox error={list.error ?? exportError} />
      <ListTable
        items={list.items}
        loading={list.loading}
        empty={q ? `${t('common:nothingMatches', { search: q })} ${t('common:searchExact')}` : t('checkins.empty')}
        columns={[
          t('checkins.col.time'),
          t('checkins.col.gate'),
          t('checkins.col.direction'),
          t('checkins.col.result'),
          t('checkins.col.reason'),
          t('checkins.col.credential'),
          t('checkins.col.pass'),
        ]}
        row={(c) => (
          <tr key={c.id}>
            <td className="nowrap">{fmtDateTime(c.occurredAt, zoneOf(c.siteId))}</td>
            <td>
              {nameOf(lookups.gates, c.gateId)} <span className="muted">· {nameOf(lookups.sites, c.siteId)}</span>
            </td>
            <td>{t(`common:direction.${c.direction}`)}</td>
            <td>
              {c.allow ? <Badge tone="ok">{t('common:result.allowed')}</Badge> : <Badge tone="deny">{t('common:result.denied')}</Badge>}
            </td>
            <td>{reasonText(c.reason)}</td>
            <td>{t(`checkins.kind.${c.credentialKind}`)}</td>
            <td className="mono">{c.passId ? <a href={`#/passes/${c.passId}`}>…{c.passId.slice(-8)}</a> : '—'}</td>
          </tr>
        )}
      />
      <ListFoot count={list.items.length} list={list} />
    </>
  );
}
