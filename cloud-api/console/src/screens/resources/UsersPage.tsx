import type { TFunction } from 'i18next';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { SelectField } from '../../components/SelectField.tsx';
import { Badge } from '../../components/ui.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { ROLES } from '../../lib/permissions.ts';
import { PATHS } from '../../lib/query.ts';
import { roleName } from '../../lib/roles.ts';
import type { User } from '../../lib/types.ts';

const users = (t: TFunction<'resources'>, filter: { role: string; head: ResourceDef<User>['headActions'] }): ResourceDef<User> => ({
  title: t('users.title'),
  phrases: { new: t('users.new'), create: t('users.create'), edit: t('users.edit'), deleteTitle: t('users.deleteTitle') },
  path: PATHS.users,
  read: 'users:read',
  write: 'users:write',
  // A user with the Host role is a host: the host list changes with the users.
  invalidates: [PATHS.hosts],
  columns: [
    { label: t('name'), render: (u) => <strong>{u.fullName}</strong> },
    { label: t('email'), render: (u) => u.email },
    {
      label: t('users.field.roles'),
      render: (u) => (
        <span className="actions">
          {u.roles.map((r) => (
            <Badge key={r} tone="neutral">
              {roleName(r)}
            </Badge>
          ))}
        </span>
      ),
    },
    { label: t('created'), render: (u) => fmtDateTime(u.createdAt) },
  ],
  fields: () => [
    { name: 'fullName', label: t('fullName'), kind: 'text', required: true },
    { name: 'email', label: t('email'), kind: 'email', required: true },
    {
      name: 'roles',
      label: t('users.field.roles'),
      kind: 'multicheck',
      required: true,
      hint: t('users.rolesHint'),
      options: () => ROLES.filter((r) => r !== 'PlatformAdmin' && r !== 'Guest').map((r) => ({ value: r, label: roleName(r) })),
    },
    {
      name: 'password',
      label: t('users.field.password'),
      kind: 'password',
      only: 'create',
      hint: t('users.passwordHint'),
      validate: (v) => (str(v) && str(v).length < 8 ? t('users.passwordShort') : null),
    },
  ],
  empty: { fullName: '', email: '', roles: [], password: '' },
  toBody: (v) => ({
    fullName: str(v.fullName),
    email: str(v.email),
    roles: v.roles as string[],
    ...(str(v.password) ? { password: String(v.password) } : {}),
  }),
  // A large organisation's staff are more than a page: found on the server by name, e-mail or id, and filtered by role.
  serverSearch: true,
  query: { role: filter.role },
  headActions: filter.head,
  emptyText: t('users.empty'),
});

export function UsersPage() {
  const { t } = useTranslation('resources');
  const [role, setRole] = useState('');
  const def = useMemo(
    () =>
      users(t, {
        role,
        head: (
          <SelectField
            label={t('users.field.roles')}
            hideLabel
            all={t('users.allRoles')}
            options={ROLES.filter((r) => r !== 'Guest').map((r) => ({ value: r, label: roleName(r) }))}
            value={role}
            onChange={setRole}
          />
        ),
      }),
    [t, role],
  );
  return <ResourcePage def={def} />;
}
