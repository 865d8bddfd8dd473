/**
 * A site's holiday calendar (/holidays?site=ID; rules:read, rules:write to
 * change): closed days and days of special hours, upcoming first. A screen
 * of its own rather than a panel on the sites list: the calendar belongs to
 * the access policy (the rules say whether they observe it, and its
 * permissions are the rules'), and one site's year of days needs the room.
 */
import { useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { str, type Values } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { optionsOf, SelectField } from '../../components/SelectField.tsx';
import { Badge, Empty, PageHead } from '../../components/ui.tsx';
import { weekdayName } from '../../lib/format.ts';
import { useLookups } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import { navigate, useRoute } from '../../lib/router.ts';
import type { Holiday, TimeWindow } from '../../lib/types.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Today in the site's own zone, as the calendar writes dates ("2026-12-31"). */
function todayAt(timeZone: string | undefined): string {
  try {
    return new Date().toLocaleDateString('en-CA', timeZone ? { timeZone } : {});
  } catch {
    return new Date().toLocaleDateString('en-CA');
  }
}

/** ISO weekday (Monday = 1) of a calendar date, whatever the browser's zone. */
const isoWeekday = (date: string) => {
  const d = new Date(`${date}T12:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
};

export function HolidaysPage() {
  const { t } = useTranslation('holidays');
  const route = useRoute();
  const { lookups, ready } = useLookups(['sites']);
  const sites = useMemo(() => [...(lookups.sites?.values() ?? [])], [lookups.sites]);
  const siteId = route.query.get('site') ?? sites[0]?.id ?? '';
  const site = lookups.sites?.get(siteId);
  const [past, setPast] = useState(false);
  const pastId = useId();
  const today = todayAt(site?.timezone);

  const def = useMemo<ResourceDef<Holiday>>(
    () => ({
      title: site ? t('titleSite', { site: site.name }) : t('title'),
      phrases: { new: t('new'), create: t('create'), edit: t('edit'), deleteTitle: t('deleteTitle') },
      path: PATHS.holidays,
      read: 'rules:read',
      write: 'rules:write',
      columns: [
        {
          label: t('col.date'),
          render: (h) => (
            <span className="nowrap">
              <strong>{h.date}</strong> <span className="muted">{weekdayName(isoWeekday(h.date))}</span>
            </span>
          ),
        },
        { label: t('col.name'), render: (h) => h.name },
        {
          label: t('col.kind'),
          render: (h) => <Badge tone={h.kind === 'closed' ? 'deny' : 'warn'}>{t(`kind.${h.kind}`)}</Badge>,
        },
        {
          label: t('col.hours'),
          render: (h) => (h.kind === 'closed' ? t('closedAllDay') : h.windows.map((w) => `${w.from}–${w.to}`).join(', ')),
        },
      ],
      fields: () => [
        {
          name: 'date',
          label: t('field.date'),
          kind: 'date',
          required: true,
          validate: (v) => (DATE.test(str(v)) ? null : t('form.dateFormat')),
        },
        { name: 'name', label: t('field.name'), kind: 'text', required: true, placeholder: t('form.namePlaceholder') },
        {
          name: 'kind',
          label: t('field.kind'),
          kind: 'select',
          required: true,
          hint: t('form.kindHint'),
          options: () => [
            { value: 'closed', label: t('kindOption.closed') },
            { value: 'special', label: t('kindOption.special') },
          ],
        },
        {
          name: 'windows',
          label: t('field.windows'),
          kind: 'windows',
          when: (v) => v.kind === 'special',
          validate: (v) => ((v as TimeWindow[] | undefined)?.length ? null : t('form.windowsNeeded')),
        },
      ],
      empty: { date: '', name: '', kind: 'closed', windows: [{ from: '10:00', to: '16:00' }] },
      toValues: (h) => ({
        date: h.date,
        name: h.name,
        kind: h.kind,
        windows: h.windows.length ? h.windows : [{ from: '10:00', to: '16:00' }],
      }),
      toBody: (v: Values, mode) => {
        const kind = str(v.kind);
        const body = {
          date: str(v.date),
          kind,
          name: str(v.name),
          // A closed day has no hours; the form keeps them only while "special" is chosen.
          windows: kind === 'special' ? (v.windows as TimeWindow[]) : [],
        };
        return mode === 'create' ? { siteId, ...body } : body;
      },
      searchText: (h) => `${h.date} ${h.name} ${t(`kind.${h.kind}`)}`,
      canEdit: true,
      canDelete: true,
      emptyText: past ? t('emptyAll') : t('empty'),
      // Upcoming days from today (the site's today); the past only when asked for.
      query: past ? { siteId } : ({ siteId, from: today } as Record<string, string>),
      headActions: (
        <>
          <SelectField
            label={t('site')}
            hideLabel
            options={optionsOf(sites)}
            value={siteId}
            onChange={(id) => navigate(`/holidays?site=${id}`)}
          />
          <label htmlFor={pastId} style={{ display: 'inline-flex', alignItems: 'center', gap: 4 }}>
            <input id={pastId} type="checkbox" checked={past} onChange={(e) => setPast(e.target.checked)} /> {t('showPast')}
          </label>
        </>
      ),
    }),
    [t, site, siteId, sites, past, today, pastId],
  );

  if (ready && sites.length === 0) {
    return (
      <>
        <PageHead title={t('title')} />
        <Empty>{t('noSites')}</Empty>
      </>
    );
  }
  if (!siteId) return <PageHead title={t('title')} />;
  // A new site means a new list and a fresh form.
  return <ResourcePage key={siteId} def={def} />;
}
