import type { TFunction } from 'i18next';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { Badge } from '../../components/ui.tsx';
import { ago } from '../../lib/format.ts';
import { nameOf } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import type { Gate } from '../../lib/types.ts';
import { EnrollButton } from './EnrollButton.tsx';
import { GateStatus } from './GateStatus.tsx';

/**
 * SYNC-5: past one TOTP step (30 s) a controller leans on its estimate of the cloud's clock for codes and
 * command expiry; an admin should fix its time source (NTP, RTC battery) before that estimate is lost.
 */
const SKEW_WARN_MS = 30_000;

function clockSkew(t: TFunction<['resources', 'common']>, ms: number | undefined) {
  if (ms === undefined) return '—';
  const text = t('gates.skew', { seconds: (ms / 1000).toFixed(1) });
  return Math.abs(ms) > SKEW_WARN_MS ? (
    <Badge tone="warn">
      <span title={t('gates.skewWarn')}>{text}</span>
    </Badge>
  ) : (
    text
  );
}

const gates = (t: TFunction<['resources', 'common']>): ResourceDef<Gate> => ({
  title: t('gates.title'),
  phrases: { new: t('gates.new'), create: t('gates.create'), edit: t('gates.edit'), deleteTitle: t('gates.deleteTitle') },
  path: PATHS.gates,
  read: 'gates:read',
  write: 'gates:write',
  lookups: ['sites', 'zones'],
  columns: [
    { label: t('name'), render: (g) => <strong>{g.name}</strong> },
    { label: t('gates.col.place'), render: (g, l) => `${nameOf(l.sites, g.siteId)} / ${nameOf(l.zones, g.zoneId)}` },
    { label: t('gates.field.direction'), render: (g) => t(`common:direction.${g.direction}`) },
    { label: t('gates.col.status'), render: (g) => <GateStatus gate={g} /> },
    { label: t('gates.col.lastSeen'), render: (g) => ago(g.lastSeenAt) },
    { label: t('gates.col.cacheSeq'), render: (g) => g.cacheSeq, className: 'num' },
    { label: t('gates.col.outbox'), render: (g) => g.outboxDepth, className: 'num' },
    { label: t('gates.col.clock'), render: (g) => clockSkew(t, g.clockSkewMs), className: 'num' },
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
    {
      name: 'zoneId',
      label: t('gates.field.zone'),
      kind: 'select',
      required: true,
      hint: t('gates.zoneHint'),
      options: (v) =>
        [...(l.zones?.values() ?? [])].filter((z) => !v.siteId || z.siteId === v.siteId).map((z) => ({ value: z.id, label: z.name })),
      validate: (zoneId, v) => {
        const z = l.zones?.get(String(zoneId));
        return z && v.siteId && z.siteId !== v.siteId ? t('gates.zoneElsewhere') : null;
      },
    },
    { name: 'name', label: t('name'), kind: 'text', required: true, placeholder: t('gates.namePlaceholder') },
    {
      name: 'direction',
      label: t('gates.field.direction'),
      kind: 'select',
      required: true,
      options: () => [
        { value: 'in', label: t('gates.direction.in') },
        { value: 'out', label: t('gates.direction.out') },
        { value: 'both', label: t('gates.direction.both') },
      ],
    },
  ],
  empty: { siteId: '', zoneId: '', name: '', direction: 'in' },
  toValues: (g) => ({ siteId: g.siteId, zoneId: g.zoneId, name: g.name, direction: g.direction }),
  toBody: (v, mode) =>
    mode === 'create'
      ? { siteId: str(v.siteId), zoneId: str(v.zoneId), name: str(v.name), direction: str(v.direction) }
      : { zoneId: str(v.zoneId), name: str(v.name), direction: str(v.direction) },
  searchText: (g, l) =>
    `${g.name} ${nameOf(l.sites, g.siteId)} ${nameOf(l.zones, g.zoneId)} ${g.online ? t('common:gate.online') : t('common:gate.offline')}`,
  canEdit: true,
  canDelete: true,
  rowActions: (g) => <EnrollButton gate={g} />,
  emptyText: t('gates.empty'),
});

export function GatesPage() {
  const { t } = useTranslation(['resources', 'common']);
  const def = useMemo(() => gates(t), [t]);
  return <ResourcePage def={def} />;
}
