import type { TFunction } from 'i18next';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { type FieldDef, orNull, str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { can } from '../../lib/permissions.ts';
import { PATHS } from '../../lib/query.ts';
import type { Visitor } from '../../lib/types.ts';

const piiFields = (t: TFunction<'resources'>): FieldDef[] => [
  {
    name: 'phone',
    label: t('visitors.field.phone'),
    kind: 'tel',
    validate: (v) => (str(v) && !/^[0-9+() .-]{3,32}$/.test(str(v)) ? t('visitors.phoneInvalid') : null),
  },
  { name: 'documentNumber', label: t('visitors.field.document'), kind: 'text', hint: t('visitors.documentHint') },
];

/** Phone and document number are shown and written only with `visitors:pii` (the API leaves them out otherwise). */
const visitorsDef = (t: TFunction<'resources'>, pii: boolean): ResourceDef<Visitor> => ({
  title: t('visitors.title'),
  phrases: { new: t('visitors.new'), create: t('visitors.create'), edit: t('visitors.edit'), deleteTitle: t('visitors.deleteTitle') },
  path: PATHS.visitors,
  read: 'visitors:read',
  write: 'visitors:write',
  columns: [
    { label: t('name'), render: (v) => <strong>{v.fullName}</strong> },
    { label: t('visitors.field.company'), render: (v) => v.company ?? '—' },
    { label: t('email'), render: (v) => v.email ?? '—' },
    ...(pii
      ? [
          { label: t('visitors.field.phone'), render: (v: Visitor) => v.phone ?? '—' },
          { label: t('visitors.col.document'), render: (v: Visitor) => v.documentNumber ?? '—' },
        ]
      : []),
  ],
  fields: () => [
    { name: 'fullName', label: t('fullName'), kind: 'text', required: true },
    { name: 'company', label: t('visitors.field.company'), kind: 'text' },
    { name: 'email', label: t('email'), kind: 'email' },
    ...(pii ? piiFields(t) : []),
  ],
  empty: { fullName: '', company: '', email: '', ...(pii ? { phone: '', documentNumber: '' } : {}) },
  toValues: (v) => ({ ...v }),
  toBody: (v) => ({
    fullName: str(v.fullName),
    company: orNull(v.company),
    email: orNull(v.email),
    ...(pii ? { phone: orNull(v.phone), documentNumber: orNull(v.documentNumber) } : {}),
  }),
  serverSearch: true,
  canEdit: true,
  canDelete: true,
  emptyText: t('visitors.empty'),
});

export function VisitorsPage() {
  const { t } = useTranslation('resources');
  const pii = can('visitors:pii');
  const def = useMemo(() => visitorsDef(t, pii), [t, pii]);
  return <ResourcePage def={def} />;
}
