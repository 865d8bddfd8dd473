import { str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { ago } from '../../lib/format.ts';
import { nameOf } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import type { Gate } from '../../lib/types.ts';
import { EnrollButton } from './EnrollButton.tsx';
import { GateStatus } from './GateStatus.tsx';

const gates: ResourceDef<Gate> = {
  title: 'Gates',
  singular: 'gate',
  path: PATHS.gates,
  read: 'gates:read',
  write: 'gates:write',
  lookups: ['sites', 'zones'],
  columns: [
    { label: 'Name', render: (g) => <strong>{g.name}</strong> },
    { label: 'Site / zone', render: (g, l) => `${nameOf(l.sites, g.siteId)} / ${nameOf(l.zones, g.zoneId)}` },
    { label: 'Direction', render: (g) => g.direction },
    { label: 'Status', render: (g) => <GateStatus gate={g} /> },
    { label: 'Last seen', render: (g) => (g.lastSeenAt ? ago(g.lastSeenAt) : 'never') },
    { label: 'Cache seq', render: (g) => g.cacheSeq, className: 'num' },
    { label: 'Outbox', render: (g) => g.outboxDepth, className: 'num' },
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
    {
      name: 'zoneId',
      label: 'Zone',
      kind: 'select',
      required: true,
      hint: 'Zones of the chosen site.',
      options: (v) =>
        [...(l.zones?.values() ?? [])].filter((z) => !v.siteId || z.siteId === v.siteId).map((z) => ({ value: z.id, label: z.name })),
      validate: (zoneId, v) => {
        const z = l.zones?.get(String(zoneId));
        return z && v.siteId && z.siteId !== v.siteId ? 'This zone belongs to another site.' : null;
      },
    },
    { name: 'name', label: 'Name', kind: 'text', required: true, placeholder: 'Turnstile 1' },
    {
      name: 'direction',
      label: 'Direction',
      kind: 'select',
      required: true,
      options: () => [
        { value: 'in', label: 'In (entry)' },
        { value: 'out', label: 'Out (exit)' },
        { value: 'both', label: 'Both' },
      ],
    },
  ],
  empty: { siteId: '', zoneId: '', name: '', direction: 'in' },
  toValues: (g) => ({ siteId: g.siteId, zoneId: g.zoneId, name: g.name, direction: g.direction }),
  toBody: (v, mode) =>
    mode === 'create'
      ? { siteId: str(v.siteId), zoneId: str(v.zoneId), name: str(v.name), direction: str(v.direction) }
      : { zoneId: str(v.zoneId), name: str(v.name), direction: str(v.direction) },
  searchText: (g, l) => `${g.name} ${nameOf(l.sites, g.siteId)} ${nameOf(l.zones, g.zoneId)} ${g.online ? 'online' : 'offline'}`,
  canEdit: true,
  canDelete: true,
  rowActions: (g) => <EnrollButton gate={g} />,
  emptyText: 'No gates yet. Add one, then enroll its controller with the one-time code.',
};

export const GatesPage = () => <ResourcePage def={gates} />;
