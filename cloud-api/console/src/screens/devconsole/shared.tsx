/** Pieces the developer console's screens share: the secret shown once, a yes/no confirmation. */
import { type ReactNode, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Dialog } from '../../components/ui.tsx';

/**
 * A key or a signing secret the server gives only once: the value with a Copy
 * button and the warning that it will not be shown again. Closing it drops
 * the value (the caller keeps it nowhere else).
 */
export function ShownOnce({
  title,
  warning,
  value,
  onClose,
}: {
  title: string;
  warning: string;
  value: string | null;
  onClose: () => void;
}) {
  const { t } = useTranslation('devconsole');
  const [copied, setCopied] = useState(false);
  const id = useId();
  const close = () => {
    setCopied(false);
    onClose();
  };
  return (
    <Dialog
      title={title}
      open={value !== null}
      onClose={close}
      footer={
        <button type="button" className="primary" onClick={close}>
          {t('shownDone')}
        </button>
      }
    >
      <div className="alert warn" role="note">
        {warning}
      </div>
      <label className="sr-only" htmlFor={id}>
        {title}
      </label>
      <div className="dev-secret">
        <input id={id} className="mono" readOnly value={value ?? ''} data-secret onFocus={(e) => e.currentTarget.select()} />
        <button
          type="button"
          onClick={() => {
            if (value)
              void navigator.clipboard?.writeText(value).then(
                () => setCopied(true),
                () => setCopied(false),
              );
          }}
        >
          {t('copy')}
        </button>
      </div>
      {copied ? (
        <p className="muted" role="status">
          {t('copied')}
        </p>
      ) : null}
    </Dialog>
  );
}

/** Asks before an action that cannot be undone (revoke, delete); `children` says what happens. */
export function Confirm({
  title,
  open,
  busy,
  action,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  open: boolean;
  busy?: boolean;
  action: string;
  onConfirm: () => void;
  onClose: () => void;
  children: ReactNode;
}) {
  const { t } = useTranslation('common');
  return (
    <Dialog
      title={title}
      open={open}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="danger" disabled={busy} onClick={onConfirm}>
            {action}
          </button>
          <button type="button" onClick={onClose} disabled={busy}>
            {t('cancel')}
          </button>
        </>
      }
    >
      {children}
    </Dialog>
  );
}
