import { type FieldDef, str } from '../../components/form.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { type Lookups, nameOf } from '../../lib/lookups.ts';

/** The form of a new pass: visitor, rule, type, validity, and a card when the visitor also gets one. */
export function passFields(l: Lookups): FieldDef[] {
  return [
    {
      name: 'visitorId',
      label: 'Visitor',
      kind: 'select',
      required: true,
      options: () =>
        [...(l.visitors?.values() ?? [])].map((v) => ({ value: v.id, label: v.company ? `${v.fullName} (${v.company})` : v.fullName })),
    },
    {
      name: 'accessRuleId',
      label: 'Access rule',
      kind: 'select',
      required: true,
      options: () => [...(l.rules?.values() ?? [])].map((r) => ({ value: r.id, label: r.name })),
    },
    {
      name: 'type',
      label: 'Type',
      kind: 'select',
      required: true,
      options: () => [
        { value: 'single', label: 'Single entry' },
        { value: 'multi', label: 'Multiple entries' },
        { value: 'group', label: 'Group' },
      ],
    },
    {
      name: 'appointmentId',
      label: 'Appointment',
      kind: 'select',
      options: (v) =>
        [...(l.appointments?.values() ?? [])]
          .filter((a) => !v.visitorId || a.visitorIds.includes(String(v.visitorId)))
          .map((a) => ({ value: a.id, label: `${fmtDateTime(a.startsAt)} · ${nameOf(l.hosts, a.hostId)}` })),
    },
    { name: 'validFrom', label: 'Valid from', kind: 'datetime', required: true },
    {
      name: 'validTo',
      label: 'Valid to',
      kind: 'datetime',
      required: true,
      validate: (v, all) => (str(v) && str(all.validFrom) && str(v) <= str(all.validFrom) ? 'Must be after “valid from”.' : null),
    },
    { name: 'maxUses', label: 'Max entries', kind: 'number', hint: 'Empty = as the rule says.' },
    {
      name: 'cardFormat',
      label: 'Card format',
      kind: 'select',
      hint: 'Only when the visitor also gets a card.',
      options: () => [
        { value: 'w26', label: 'Wiegand 26' },
        { value: 'w34', label: 'Wiegand 34' },
        { value: 'raw', label: 'Card number' },
      ],
    },
    {
      name: 'cardNumber',
      label: 'Card number',
      kind: 'text',
      validate: (v, all) => {
        if (!str(v)) return str(all.cardFormat) ? 'Enter the card number.' : null;
        if (!/^[0-9]{1,20}$/.test(str(v))) return 'Digits only.';
        return str(all.cardFormat) ? null : 'Choose the card format.';
      },
    },
  ];
}
