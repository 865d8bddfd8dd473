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
  return (
    <>
      <PageHead title="Badge">
        <a className="btn" href={href(`/passes/${pass.id}`)}>
          Back
        </a>
        <button type="button" className="primary" onClick={() => window.print()}>
          Print
        </button>
      </PageHead>
      <div className="badge-print">
        <div className="muted">VISITOR</div>
        <div className="name">{name}</div>
        {company ? <div>{company}</div> : null}
        <div className="qr-box">
          {credential ? <Qr text={credential.payload} size={240} label="Printed QR code of the pass" /> : <Loading />}
        </div>
        <div className="muted">
          Valid {fmtDateTime(pass.validFrom)} – {fmtDateTime(pass.validTo)}
        </div>
      </div>
    </>
  );
}
