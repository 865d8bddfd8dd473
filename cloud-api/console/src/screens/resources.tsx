import { useState } from 'react';
import type { Values } from '../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../components/ResourcePage.tsx';
import { Badge, Dialog, ErrorBox } from '../components/ui.tsx';
import { api } from '../lib/api.ts';
import { ago, fmtDateTime, fromLocalInput, toLocalInput, WEEKDAYS } from '../lib/format.ts';
import { nameOf } from '../lib/lookups.ts';
import { can, ROLES } from '../lib/permissions.ts';
import type { AccessRule, Appointment, Gate, Site, TimeWindow, User, Visitor, Zone } from '../lib/types.ts';

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
const orNull = (v: unknown) => str(v) || null;

function timezones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC', 'Europe/Moscow', 'Europe/Paris', 'Europe/London', 'America/New_York'];
  }
}

const sites: ResourceDef<Site> = {
  title: 'Sites',
  singular: 'site',
  path: '/api/admin/sites',
  read: 'sites:read',
  write: 'sites:write',
  lookupKind: 'sites',
  columns: [
    { label: 'Name', render: (s) => <strong>{s.name}</strong> },
    { label: 'Time zone', render: (s) => s.timezone },
    { label: 'Created', render: (s) => fmtDateTime(s.createdAt) },
  ],
  fields: () => [
    { name: 'name', label: 'Name', kind: 'text', required: true, placeholder: 'Head office' },
    {
      name: 'timezone',
      label: 'Time zone',
      kind: 'select',
      required: true,
      hint: 'Access-rule hours are read in this zone.',
      options: () => timezones().map((z) => ({ value: z, label: z })),
    },
  ],
  empty: { name: '', timezone: Intl.DateTimeFormat().resolvedOptions().timeZone },
  toValues: (s) => ({ name: s.name, timezone: s.timezone }),
  toBody: (v) => ({ name: str(v.name), timezone: str(v.timezone) }),
  searchText: (s) => `${s.name} ${s.timezone}`,
  canEdit: true,
  canDelete: true,
  emptyText: 'No sites yet. A site is a building or campus with its own time zone.',
};

