import { useTranslation } from 'react-i18next';
import { ReasonDialog } from '../../components/ReasonDialog.tsx';
import { api } from '../../lib/api.ts';
import { invalidate, PATHS } from '../../lib/query.ts';

/**
 * Forgive a pass's anti-passback state at this site: it is treated as outside,
 * so its next entry is admitted (the visitor left through a door without a
 * reader, say). The reason is optional here; the audit log names the guard.
 */
export function ForgiveDialog({
  passId,
  siteId,
  who,
  onClose,
  onDone,
}: {
  passId: string;
  siteId: string;
  who: string;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation('guard');
  return (
    <ReasonDialog
      title={t('forgive.title', { who })}
      intro={t('forgive.explain')}
      label={t('forgive.reason')}
      required={false}
      placeholder={t('forgive.placeholder')}
      verb={t('forgive.verb')}
      onSubmit={(reason) => api.post(`${PATHS.passes}/${passId}/forgive`, { siteId, ...(reason ? { reason } : {}) })}
      onClose={onClose}
      onDone={() => {
        void invalidate(PATHS.passes);
        onDone();
      }}
    />
  );
}
