import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { str, type Values } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { SelectField } from '../../components/SelectField.tsx';
import { fmtDateTime, fromLocalInput, toLocalInput } from '../../lib/format.ts';
import { nameOf, shortId } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import { href } from '../../lib/router.ts';
import type { IssuedPass, Pass } from '../../lib/types.ts';
import { GuestLinkDialog } from './GuestLinkDialog.tsx';
import { passFields } from './passFields.ts';
import { StatusBadge } from './StatusBadge.tsx';

export function PassesPage() {
  const { t } = useTranslation('passes');
  const [issued, setIssued] = useState<IssuedPass | null>(null);
  const [status, setStatus] = useState('');
  const def = useMemo<ResourceDef<Pass>>(
    () => ({
      title: t('title'),
      phrases: { new: t('phrases.new'), create: t('phrases.create'), edit: t('phrases.edit'), deleteTitle: t('phrases.deleteTitle') },
      path: PATHS.passes,
      read: 'passes:read',
      write: 'passes:issue',
      lookups: ['rules'],
      columns: [
        {
          label: t('field.visitor'),
          render: (p) => (
            <a href={href(`/passes/${p.id}`)}>
              {/* The list names its visitors: a large organisation's visitors are more than the console loads. */}
              <strong>{p.visitorName ?? shortId(p.visitorId)}</strong>
            </a>
          ),
        },
        { label: t('col.rule'), render: (p, l) => nameOf(l.rules, p.accessRuleId) },
        { label: t('field.type'), render: (p) => t(`type.${p.type}`) },
        { label: t('col.valid'), render: (p) => `${fmtDateTime(p.validFrom)} – ${fmtDateTime(p.validTo)}` },
        { label: t('field.status'), render: (p) => <StatusBadge status={p.status} /> },
      ],
      fields: passFields,
      empty: {
        type: 'single',
        groupSize: '',
        escort: false,
        validFrom: toLocalInput(new Date().toISOString()),
        validTo: toLocalInput(new Date(Date.now() + 8 * 3600_000).toISOString()),
      },
      toBody: (v: Values) => ({
        visitorId: str(v.visitorId),
        accessRuleId: str(v.accessRuleId),
        type: str(v.type),
        validFrom: fromLocalInput(str(v.validFrom)),
        validTo: fromLocalInput(str(v.validTo)),
        ...(str(v.appointmentId) ? { appointmentId: str(v.appointmentId) } : {}),
        ...(str(v.type) === 'group' ? { maxUses: Number(str(v.groupSize)) } : str(v.maxUses) ? { maxUses: Number(v.maxUses) } : {}),
        ...(v.escort === true ? { escort: true } : {}),
        ...(str(v.cardNumber) ? { card: { format: str(v.cardFormat), number: str(v.cardNumber) } } : {}),
      }),
      serverSearch: true,
      rowActions: (p) => (
        <a className="btn" href={href(`/passes/${p.id}`)}>
          {t('details')}
        </a>
      ),
      query: { status },
      headActions: (
        <SelectField
          label={t('field.status')}
          hideLabel
          all={t('filter.all')}
          options={(['active', 'draft', 'revoked', 'expired'] as const).map((s) => ({ value: s, label: t(`filter.${s}`) }))}
          value={status}
          onChange={setStatus}
        />
      ),
      emptyText: t('empty'),
      afterCreate: (p) => setIssued(p as IssuedPass),
    }),
    [status, t],
  );
  return (
    <>
      <ResourcePage def={def} />
      <GuestLinkDialog pass={issued} onClose={() => setIssued(null)} />
    </>
  );
}
