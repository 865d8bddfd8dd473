import { type FieldDef, str } from '../../components/form.tsx';
import i18n from '../../i18n/index.ts';
import { api, type Page } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { type Lookups, nameOf } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import type { Visitor } from '../../lib/types.ts';

const visitorOption = (v: Visitor) => ({ value: v.id, label: v.company ? `${v.fullName} (${v.company})` : v.fullName });

/** The form of a new pass: visitor, rule, type (a group with its size), validity, whether its holder may escort, and a card when the visitor also gets one. */
export function passFields(l: Lookups): FieldDef[] {
  const t = i18n.getFixedT(null, 'passes');
  return [
    {
      name: 'visitorId',
      label: t('field.visitor'),
      kind: 'select',
      required: true,
      options: () => [...(l.visitors?.values() ?? [])].map(visitorOption),
      // The lookup holds at most 2,000 visitors: the rest are found on the server, by name, e-mail or phone.
      search: async (q) => (await api.get<Page<Visitor>>(PATHS.visitors, { q, limit: 50 })).items.map(visitorOption),
    },
    {
      name: 'accessRuleId',
      label: t('field.rule'),
      kind: 'select',
      required: true,
      options: () => [...(l.rules?.values() ?? [])].map((r) => ({ value: r.id, label: r.name })),
    },
    {
      name: 'type',
      label: t('field.type'),
      kind: 'select',
      required: true,
      options: () => [
        { value: 'single', label: t('typeOption.single') },
        { value: 'multi', label: t('typeOption.multi') },
        { value: 'group', label: t('typeOption.group') },
      ],
    },
    {
      name: 'appointmentId',
      label: t('field.appointment'),
      kind: 'select',
      options: (v) =>
        [...(l.appointments?.values() ?? [])]
          .filter((a) => !v.visitorId || a.visitorIds.includes(String(v.visitorId)))
          .map((a) => ({ value: a.id, label: `${fmtDateTime(a.startsAt)} · ${nameOf(l.hosts, a.hostId)}` })),
    },
    { name: 'validFrom', label: t('field.validFrom'), kind: 'datetime', required: true },
    {
      name: 'validTo',
      label: t('field.validTo'),
      kind: 'datetime',
      required: true,
      validate: (v, all) => (str(v) && str(all.validFrom) && str(v) <= str(all.validFrom) ? t('form.afterFrom') : null),
    },
    {
      name: 'maxUses',
      label: t('field.maxUses'),
      kind: 'number',
      hint: t('form.maxUsesHint'),
      when: (v) => v.type !== 'group',
    },
    {
      // A group pass's size travels as its maxUses (DEC-16): each scan or passage counts one person.
      name: 'groupSize',
      label: t('field.groupSize'),
      kind: 'number',
      required: true,
      hint: t('form.groupSizeHint'),
      when: (v) => v.type === 'group',
      validate: (v) => {
        const n = Number(str(String(v ?? '')));
        return Number.isInteger(n) && n >= 2 && n <= 1000 ? null : t('form.groupSizeRange');
      },
    },
    { name: 'escort', label: t('field.escort'), kind: 'checkbox', hint: t('form.escortHint'), wide: true },
    {
      name: 'cardFormat',
      label: t('field.cardFormat'),
      kind: 'select',
      hint: t('form.cardHint'),
      options: () => [
        { value: 'w26', label: 'Wiegand 26' },
        { value: 'w34', label: 'Wiegand 34' },
        { value: 'raw', label: t('form.rawCard') },
      ],
    },
    {
      name: 'cardNumber',
      label: t('field.cardNumber'),
      kind: 'text',
      validate: (v, all) => {
        if (!str(v)) return str(all.cardFormat) ? t('form.enterCard') : null;
        if (!/^[0-9]{1,20}$/.test(str(v))) return t('form.digitsOnly');
        return str(all.cardFormat) ? null : t('form.chooseFormat');
      },
    },
  ];
}
