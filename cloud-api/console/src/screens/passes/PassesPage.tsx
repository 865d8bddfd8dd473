import { useId, useMemo, useState } from 'react';
import { str, type Values } from '../../components/form.tsx';
import { type ResourceDef, ResourcePage } from '../../components/ResourcePage.tsx';
import { fmtDateTime, fromLocalInput, toLocalInput } from '../../lib/format.ts';
import { nameOf } from '../../lib/lookups.ts';
import { PATHS } from '../../lib/query.ts';
import { href } from '../../lib/router.ts';
import type { IssuedPass, Pass } from '../../lib/types.ts';
import { GuestLinkDialog } from './GuestLinkDialog.tsx';
import { passFields } from './passFields.ts';
import { StatusBadge } from './StatusBadge.tsx';

export function PassesPage() {
  const [issued, setIssued] = useState<IssuedPass | null>(null);
  const [status, setStatus] = useState('');
  const statusId = useId();
  const def = useMemo<ResourceDef<Pass>>(
    () => ({
      title: 'Passes',
      singular: 'pass',
      path: PATHS.passes,
      read: 'passes:read',
      write: 'passes:issue',
      lookups: ['visitors', 'rules', 'appointments', 'hosts'],
      columns: [
        {
          label: 'Visitor',
          render: (p, l) => (
            <a href={href(`/passes/${p.id}`)}>
              <strong>{nameOf(l.visitors, p.visitorId)}</strong>
            </a>
          ),
        },
        { label: 'Rule', render: (p, l) => nameOf(l.rules, p.accessRuleId) },
        { label: 'Type', render: (p) => p.type },
        { label: 'Valid', render: (p) => `${fmtDateTime(p.validFrom)} – ${fmtDateTime(p.validTo)}` },
        { label: 'Status', render: (p) => <StatusBadge status={p.status} /> },
      ],
      fields: passFields,
      empty: {
        type: 'single',
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
        ...(str(v.maxUses) ? { maxUses: Number(v.maxUses) } : {}),
        ...(str(v.cardNumber) ? { card: { format: str(v.cardFormat), number: str(v.cardNumber) } } : {}),
      }),
      searchText: (p, l) => `${nameOf(l.visitors, p.visitorId)} ${nameOf(l.rules, p.accessRuleId)} ${p.status} ${p.type} ${p.id}`,
      rowActions: (p) => (
        <a className="btn" href={href(`/passes/${p.id}`)}>
          Details
        </a>
      ),
      query: { status },
      headActions: (
        <div className="field" style={{ margin: 0 }}>
          <label htmlFor={statusId} className="sr-only">
            Status
          </label>
          <select id={statusId} value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All statuses</option>
            <option value="active">Active</option>
            <option value="draft">Draft</option>
            <option value="revoked">Revoked</option>
            <option value="expired">Expired</option>
          </select>
        </div>
      ),
      emptyText: 'No passes. Issue one for a visitor and send them the guest link.',
      afterCreate: (p) => setIssued(p as IssuedPass),
    }),
    [status, statusId],
  );
  return (
    <>
      <ResourcePage def={def} />
      <GuestLinkDialog pass={issued} onClose={() => setIssued(null)} />
    </>
  );
}
