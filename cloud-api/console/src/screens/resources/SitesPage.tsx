import type { TFunction } from 'i18next';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { PATHS } from '../../lib/query.ts';
import type { Site } from '../../lib/types.ts';

function timezones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC', 'Europe/Moscow', 'Europe/Paris', 'Europe/London', 'America/New_York'];
  }
}

const sites = (t: TFunction<'resources'>): ResourceDef<Site> => ({
  title: t('sites.title'),
  phrases: { new: t('sites.new'), create: t('sites.create'), edit: t('sites.edit'), deleteTitle: t('sites.deleteTitle') },
  path: PATHS.sites,
  read: 'sites:read',
  write: 'sites:write',
  columns: [
    { label: t('name'), render: (s) => <strong>{s.name}</strong> },
    { label: t('sites.field.timezone'), render: (s) => s.timezone },
    { label: t('created'), render: (s) => fmtDateTime(s.createdAt, s.timezone) },
  ],
  fields: () => [
    { name: 'name', label: t('name'), kind: 'text', required: true, placeholder: t('sites.namePlaceholder') },
    {
      name: 'timezone',
      label: t('sites.field.timezone'),
      kind: 'select',
      required: true,
      hint: t('sites.timezoneHint'),
      options: () => timezones().map((z) => ({ value: z, label: z })),
    },
  ],
  empty: { name: '', timezone: Intl.DateTimeFormat().resolvedOptions().timeZone },
  toValues: (s) => ({ name: s.name, timezone: s.timezone }),
  toBody: (v) => ({ name: str(v.name), timezone: str(v.timezone) }),
  searchText: (s) => `${s.name} ${s.timezone}`,
  canEdit: true,
  canDelete: true,
  emptyText: t('sites.empty'),
});

export function SitesPage() {
  const { t } = useTranslation('resources');
  const def = useMemo(() => sites(t), [t]);
  return <ResourcePage def={def} />;
}
