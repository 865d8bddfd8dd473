import { orNull, str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { Badge } from '../../components/ui.tsx';
import { fmtDateTime, fromLocalInput, toLocalInput } from '../../lib/format.ts';
import { nameOf } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import type { Appointment } from '../../lib/types.ts';

const appointments: ResourceDef<Appointment> = {
  title: 'Appointments',
  singular: 'appointment',
  path: PATHS.appointments,
  read: 'appointments:read',
  write: 'appointments:write',
  lookups: ['hosts', 'visitors'],
  columns: [
    { label: 'When', render: (a) => `${fmtDateTime(a.startsAt)} – ${fmtDateTime(a.endsAt)}` },
    { label: 'Host', render: (a, l) => nameOf(l.hosts, a.hostId) },
    { label: 'Visitors', render: (a, l) => a.visitorIds.map((v) => nameOf(l.visitors, v)).join(', ') },
    { label: 'Room', render: (a) => a.room ?? '—' },
    {
      label: 'Status',
      render: (a) => <Badge tone={a.status === 'scheduled' ? 'neutral' : a.status === 'done' ? 'ok' : 'warn'}>{a.status}</Badge>,
    },
  ],
  fields: (l) => [
    {
      name: 'hostId',
      label: 'Host',
      kind: 'select',
      required: true,
      options: () => [...(l.hosts?.values() ?? [])].map((h) => ({ value: h.id, label: h.fullName })),
    },
    {
      name: 'visitorIds',
      label: 'Visitors',
      kind: 'multicheck',
      required: true,
      options: () => [...(l.visitors?.values() ?? [])].map((v) => ({ value: v.id, label: v.fullName })),
    },
    { name: 'startsAt', label: 'Starts', kind: 'datetime', required: true },
    {
      name: 'endsAt',
      label: 'Ends',
      kind: 'datetime',
      required: true,
      validate: (v, all) => (str(v) && str(all.startsAt) && str(v) <= str(all.startsAt) ? 'Must be after the start.' : null),
    },
    { name: 'room', label: 'Room / address', kind: 'text' },
    {
      name: 'status',
      label: 'Status',
      kind: 'select',
      only: 'edit',
      options: () => ['scheduled', 'cancelled', 'done'].map((s) => ({ value: s, label: s })),
    },
  ],
  empty: {
    hostId: '',
    visitorIds: [],
    startsAt: toLocalInput(new Date().toISOString()),
    endsAt: toLocalInput(new Date(Date.now() + 3600_000).toISOString()),
    room: '',
  },
  toValues: (a) => ({ ...a, startsAt: toLocalInput(a.startsAt), endsAt: toLocalInput(a.endsAt), room: a.room ?? '' }),
  toBody: (v, mode) => ({
    hostId: str(v.hostId),
    visitorIds: v.visitorIds as string[],
    startsAt: fromLocalInput(str(v.startsAt)),
    endsAt: fromLocalInput(str(v.endsAt)),
    room: orNull(v.room),
    ...(mode === 'edit' && str(v.status) ? { status: str(v.status) } : {}),
  }),
  searchText: (a, l) =>
    `${nameOf(l.hosts, a.hostId)} ${a.visitorIds.map((v) => nameOf(l.visitors, v)).join(' ')} ${a.room ?? ''} ${a.status}`,
  canEdit: true,
  emptyText: 'No appointments yet.',
};

export const AppointmentsPage = () => <ResourcePage def={appointments} />;
