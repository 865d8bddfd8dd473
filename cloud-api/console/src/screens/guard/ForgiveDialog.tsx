import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Field } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { invalidate, PATHS } from '../../lib/query.ts';
import { GuardDialog } from './GuardDialog.tsx';

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
  const { t } = useTranslation(['guard', 'common']);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const send = useMutation({
    mutationFn: () => api.post(`${PATHS.passes}/${passId}/forgive`, { siteId, ...(reason.trim() ? { reason: reason.trim() } : {}) }),
    onSuccess: () => {
      void invalidate(PATHS.passes);
      onDone();
    },
    onError: (e) => setError(e.message),
  });
  return (
    <GuardDialog
      title={t('forgive.title', { who })}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            {t('common:cancel')}
          </button>
          <button type="button" className="primary" onClick={() => send.mutate()} disabled={send.isPending}>
            {t('forgive.verb')}
          </button>
        </>
      }
    >
      <p>{t('forgive.explain')}</p>
      <Field id={id} label={t('forgive.reason')} error={error}>
        <input
          id={id}
          value={reason}
          maxLength={500}
          aria-invalid={!!error}
          placeholder={t('forgive.placeholder')}
          onChange={(e) => setReason(e.target.value)}
        />
      </Field>
    </GuardDialog>
  );
}
