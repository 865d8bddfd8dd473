import type { TFunction } from 'i18next';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { nameOf } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import type { Zone } from '../../lib/types.ts';

const zones = (t: TFunction<'resources'>): ResourceDef<Zone> => ({
  title: t('zones.title'),
  phrases: { new: t('zones.new'), create: t('zones.create'), edit: t('zones.edit'), deleteTitle: t('zones.deleteTitle') },
  path: PATHS.zones,
  read: 'zones:read',
  write: 'zones:write',
  lookups: ['sites'],
  columns: [
    { label: t('name'), render: (z) => <strong>{z.name}</strong> },
    { label: t('site'), render: (z, l) => nameOf(l.sites, z.siteId) },
    { label: t('created'), render: (z, l) => fmtDateTime(z.createdAt, l.sites?.get(z.siteId)?.timezone) },
  ],
  fields: (l) => [
    {
      name: 'siteId',
      label: t('site'),
      kind: 'select',
      required: true,
      only: 'create',
      options: () => [...(l.sites?.values() ?? [])].map((s) => ({ value: s.id, label: s.name })),
    },
    { name: 'name', label: t('name'), kind: 'text', required: true, placeholder: t('zones.namePlaceholder') },
  ],
  empty: { siteId: '', name: '' },
  toValues: (z) => ({ siteId: z.siteId, name: z.name }),
  toBody: (v, mode) => (mode === 'create' ? { siteId: str(v.siteId), name: str(v.name) } : { name: str(v.name) }),
  searchText: (z, l) => `${z.name} ${nameOf(l.sites, z.siteId)}`,
  canEdit: true,
  canDelete: true,
  emptyText: t('zones.empty'),
});

export function ZonesPage() {
  const { t } = useTranslation('resources');
  const def = useMemo(() => zones(t), [t]);
  return <ResourcePage def={def} />;
}
