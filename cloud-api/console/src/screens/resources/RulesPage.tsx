import { str, type Values } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { Badge } from '../../components/ui.tsx';
import { WEEKDAYS } from '../../lib/format.ts';
import { nameOf } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import type { AccessRule, TimeWindow } from '../../lib/types.ts';

function describeDays(days: number[]): string {
  if (days.length === 0 || days.length === 7) return 'Every day';
  return days.map((d) => WEEKDAYS[d - 1]).join(' ');
}
function describeWindows(ws: TimeWindow[]): string {
  return ws.length === 0 ? 'all day' : ws.map((w) => `${w.from}–${w.to}`).join(', ');
}

const rules: ResourceDef<AccessRule> = {
  title: 'Access rules',
  singular: 'rule',
  path: PATHS.rules,
  read: 'rules:read',
  write: 'rules:write',
  lookups: ['zones', 'sites'],
  columns: [
    { label: 'Name', render: (r) => <strong>{r.name}</strong> },
    { label: 'Zones', render: (r, l) => r.zoneIds.map((z) => nameOf(l.zones, z)).join(', ') },
    { label: 'When', render: (r) => `${describeDays(r.weekdays)}, ${describeWindows(r.timeWindows)}` },
    { label: 'Uses', render: (r) => r.maxUses ?? '∞', className: 'num' },
    {
      label: 'Flags',
      render: (r) => (
        <span className="actions">
          {r.escortRequired ? <Badge tone="neutral">escort</Badge> : null}
          {r.antiPassback ? <Badge tone="neutral">anti-passback</Badge> : null}
        </span>
      ),
    },
  ],
  fields: (l) => [
    { name: 'name', label: 'Name', kind: 'text', required: true, placeholder: 'Visitors, office hours' },
    {
      name: 'zoneIds',
      label: 'Zones it opens',
      kind: 'multicheck',
      required: true,
      options: () => [...(l.zones?.values() ?? [])].map((z) => ({ value: z.id, label: `${nameOf(l.sites, z.siteId)} · ${z.name}` })),
    },
    { name: 'weekdays', label: 'Days', kind: 'weekdays', hint: 'None selected = every day.' },
    { name: 'timeWindows', label: 'Time windows (site local time)', kind: 'windows' },
    { name: 'maxUses', label: 'Max entries', kind: 'number', hint: 'Empty = unlimited.' },
    { name: 'escortRequired', label: 'Escort required', kind: 'checkbox' },
    { name: 'antiPassback', label: 'Anti-passback', kind: 'checkbox' },
  ],
  empty: {
    name: '',
    zoneIds: [],
    weekdays: [1, 2, 3, 4, 5],
    timeWindows: [{ from: '08:00', to: '20:00' }],
    maxUses: '',
    escortRequired: false,
    antiPassback: false,
  },
  toValues: (r) => ({ ...r, maxUses: r.maxUses === null ? '' : String(r.maxUses) }),
  toBody: (v: Values) => ({
    name: str(v.name),
    zoneIds: v.zoneIds as string[],
    weekdays: v.weekdays as number[],
    timeWindows: v.timeWindows as TimeWindow[],
    maxUses: str(String(v.maxUses ?? '')) ? Number(v.maxUses) : null,
    escortRequired: v.escortRequired === true,
    antiPassback: v.antiPassback === true,
  }),
  searchText: (r, l) => `${r.name} ${r.zoneIds.map((z) => nameOf(l.zones, z)).join(' ')}`,
  canEdit: true,
  canDelete: true,
  emptyText: 'No access rules yet. A rule says which zones a pass opens, on which days and hours.',
};

export const RulesPage = () => <ResourcePage def={rules} />;
