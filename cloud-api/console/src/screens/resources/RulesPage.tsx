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
/** A whole number within bounds, as the form holds it (text). */
const inRange = (v: unknown, min: number, max: number) => {
  const n = Number(str(String(v ?? '')));
  return Number.isInteger(n) && n >= min && n <= max;
};
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
          {r.antiPassback !== 'off' ? (
            <Badge tone={r.antiPassback === 'hard' ? 'deny' : 'warn'}>
              {r.passbackMinutes
                ? t('rules.flag.passbackTimed', { mode: t(`rules.passback.${r.antiPassback}`), minutes: r.passbackMinutes })
                : t('rules.flag.passback', { mode: t(`rules.passback.${r.antiPassback}`) })}
            </Badge>
          ) : null}
          {r.escortRequired ? <Badge tone="neutral">{t('rules.flag.escortSeconds', { seconds: r.escortSeconds })}</Badge> : null}
          {r.holidays === 'ignore' ? <Badge tone="neutral">{t('rules.flag.ignoresHolidays')}</Badge> : null}
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
    {
      name: 'antiPassback',
      label: t('rules.field.antiPassback'),
      kind: 'select',
      required: true,
      wide: true,
      options: () => (['off', 'soft', 'hard'] as const).map((m) => ({ value: m, label: t(`rules.passbackOption.${m}`) })),
    },
    {
      name: 'passbackMinutes',
      label: t('rules.field.passbackMinutes'),
      kind: 'number',
      hint: t('rules.passbackMinutesHint'),
      when: (v) => v.antiPassback === 'soft' || v.antiPassback === 'hard',
      validate: (v) => (str(String(v ?? '')) && !inRange(v, 1, 10_080) ? t('rules.range', { min: 1, max: 10_080 }) : null),
    },
    { name: 'escortRequired', label: t('rules.field.escort'), kind: 'checkbox', hint: t('rules.escortHint') },
    {
      name: 'escortSeconds',
      label: t('rules.field.escortSeconds'),
      kind: 'number',
      required: true,
      hint: t('rules.escortSecondsHint'),
      when: (v) => v.escortRequired === true,
      validate: (v) => (inRange(v, 1, 600) ? null : t('rules.range', { min: 1, max: 600 })),
    },
    {
      name: 'holidays',
      label: t('rules.field.holidays'),
      kind: 'select',
      required: true,
      wide: true,
      options: () => (['observe', 'ignore'] as const).map((m) => ({ value: m, label: t(`rules.holidaysOption.${m}`) })),
    },
  ],
  empty: {
    name: '',
    zoneIds: [],
    weekdays: [1, 2, 3, 4, 5],
    timeWindows: [{ from: '08:00', to: '20:00' }],
    maxUses: '',
    escortRequired: false,
    escortSeconds: '30',
    // Off unless chosen, as the form always made rules: hard at a site without exit readers would refuse every second visit.
    antiPassback: 'off',
    passbackMinutes: '',
    holidays: 'observe',
  },
  toValues: (r) => ({
    ...r,
    maxUses: r.maxUses === null ? '' : String(r.maxUses),
    passbackMinutes: r.passbackMinutes === null ? '' : String(r.passbackMinutes),
    escortSeconds: String(r.escortSeconds),
  }),
  toBody: (v: Values) => ({
    name: str(v.name),
    zoneIds: v.zoneIds as string[],
    weekdays: v.weekdays as number[],
    timeWindows: v.timeWindows as TimeWindow[],
    maxUses: str(String(v.maxUses ?? '')) ? Number(v.maxUses) : null,
    escortRequired: v.escortRequired === true,
    // Kept when escort is off, so ticking it again brings back the same window.
    ...(inRange(v.escortSeconds, 1, 600) ? { escortSeconds: Number(v.escortSeconds) } : {}),
    antiPassback: str(v.antiPassback) || 'off',
    passbackMinutes: v.antiPassback !== 'off' && str(String(v.passbackMinutes ?? '')) ? Number(v.passbackMinutes) : null,
    holidays: str(v.holidays) || 'observe',
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
