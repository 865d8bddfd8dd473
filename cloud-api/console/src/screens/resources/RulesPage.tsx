import type { TFunction } from 'i18next';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { str, type Values } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { Badge } from '../../components/ui.tsx';
import { weekdayName } from '../../lib/format.ts';
import { nameOf } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import type { AccessRule, TimeWindow } from '../../lib/types.ts';

function describeDays(t: TFunction<'resources'>, days: number[]): string {
  if (days.length === 0 || days.length === 7) return t('rules.everyDay');
  return days.map(weekdayName).join(' ');
}
function describeWindows(t: TFunction<'resources'>, ws: TimeWindow[]): string {
  return ws.length === 0 ? t('rules.allDay') : ws.map((w) => `${w.from}–${w.to}`).join(', ');
}

const rules = (t: TFunction<'resources'>): ResourceDef<AccessRule> => ({
  title: t('rules.title'),
  phrases: { new: t('rules.new'), create: t('rules.create'), edit: t('rules.edit'), deleteTitle: t('rules.deleteTitle') },
  path: PATHS.rules,
  read: 'rules:read',
  write: 'rules:write',
  lookups: ['zones', 'sites'],
  columns: [
    { label: t('name'), render: (r) => <strong>{r.name}</strong> },
    { label: t('rules.col.zones'), render: (r, l) => r.zoneIds.map((z) => nameOf(l.zones, z)).join(', ') },
    { label: t('rules.col.when'), render: (r) => `${describeDays(t, r.weekdays)}, ${describeWindows(t, r.timeWindows)}` },
    { label: t('rules.col.uses'), render: (r) => r.maxUses ?? '∞', className: 'num' },
    {
      label: t('rules.col.flags'),
      render: (r) => (
        <span className="actions">
          {r.escortRequired ? <Badge tone="neutral">{t('rules.flag.escort')}</Badge> : null}
          {r.antiPassback ? <Badge tone="neutral">{t('rules.flag.antiPassback')}</Badge> : null}
        </span>
      ),
    },
  ],
  fields: (l) => [
    { name: 'name', label: t('name'), kind: 'text', required: true, placeholder: t('rules.namePlaceholder') },
    {
      name: 'zoneIds',
      label: t('rules.field.zones'),
      kind: 'multicheck',
      required: true,
      options: () => [...(l.zones?.values() ?? [])].map((z) => ({ value: z.id, label: `${nameOf(l.sites, z.siteId)} · ${z.name}` })),
    },
    { name: 'weekdays', label: t('rules.field.days'), kind: 'weekdays', hint: t('rules.daysHint') },
    { name: 'timeWindows', label: t('rules.field.windows'), kind: 'windows' },
    { name: 'maxUses', label: t('rules.field.maxUses'), kind: 'number', hint: t('rules.maxUsesHint') },
    { name: 'escortRequired', label: t('rules.field.escort'), kind: 'checkbox' },
    { name: 'antiPassback', label: t('rules.field.antiPassback'), kind: 'checkbox' },
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
  emptyText: t('rules.empty'),
});

export function RulesPage() {
  const { t } = useTranslation('resources');
  const def = useMemo(() => rules(t), [t]);
  return <ResourcePage def={def} />;
}