const zones: ResourceDef<Zone> = {
  title: 'Zones',
  singular: 'zone',
  path: '/api/admin/zones',
  read: 'zones:read',
  write: 'zones:write',
  lookups: ['sites'],
  lookupKind: 'zones',
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

function EnrollButton({ gate }: { gate: Gate }) {
  const [result, setResult] = useState<{ code: string; expiresAt: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState(false);
  if (!can('gates:enroll')) return null;
  const go = async () => {
    setOpen(true);
    setResult(null);
    setError(null);
    try {
      setResult(await api.post<{ code: string; expiresAt: string }>(`/api/admin/gates/${gate.id}/enrollment`));
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <button type="button" onClick={go}>
        Enroll
      </button>
      <Dialog title={`Enroll a controller as “${gate.name}”`} open={open} onClose={() => setOpen(false)}>
        <ErrorBox error={error} />
        {result ? (
          <>
            <p>On the controller, run:</p>
            <pre className="mono card" data-testid="enroll-command">
              gatehouse-edge enroll --cloud {window.location.origin} --code {result.code}
            </pre>
            <p>
              One-time code <strong className="mono">{result.code}</strong>, valid until {fmtDateTime(result.expiresAt)}.
            </p>
          </>
        ) : error ? null : (
          <p className="loading">Creating a code…</p>
        )}
      </Dialog>
    </>
  );
}

export function GateStatus({ gate }: { gate: Gate }) {
  return (
    <span className="actions">
      {gate.online ? <Badge tone="ok">online</Badge> : <Badge tone="deny">offline</Badge>}
      {gate.lockdown ? <Badge tone="warn">lockdown</Badge> : null}
      {!gate.deviceId ? <Badge tone="neutral">not enrolled</Badge> : null}
    </span>
  );
}

const gates: ResourceDef<Gate> = {
  title: 'Gates',
  singular: 'gate',
  path: '/api/admin/gates',
  read: 'gates:read',
  write: 'gates:write',
  lookups: ['sites', 'zones'],
  lookupKind: 'gates',
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
  path: '/api/admin/access-rules',
  read: 'rules:read',
  write: 'rules:write',
  lookups: ['zones', 'sites'],
  lookupKind: 'rules',
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

const users: ResourceDef<User> = {
  title: 'Users and roles',
  singular: 'user',
  path: '/api/admin/users',
  read: 'users:read',
  write: 'users:write',
  lookupKind: 'users',
  columns: [
    { label: 'Name', render: (u) => <strong>{u.fullName}</strong> },
    { label: 'E-mail', render: (u) => u.email },
    {
      label: 'Roles',
      render: (u) => (
        <span className="actions">
          {u.roles.map((r) => (
            <Badge key={r} tone="neutral">
              {r}
            </Badge>
          ))}
        </span>
      ),
    },
    { label: 'Created', render: (u) => fmtDateTime(u.createdAt) },
  ],
  fields: () => [
    { name: 'fullName', label: 'Full name', kind: 'text', required: true },
    { name: 'email', label: 'E-mail', kind: 'email', required: true },
    {
      name: 'roles',
      label: 'Roles',
      kind: 'multicheck',
      required: true,
      hint: 'OrgAdmin: everything. SecurityOfficer: rules, revocations, audit. Operator: front desk and gates. Host: own visitors.',
      options: () => ROLES.filter((r) => r !== 'PlatformAdmin' && r !== 'Guest').map((r) => ({ value: r, label: r })),
    },
    {
      name: 'password',
      label: 'Initial password',
      kind: 'password',
      only: 'create',
      hint: 'At least 8 characters. Leave empty for single sign-on users.',
      validate: (v) => (str(v) && str(v).length < 8 ? 'At least 8 characters.' : null),
    },
  ],
  empty: { fullName: '', email: '', roles: [], password: '' },
  toBody: (v) => ({
    fullName: str(v.fullName),
    email: str(v.email),
    roles: v.roles as string[],
    ...(str(v.password) ? { password: String(v.password) } : {}),
  }),
  searchText: (u) => `${u.fullName} ${u.email} ${u.roles.join(' ')}`,
  emptyText: 'No users.',
};

const visitors: ResourceDef<Visitor> = {
  title: 'Visitors',
  singular: 'visitor',
  path: '/api/admin/visitors',
  read: 'visitors:read',
  write: 'visitors:write',
  lookupKind: 'visitors',
  columns: [
    { label: 'Name', render: (v) => <strong>{v.fullName}</strong> },
    { label: 'Company', render: (v) => v.company ?? '—' },
    { label: 'E-mail', render: (v) => v.email ?? '—' },
    { label: 'Phone', render: (v) => v.phone ?? '—' },
    { label: 'Document', render: (v) => v.documentNumber ?? '—' },
  ],
  fields: () => [
    { name: 'fullName', label: 'Full name', kind: 'text', required: true },
    { name: 'company', label: 'Company', kind: 'text' },
    { name: 'email', label: 'E-mail', kind: 'email' },
    {
      name: 'phone',
      label: 'Phone',
      kind: 'tel',
      validate: (v) => (str(v) && !/^[0-9+() .-]{3,32}$/.test(str(v)) ? 'Digits, spaces and + ( ) . - only.' : null),
    },
    { name: 'documentNumber', label: 'ID document number', kind: 'text', hint: 'Stored encrypted.' },
  ],
  empty: { fullName: '', company: '', email: '', phone: '', documentNumber: '' },
  toValues: (v) => ({ ...v }),
  toBody: (v) => ({
    fullName: str(v.fullName),
    company: orNull(v.company),
    email: orNull(v.email),
    phone: orNull(v.phone),
    documentNumber: orNull(v.documentNumber),
  }),
  searchText: (v) => `${v.fullName} ${v.company ?? ''} ${v.email ?? ''} ${v.phone ?? ''}`,
  canEdit: true,
  canDelete: true,
  emptyText: 'No visitors yet.',
};

const appointments: ResourceDef<Appointment> = {
  title: 'Appointments',
  singular: 'appointment',
  path: '/api/admin/appointments',
  read: 'appointments:read',
  write: 'appointments:write',
  lookups: ['hosts', 'visitors'],
  lookupKind: 'appointments',
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

export const SitesPage = () => <ResourcePage def={sites} />;
export const ZonesPage = () => <ResourcePage def={zones} />;
export const GatesPage = () => <ResourcePage def={gates} />;
export const RulesPage = () => <ResourcePage def={rules} />;
export const UsersPage = () => <ResourcePage def={users} />;
export const VisitorsPage = () => <ResourcePage def={visitors} />;
export const AppointmentsPage = () => <ResourcePage def={appointments} />;
