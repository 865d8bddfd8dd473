import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Qr } from '../../components/Qr.tsx';
import { ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { useLookups } from '../../lib/lookups.ts';
import { can } from '../../lib/permissions.ts';
import { href } from '../../lib/router.ts';
import { CheckAtGate } from './CheckAtGate.tsx';
import { DynamicQr } from './DynamicQr.tsx';
import { PassBadge } from './PassBadge.tsx';
import { credentialQuery, passQuery } from './queries.ts';
import { RevokeDialog } from './RevokeDialog.tsx';
import { StatusBadge } from './StatusBadge.tsx';

/** One pass: details, its phone and printed QR codes, a dry-run check at a gate, revocation; `/passes/<id>/badge` prints it. */
export function PassDetailPage({ id, print }: { id: string; print?: boolean }) {
  const pass = useQuery(passQuery(id));
  const { lookups } = useLookups(['visitors']);
  const visitor = pass.data ? lookups.visitors?.get(pass.data.visitorId) : undefined;
  const live = !!pass.data && (pass.data.status === 'active' || pass.data.status === 'draft');
  // A working entry credential is for the front desk and security (passes:credential), never a Host.
  const showQr = live && can('passes:credential');
  const staticCred = useQuery({ ...credentialQuery(id, 'static'), enabled: showQr });
  const [revoking, setRevoking] = useState(false);

  if (pass.error) return <ErrorBox error={pass.error} />;
  if (!pass.data) return <Loading />;
  const p = pass.data;
  const name = visitor?.fullName ?? 'Visitor';

  if (print && showQr)
    return <PassBadge pass={p} name={name} company={visitor?.company ?? null} credential={live ? (staticCred.data ?? null) : null} />;

  return (
    <>
      <PageHead title={`Pass · ${name}`}>
        <a className="btn" href={href('/passes')}>
          All passes
        </a>
        {showQr ? (
          <a className="btn" href={href(`/passes/${id}/badge`)}>
            Print badge
          </a>
        ) : null}
        {live && can('passes:revoke') ? (
          <button type="button" className="danger" onClick={() => setRevoking(true)}>
            Revoke
          </button>
        ) : null}
      </PageHead>
      <div className="grid">
        <div className="card">
          <h2>Details</h2>
          <dl className="kv">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={p.status} />
            </dd>
            <dt>Visitor</dt>
            <dd>{name}</dd>
            <dt>Type</dt>
            <dd>{p.type}</dd>
            <dt>Valid from</dt>
            <dd>{fmtDateTime(p.validFrom)}</dd>
            <dt>Valid to</dt>
            <dd>{fmtDateTime(p.validTo)}</dd>
            <dt>Max entries</dt>
            <dd>{p.maxUses ?? 'as the rule says'}</dd>
            <dt>Card</dt>
            <dd>{p.card ? `${p.card.format} ${p.card.number}` : '—'}</dd>
            {p.revokedAt ? (
              <>
                <dt>Revoked</dt>
                <dd>
                  {fmtDateTime(p.revokedAt)}: {p.revokedReason}
                </dd>
              </>
            ) : null}
            <dt>Pass id</dt>
            <dd className="mono">{p.id}</dd>
          </dl>
        </div>
        {showQr ? (
          <div className="card">
            <h2>Phone QR (rotating)</h2>
            <DynamicQr passId={id} />
          </div>
        ) : null}
        {showQr ? (
          <div className="card">
            <h2>Printed QR</h2>
            <div className="qr-box">
              {staticCred.error ? <ErrorBox error={staticCred.error} /> : null}
              {staticCred.data ? <Qr text={staticCred.data.payload} size={200} label="Static QR code of the pass" /> : <Loading />}
              <span className="muted">Signed; works at a gate even when it is offline.</span>
            </div>
          </div>
        ) : null}
        <CheckAtGate pass={p} />
      </div>
      <RevokeDialog pass={p} open={revoking} onClose={() => setRevoking(false)} onDone={() => setRevoking(false)} />
    </>
  );
}
