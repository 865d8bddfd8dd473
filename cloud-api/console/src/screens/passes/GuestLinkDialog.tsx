import { useId, useState } from 'react';
import { Dialog, Field } from '../../components/ui.tsx';
import { href } from '../../lib/router.ts';
import type { IssuedPass } from '../../lib/types.ts';

/** The guest link of a pass just issued, to send to the visitor. */
export function GuestLinkDialog({ pass, onClose }: { pass: IssuedPass | null; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const id = useId();
  return (
    <Dialog
      title="Pass issued"
      open={!!pass}
      onClose={onClose}
      footer={
        <button type="button" onClick={onClose}>
          Done
        </button>
      }
    >
      {pass ? (
        <>
          <p>Send the visitor this link. It shows their rotating QR code and works until the pass ends.</p>
          <Field id={id} label="Guest link">
            <input id={id} readOnly value={pass.guestUrl} onFocus={(e) => e.target.select()} data-testid="guest-url" />
          </Field>
          <div className="actions">
            <button
              type="button"
              onClick={() =>
                navigator.clipboard?.writeText(pass.guestUrl).then(
                  () => setCopied(true),
                  () => setCopied(false),
                )
              }
            >
              {copied ? 'Copied' : 'Copy link'}
            </button>
            <a className="btn" href={href(`/passes/${pass.id}`)} onClick={onClose}>
              Open pass
            </a>
          </div>
        </>
      ) : null}
    </Dialog>
  );
}
