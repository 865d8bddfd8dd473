import { useTranslation } from 'react-i18next';
import { ReasonDialog } from '../../components/ReasonDialog.tsx';
import { api } from '../../lib/api.ts';
import { invalidate, PATHS } from '../../lib/query.ts';
import type { Pass, RevokeBody } from '../../lib/types.ts';

/** Revoking asks why: the reason goes to the audit log and to the guard. The pass and its lists refetch after. */
export function RevokeDialog({ pass, onClose, onDone }: { pass: Pass; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation('passes');
  return (
    <ReasonDialog
      title={t('revoke.title')}
      intro={t('revoke.note')}
      label={t('revoke.reason')}
      required
      requiredMessage={t('revoke.sayWhy')}
      verb={t('revoke.submit')}
      danger
      onSubmit={(reason) => api.post<Pass>(`${PATHS.passes}/${pass.id}/revoke`, { reason } satisfies RevokeBody)}
      onClose={onClose}
      onDone={() => {
        void invalidate(PATHS.passes);
        onDone();
      }}
    />
  );
}
