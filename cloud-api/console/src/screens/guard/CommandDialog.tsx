import { useTranslation } from 'react-i18next';
import { ReasonDialog } from '../../components/ReasonDialog.tsx';
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
  type: CommandBody['type'];
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation('guard');
  return (
    <ReasonDialog
      title={t(`command.title.${type}`, { gate: gate.name })}
      intro={type === 'lockdown' ? t('command.lockdownNote') : type === 'open' ? t('command.openNote') : undefined}
      label={t('command.reason')}
      required
      requiredMessage={t('command.reasonRequired')}
      placeholder={type === 'open' ? t('command.placeholder.open') : t('command.placeholder.lock')}
      verb={t(`command.verb.${type}`)}
      danger={type === 'lockdown'}
      onSubmit={(reason) => api.post<CommandResult>(`${PATHS.gates}/${gate.id}/commands`, { type, reason } satisfies CommandBody)}
      onClose={onClose}
      onDone={() => {
        void invalidate(PATHS.gates);
        onDone();
      }}
    />
  );
}
