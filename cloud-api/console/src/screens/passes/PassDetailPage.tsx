import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Qr } from '../../components/Qr.tsx';
import { ErrorBox, Loading, PageHead } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { can } from '../../lib/permissions.ts';
import { keys, PATHS } from '../../lib/query.ts';
import { href } from '../../lib/router.ts';
import type { Visitor } from '../../lib/types.ts';
import { CheckAtGate } from './CheckAtGate.tsx';
import { DynamicQr } from './DynamicQr.tsx';
import { PassBadge } from './PassBadge.tsx';
import { credentialQuery, passQuery } from './queries.ts';
import { RevokeDialog } from './RevokeDialog.tsx';
import { StatusBadge } from './StatusBadge.tsx';

/** One pass: details, its phone and printed QR codes, a dry-run check at a gate, revocation; `/passes/<id>/badge` prints it. */
export function PassDetailPage({ id, print }: { id: string; print?: boolean }) {
  const { t } = useTranslation('passes');
  const pass = useQuery(passQuery(id));
  // The pass's own visitor, not a lookup of them all (which holds at most 2,000: a large organisation's older ones miss).
  const visitorId = pass.data?.visitorId ?? '';
  const { data: visitor } = useQuery({
    queryKey: keys.one(PATHS.visitors, visitorId),
    queryFn: () => api.get<Visitor>(`${PATHS.visitors}/${visitorId}`),
    enabled: visitorId !== '' && can('visitors:read'),
  });
  const live = !!pass.data && (pass.data.status === 'active' || pass.data.status === 'draft');
  // A working entry credential is for the front desk and security (passes:credential), never a Host.
  const showQr = live && can('passes:credential');
  const staticCred = useQuery({ ...credentialQuery(id, 'static'), enabled: showQr });
  const [revoking, setRevoking] = useState(false);

  if (pass.error) return <ErrorBox error={pass.error} />;
  if (!pass.data) return <Loading />;
  const p = pass.data;
  const name = visitor?.fullName ?? t('detail.visitorFallback');

  if (print && showQr)
    return <PassBadge pass={p} name={name} company={visitor?.company ?? null} credential={live ? (staticCred.data ?? null) : null} />;

  return (
    <>
      <PageHead title={t('detail.title', { name })}>
        <a className="btn" href={href('/passes')}>
          {t('detail.all')}
        </a>
        {showQr ? (
          <a className="btn" href={href(`/passes/${id}/badge`)}>
            {t('detail.printBadge')}
          </a>
        ) : null}
        {live && can('passes:revoke') ? (
          <button type="button" className="danger" onClick={() => setRevoking(true)}>
            {t('detail.revoke')}
          </button>
        ) : null}
      </PageHead>
      <div className="grid">
        <div className="card">
          <h2>{t('detail.details')}</h2>
          <dl className="kv">
            <dt>{t('field.status')}</dt>
            <dd>
              <StatusBadge status={p.status} />
            </dd>
            <dt>{t('field.visitor')}</dt>
            <dd>{name}</dd>
            <dt>{t('field.type')}</dt>
            <dd>{t(`type.${p.type}`)}</dd>
            <dt>{t('field.validFrom')}</dt>
            <dd>{fmtDateTime(p.validFrom)}</dd>
            <dt>{t('field.validTo')}</dt>
            <dd>{fmtDateTime(p.validTo)}</dd>
            <dt>{p.type === 'group' ? t('field.groupSize') : t('field.maxUses')}</dt>
            <dd>{p.maxUses ?? t('detail.asRule')}</dd>
            <dt>{t('field.escort')}</dt>
            <dd>{p.escort ? t('detail.yes') : t('detail.no')}</dd>
            <dt>{t('field.card')}</dt>
            <dd>{p.card ? `${p.card.format} ${p.card.number}` : '—'}</dd>
            {p.revokedAt ? (
              <>
                <dt>{t('detail.revoked')}</dt>
                <dd>
                  {fmtDateTime(p.revokedAt)}: {p.revokedReason}
                </dd>
              </>
            ) : null}
            <dt>{t('detail.id')}</dt>
            <dd className="mono">{p.id}</dd>
          </dl>
        </div>
        {showQr ? (
          <div className="card">
            <h2>{t('detail.phoneQr')}</h2>
            <DynamicQr passId={id} />
          </div>
        ) : null}
        {showQr ? (
          <div className="card">
            <h2>{t('detail.printedQr')}</h2>
            <div className="qr-box">
              {staticCred.error ? <ErrorBox error={staticCred.error} /> : null}
              {staticCred.data ? <Qr text={staticCred.data.payload} size={200} label={t('detail.staticQrLabel')} /> : <Loading />}
              <span className="muted">{t('detail.signedNote')}</span>
            </div>
          </div>
        ) : null}
        <CheckAtGate pass={p} />
      </div>
      {revoking ? <RevokeDialog pass={p} onClose={() => setRevoking(false)} onDone={() => setRevoking(false)} /> : null}
    </>
  );
}
