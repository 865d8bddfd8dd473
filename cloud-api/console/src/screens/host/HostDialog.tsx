import type { ReactNode } from 'react';
import { Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import './host.css';

/**
 * A modal dialog from react-aria-components: focus moves into it, Tab and
 * Shift+Tab go round inside it (the native <dialog> lets Tab leave for the
 * browser's own controls), the page behind is hidden from screen readers,
 * Escape closes it and focus goes back to whatever opened it.
 */
export function HostDialog({ title, open, onClose, children }: { title: string; open: boolean; onClose: () => void; children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <ModalOverlay
      className="host-overlay"
      isOpen={open}
      isDismissable={false}
      onOpenChange={(isOpen) => {
        if (!isOpen) onClose();
      }}
    >
      <Modal className="host-modal">
        <Dialog>
          <div className="dialog-head">
            <Heading slot="title">{title}</Heading>
            <button type="button" className="link" onClick={onClose}>
              {t('close')}
            </button>
          </div>
          <div className="dialog-body">{children}</div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}
