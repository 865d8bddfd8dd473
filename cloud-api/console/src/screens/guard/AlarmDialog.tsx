import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Field } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { invalidate, queryClient } from '../../lib/query.ts';
import { ALARMS_PATH, type Alarm, applyAlarm, openAlarmsKey } from './alarms.ts';
import { GuardDialog } from './GuardDialog.tsx';

export type AlarmAction = 'acknowledge' | 'clear';

/**
 * Acknowledge (a note if the guard has one) or clear (a note always: what was
 * found and done is the record the next shift and the audit read).
 */
export function AlarmDialog({
  alarm,
  action,
  title,
  onClose,
  onDone,
}: {
  alarm: Alarm;
  action: AlarmAction;
  /** The alarm in words ("Door forced open · Turnstile 1"), said by the caller that already has it. */
  title: string;
  onClose: () => void;
  onDone: (a: Alarm) => void;
}) {
  const { t } = useTranslation(['guard', 'common']);
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const required = action === 'clear';
  const send = useMutation({
    mutationFn: (body: { note?: string }) => api.post<Alarm>(`${ALARMS_PATH}/${alarm.id}/${action}`, body),
    onSuccess: (a) => {
      // The answer is the alarm as it is now; the live event will say the same, whichever comes first.
      if (a && typeof a === 'object' && 'id' in a) queryClient.setQueryData<Alarm[]>(openAlarmsKey, (prev) => applyAlarm(prev, a));
      void invalidate(ALARMS_PATH);
      onDone(a);
    },
    onError: (e) => setError(e.message),
  });
  const submit = () => {
    const text = note.trim();
    if (required && !text) {
      setError(t('panel.noteRequired'));
      return;
    }
    send.mutate(text ? { note: text } : {});
  };
  return (
    <GuardDialog
      title={t(`panel.dialog.${action}`, { alarm: title })}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            {t('common:cancel')}
          </button>
          <button type="button" className="primary" onClick={submit} disabled={send.isPending}>
            {t(`panel.verb.${action}`)}
          </button>
        </>
      }
    >
      <p>{t(`panel.explain.${action}`)}</p>
      <Field id={id} label={required ? `${t('panel.note')} *` : t('panel.noteOptional')} error={error}>
        <textarea
          id={id}
          value={note}
          rows={3}
          maxLength={1000}
          aria-invalid={!!error}
          aria-describedby={error ? `${id}-error` : undefined}
          placeholder={t(`panel.placeholder.${action}`)}
          onChange={(e) => {
            setNote(e.target.value);
            if (error) setError(null);
          }}
        />
      </Field>
    </GuardDialog>
  );
}
