import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Dialog, Field } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { invalidate, PATHS } from '../../lib/query.ts';
import type { CommandBody, CommandResult, Gate } from '../../lib/types.ts';
/** A manual command to a gate; the reason goes to the audit log. The gate lists refetch after. */
export function CommandDialog({
  gate,
  type,
  onClose,
  onDone,
}: {
  gate: Gate;
  type: 'open' | 'lockdown' | 'release';
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation(['guard', 'common']);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const command = useMutation({
    mutationFn: (body: CommandBody) => api.post<CommandResult>(`${PATHS.gates}/${gate.id}/commands`, body),
    onSuccess: () => {
      void invalidate(PATHS.gates);
      onDone();
    },
    onError: (e) => setError(e.message),
  });
  const submit = () => {
    if (!reason.trim()) {
      setError(t('command.reasonRequired'));
      return;
    }
    command.mutate({ type, reason: reason.trim() });
  };
  return (
    <Dialog
      title={t(`command.title.${type}`, { gate: gate.name })}
      open
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            {t('common:cancel')}
          </button>
          <button type="button" className={type === 'lockdown' ? 'danger' : 'primary'} onClick={submit} disabled={command.isPending}>
            {t(`command.verb.${type}`)}
          </button>
        </>
      }
    >
      {type === 'lockdown' ? <p>{t('command.lockdownNote')}</p> : null}
      {type === 'open' ? <p>{t('command.openNote')}</p> : null}
      <Field id={id} label={`${t('command.reason')} *`} error={error}>
        <input
          id={id}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          aria-invalid={!!error}
          maxLength={500}
          placeholder={type === 'open' ? t('command.placeholder.open') : t('command.placeholder.lock')}
        />
      </Field>
    </Dialog>
  );
}
