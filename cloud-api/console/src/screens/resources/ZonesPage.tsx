import { str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { nameOf } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import type { Zone } from '../../lib/types.ts';

const zones: ResourceDef<Zone> = {
  title: 'Zones',
  singular: 'zone',
  path: PATHS.zones,
  read: 'zones:read',
  write: 'zones:write',
  lookups: ['sites'],
  columns: [
    { label: 'Name', render: (z) => <strong>{z.name}</strong> },
    { label: 'Site', render: (z, l) => nameOf(l.sites, z.siteId) },
    { label: 'Created', render: (z) => fmtDateTime(z.createdAt) },
  ],
  fields: (l) => [
    {
      name: 'siteId',
      label: 'Site',
      kind: 'select',
      required: true,
      only: 'create',
      options: () => [...(l.sites?.values() ?? [])].map((s) => ({ value: s.id, label: s.name })),
    },
    { name: 'name', label: 'Name', kind: 'text', required: true, placeholder: 'Lobby' },
  ],
  empty: { siteId: '', name: '' },
  toValues: (z) => ({ siteId: z.siteId, name: z.name }),
  toBody: (v, mode) => (mode === 'create' ? { siteId: str(v.siteId), name: str(v.name) } : { name: str(v.name) }),
  searchText: (z, l) => `${z.name} ${nameOf(l.sites, z.siteId)}`,
  canEdit: true,
  canDelete: true,
  emptyText: 'No zones yet. Zones group the gates an access rule opens.',
};

export const ZonesPage = () => <ResourcePage def={zones} />;
