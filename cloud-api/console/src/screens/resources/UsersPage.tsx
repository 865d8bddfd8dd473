import { str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { Badge } from '../../components/ui.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { ROLES } from '../../lib/permissions.ts';
import { PATHS } from '../../lib/query.ts';
import type { User } from '../../lib/types.ts';

const users: ResourceDef<User> = {
  title: 'Users and roles',
  singular: 'user',
  path: PATHS.users,
  read: 'users:read',
  write: 'users:write',
  // A user with the Host role is a host: the host list changes with the users.
  invalidates: [PATHS.hosts],
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

export const UsersPage = () => <ResourcePage def={users} />;
