import { type FieldDef, str } from '../../components/form.tsx';
import i18n from '../../i18n/index.ts';
import { api, type Page } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import type { Lookups } from '../../lib/lookups.ts';
import { findVisitors } from '../../lib/people.ts';
import { PATHS } from '../../lib/query.ts';
import type { Appointment } from '../../lib/types.ts';

/** The form of a new pass: visitor, rule, type (a group with its size), validity, whether its holder may escort, and a card when the visitor also gets one. */
export function passFields(l: Lookups): FieldDef[] {
  const t = i18n.getFixedT(null, 'passes');
  return [
    {
      name: 'visitorId',
      label: t('field.visitor'),
      kind: 'select',
      required: true,
      // A large organisation's visitors are more than the console loads: the newest, and the rest found on the server.
      search: findVisitors,
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
      // The chosen visitor's appointments (the newest, or those the search finds: a host's name, say), from the server.
      search: async (q, v) =>
        (
          await api.get<Page<Appointment>>(PATHS.appointments, {
            limit: 50,
            ...(str(v.visitorId) ? { visitorId: str(v.visitorId) } : {}),
            ...(q ? { q } : {}),
          })
        ).items.map((a) => ({ value: a.id, label: `${fmtDateTime(a.startsAt)} · ${a.hostName ?? '—'}` })),
      searchDeps: (v) => [v.visitorId],
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
