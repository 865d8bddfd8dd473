import { type FieldDef, orNull, str } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { can } from '../../lib/permissions.ts';
import { PATHS } from '../../lib/query.ts';
import type { Visitor } from '../../lib/types.ts';

const PII_FIELDS: FieldDef[] = [
  {
    name: 'phone',
    label: 'Phone',
    kind: 'tel',
    validate: (v) => (str(v) && !/^[0-9+() .-]{3,32}$/.test(str(v)) ? 'Digits, spaces and + ( ) . - only.' : null),
  },
  { name: 'documentNumber', label: 'ID document number', kind: 'text', hint: 'Stored encrypted.' },
];

/** Phone and document number are shown and written only with `visitors:pii` (the API leaves them out otherwise). */
const visitorsDef = (pii: boolean): ResourceDef<Visitor> => ({
  title: 'Visitors',
  singular: 'visitor',
  path: PATHS.visitors,
  read: 'visitors:read',
  write: 'visitors:write',
  columns: [
    { label: 'Name', render: (v) => <strong>{v.fullName}</strong> },
    { label: 'Company', render: (v) => v.company ?? '—' },
    { label: 'E-mail', render: (v) => v.email ?? '—' },
    ...(pii
      ? [
          { label: 'Phone', render: (v: Visitor) => v.phone ?? '—' },
          { label: 'Document', render: (v: Visitor) => v.documentNumber ?? '—' },
        ]
      : []),
  ],
  fields: () => [
    { name: 'fullName', label: 'Full name', kind: 'text', required: true },
    { name: 'company', label: 'Company', kind: 'text' },
    { name: 'email', label: 'E-mail', kind: 'email' },
    ...(pii ? PII_FIELDS : []),
  ],
  empty: { fullName: '', company: '', email: '', ...(pii ? { phone: '', documentNumber: '' } : {}) },
  toValues: (v) => ({ ...v }),
  toBody: (v) => ({
    fullName: str(v.fullName),
    company: orNull(v.company),
    email: orNull(v.email),
    ...(pii ? { phone: orNull(v.phone), documentNumber: orNull(v.documentNumber) } : {}),
  }),
  searchText: (v) => `${v.fullName} ${v.company ?? ''} ${v.email ?? ''} ${v.phone ?? ''}`,
  canEdit: true,
  canDelete: true,
  emptyText: 'No visitors yet.',
});

export const VisitorsPage = () => <ResourcePage def={visitorsDef(can('visitors:pii'))} />;
