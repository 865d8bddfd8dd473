import { useTranslation } from 'react-i18next';
import { ReasonDialog } from '../../components/ReasonDialog.tsx';
import { api } from '../../lib/api.ts';
import { invalidate, PATHS, queryClient } from '../../lib/query.ts';
import type { Alarm } from '../../lib/types.ts';
import { applyAlarm, openAlarmsKey } from './alarms.ts';

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
  const { t } = useTranslation('guard');
  const required = action === 'clear';
  return (
    <ReasonDialog
      title={t(`panel.dialog.${action}`, { alarm: title })}
      intro={t(`panel.explain.${action}`)}
      label={required ? t('panel.note') : t('panel.noteOptional')}
      required={required}
      requiredMessage={t('panel.noteRequired')}
      placeholder={t(`panel.placeholder.${action}`)}
      multiline
      maxLength={1000}
      verb={t(`panel.verb.${action}`)}
      onSubmit={(note) => api.post<Alarm>(`${PATHS.alarms}/${alarm.id}/${action}`, note ? { note } : {})}
      onClose={onClose}
      onDone={(a) => {
        // The answer is the alarm as it is now; the live event will say the same, whichever comes first.
        queryClient.setQueryData<Alarm[]>(openAlarmsKey, (prev) => applyAlarm(prev, a));
        void invalidate(PATHS.alarms);
        onDone(a);
      }}
    />
  );
}
