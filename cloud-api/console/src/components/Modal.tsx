import type { ReactNode } from 'react';
import { Dialog, Heading, ModalOverlay, Modal as ReactAriaModal } from 'react-aria-components';
import { useTranslation } from 'react-i18next';

/**
 * A modal dialog from react-aria-components: focus moves into it, Tab and
 * Shift+Tab go round inside it (the native <dialog> of ui.tsx lets Tab leave
 * for the browser's own controls), the page behind is hidden from screen
 * readers, Escape closes it and focus goes back to whatever opened it — a
 * guard working the keyboard in an incident is not lost on the page. A click
 * outside does not close it: a half-written note must not be lost to a
 * stray click.
 */
export function Modal({
  title,
  open = true,
  onClose,
  children,
  footer,
  tone,
  wide,
}: {
  title: string;
  open?: boolean;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  /** A coloured top edge: `danger` for an action that cannot be taken back lightly. */
  tone?: 'primary' | 'danger' | undefined;
  /** Room for a long form (the host's invitation). */
  wide?: boolean;
}) {
  const { t } = useTranslation();
  const className = ['modal', tone ? `tone-${tone}` : '', wide ? 'wide' : ''].filter(Boolean).join(' ');
  return (
    <ModalOverlay
      className="modal-overlay"
      isOpen={open}
      isDismissable={false}
      onOpenChange={(isOpen) => {
        if (!isOpen) onClose();
      }}
    >
      <ReactAriaModal className={className}>
        <Dialog>
          <div className="dialog-head">
            <Heading slot="title">{title}</Heading>
            <button type="button" className="link" onClick={onClose}>
              {t('close')}
            </button>
          </div>
          <div className="dialog-body">{children}</div>
          {footer ? <div className="dialog-foot">{footer}</div> : null}
        </Dialog>
      </ReactAriaModal>
    </ModalOverlay>
  );
}
