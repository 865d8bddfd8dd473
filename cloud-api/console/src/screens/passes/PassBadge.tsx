import { useTranslation } from 'react-i18next';
import { Qr } from '../../components/Qr.tsx';
import { Loading, PageHead } from '../../components/ui.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { href } from '../../lib/router.ts';
import type { Credential, Pass } from '../../lib/types.ts';

/** The visitor's badge, laid out for printing, with the pass's signed static QR. */
export function PassBadge({
  pass,
  name,
  company,
  credential,
}: {
  pass: Pass;
  name: string;
  company: string | null;
  credential: Credential | null;
}) {
  const { t } = useTranslation(['passes', 'common']);
  return (
    <>
      <PageHead title={t('badge.title')}>
        <a className="btn" href={href(`/passes/${pass.id}`)}>
          {t('common:back')}
        </a>
        <button type="button" className="primary" onClick={() => window.print()}>
          {t('badge.print')}
        </button>
      </PageHead>
      <div className="badge-print">
        <div className="muted">{t('badge.visitor')}</div>
        <div className="name">{name}</div>
        {company ? <div>{company}</div> : null}
        <div className="qr-box">{credential ? <Qr text={credential.payload} size={240} label={t('badge.qrLabel')} /> : <Loading />}</div>
        <div className="muted">{t('badge.valid', { from: fmtDateTime(pass.validFrom), to: fmtDateTime(pass.validTo) })}</div>
      </div>
    </>
  );
}
