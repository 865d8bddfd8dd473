import type { ReactNode } from 'react';
import { Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import './guard.css';

/**
 * The guard view's modal (react-aria-components): focus stays inside while it
 * is open, Escape closes it, and focus returns to the button that opened it —
 * a guard working the keyboard in an incident is not lost on the page.
 */
export function GuardDialog({
  title,
  onClose,
  children,
  footer,
  tone,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer: ReactNode;
  tone?: 'danger';
}) {
  const { t } = useTranslation();
  return (
    <ModalOverlay
      className="guard-overlay"
      isOpen
      isDismissable={false}
      onOpenChange={(open) => {
        if (!open) onClose();
      }}
    >
      <Modal className={`guard-modal${tone === 'danger' ? ' danger' : ''}`}>
        <Dialog>
          <div className="dialog-head">
            <Heading slot="title">{title}</Heading>
            <button type="button" className="link" onClick={onClose}>
              {t('close')}
            </button>
          </div>
          <div className="dialog-body">{children}</div>
          <div className="dialog-foot">{footer}</div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}
