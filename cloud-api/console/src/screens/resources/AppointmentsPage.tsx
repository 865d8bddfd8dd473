import type { TFunction } from 'i18next';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { orNull, str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { Badge } from '../../components/ui.tsx';
import { fmtDateTime, fromLocalInput, toLocalInput } from '../../lib/format.ts';
import { shortId } from '../../lib/lookups.ts';
import { findHosts, findVisitors } from '../../lib/people.ts';
import { PATHS } from '../../lib/query.ts';
import type { Appointment } from '../../lib/types.ts';

const STATUSES = ['scheduled', 'cancelled', 'done'] as const;

const appointments = (t: TFunction<'resources'>): ResourceDef<Appointment> => ({
  title: t('appointments.title'),
  phrases: {
    new: t('appointments.new'),
    create: t('appointments.create'),
    edit: t('appointments.edit'),
    deleteTitle: t('appointments.deleteTitle'),
  },
  path: PATHS.appointments,
  read: 'appointments:read',
  write: 'appointments:write',
  // Each appointment names its host and visitors: a large organisation's are more than the console loads.
  columns: [
    { label: t('appointments.col.when'), render: (a) => `${fmtDateTime(a.startsAt)} – ${fmtDateTime(a.endsAt)}` },
    { label: t('appointments.field.host'), render: (a) => a.hostName ?? shortId(a.hostId) },
    { label: t('appointments.field.visitors'), render: (a) => (a.visitorNames ?? a.visitorIds.map(shortId)).join(', ') },
    { label: t('appointments.col.room'), render: (a) => a.room ?? '—' },
    {
      label: t('appointments.field.status'),
      render: (a) => (
        <Badge tone={a.status === 'scheduled' ? 'neutral' : a.status === 'done' ? 'ok' : 'warn'}>
          {t(`appointments.status.${a.status}`)}
        </Badge>
      ),
    },
  ],
  // An edited appointment's own host and visitors come with its values (hostName, visitorNames); others are searched for.
  fields: () => [
    {
      name: 'hostId',
      label: t('appointments.field.host'),
      kind: 'select',
      required: true,
      options: (v) => (str(v.hostId) && typeof v.hostName === 'string' ? [{ value: str(v.hostId), label: v.hostName }] : []),
      search: findHosts,
    },
    {
      name: 'visitorIds',
      label: t('appointments.field.visitors'),
      kind: 'multicheck',
      required: true,
      options: (v) => {
        const names = Array.isArray(v.visitorNames) ? (v.visitorNames as string[]) : [];
        return ((v.originalVisitorIds as string[] | undefined) ?? []).map((id, i) => ({ value: id, label: names[i] ?? shortId(id) }));
      },
      search: findVisitors,
    },
    { name: 'startsAt', label: t('appointments.field.starts'), kind: 'datetime', required: true },
    {
      name: 'endsAt',
      label: t('appointments.field.ends'),
      kind: 'datetime',
      required: true,
      validate: (v, all) => (str(v) && str(all.startsAt) && str(v) <= str(all.startsAt) ? t('appointments.afterStart') : null),
    },
    { name: 'room', label: t('appointments.field.room'), kind: 'text' },
    {
      name: 'status',
      label: t('appointments.field.status'),
      kind: 'select',
      only: 'edit',
      options: () => STATUSES.map((s) => ({ value: s, label: t(`appointments.status.${s}`) })),
    },
  ],
  empty: {
    hostId: '',
    visitorIds: [],
    startsAt: toLocalInput(new Date().toISOString()),
    endsAt: toLocalInput(new Date(Date.now() + 3600_000).toISOString()),
    room: '',
  },
  toValues: (a) => ({
    ...a,
    originalVisitorIds: a.visitorIds,
    startsAt: toLocalInput(a.startsAt),
    endsAt: toLocalInput(a.endsAt),
    room: a.room ?? '',
  }),
  toBody: (v, mode) => ({
    hostId: str(v.hostId),
    visitorIds: v.visitorIds as string[],
    startsAt: fromLocalInput(str(v.startsAt)),
    endsAt: fromLocalInput(str(v.endsAt)),
    room: orNull(v.room),
    ...(mode === 'edit' && str(v.status) ? { status: str(v.status) } : {}),
  }),
  serverSearch: true,
  canEdit: true,
  emptyText: t('appointments.empty'),
});

export function AppointmentsPage() {
  const { t } = useTranslation('resources');
  const def = useMemo(() => appointments(t), [t]);
  return <ResourcePage def={def} />;
}
