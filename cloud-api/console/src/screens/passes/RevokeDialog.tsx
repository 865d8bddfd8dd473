import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Dialog, Field } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { invalidate, PATHS } from '../../lib/query.ts';
import type { Pass, RevokeBody } from '../../lib/types.ts';

/** Revoking asks why: the reason goes to the audit log and to the guard. The pass and its lists refetch after. */
export function RevokeDialog({ pass, open, onClose, onDone }: { pass: Pass; open: boolean; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation(['passes', 'common']);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const revoke = useMutation({
    mutationFn: (body: RevokeBody) => api.post<Pass>(`${PATHS.passes}/${pass.id}/revoke`, body),
    onSuccess: () => {
      void invalidate(PATHS.passes);
      onDone();
    },
    onError: (e) => setError(e.message),
  });
  const submit = () => {
    if (!reason.trim()) {
      setError(t('revoke.sayWhy'));
      return;
    }
    revoke.mutate({ reason: reason.trim() });
  };
  return (
    <Dialog
      title={t('revoke.title')}
      open={open}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            {t('common:cancel')}
          </button>
          <button type="button" className="danger" onClick={submit} disabled={revoke.isPending}>
            {t('revoke.submit')}
          </button>
        </>
      }
    >
      <p>{t('revoke.note')}</p>
      <Field id={id} label={`${t('revoke.reason')} *`} error={error}>
        <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} aria-invalid={!!error} maxLength={500} />
      </Field>
    </Dialog>
  );
}
