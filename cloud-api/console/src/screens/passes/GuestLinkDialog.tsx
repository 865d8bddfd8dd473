import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Dialog, Field } from '../../components/ui.tsx';
import { href } from '../../lib/router.ts';
import type { IssuedPass } from '../../lib/types.ts';

/** The guest link of a pass just issued, to send to the visitor. */
export function GuestLinkDialog({ pass, onClose }: { pass: IssuedPass | null; onClose: () => void }) {
  const { t } = useTranslation(['passes', 'common']);
  const [copied, setCopied] = useState(false);
  const id = useId();
  return (
    <Dialog
      title={t('issued.title')}
      open={!!pass}
      onClose={onClose}
      footer={
        <button type="button" onClick={onClose}>
          {t('common:done')}
        </button>
      }
    >
      {pass ? (
        <>
          <p>{t('issued.text')}</p>
          <Field id={id} label={t('issued.link')}>
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
              {copied ? t('issued.copied') : t('issued.copy')}
            </button>
            <a className="btn" href={href(`/passes/${pass.id}`)} onClick={onClose}>
              {t('issued.open')}
            </a>
          </div>
        </>
      ) : null}
    </Dialog>
  );
}
