import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
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
  onDone: (msg: string) => void;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const verb = type === 'open' ? 'Open' : type === 'lockdown' ? 'Lock down' : 'Release';
  const command = useMutation({
    mutationFn: (body: CommandBody) => api.post<CommandResult>(`${PATHS.gates}/${gate.id}/commands`, body),
    onSuccess: () => {
      void invalidate(PATHS.gates);
      onDone(`${verb}: command sent to ${gate.name}`);
    },
    onError: (e) => setError(e.message),
  });
  const submit = () => {
    if (!reason.trim()) {
      setError('A reason is required; it is written to the audit log.');
      return;
    }
    command.mutate({ type, reason: reason.trim() });
  };
  return (
    <Dialog
      title={`${verb} ${gate.name}`}
      open
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className={type === 'lockdown' ? 'danger' : 'primary'} onClick={submit} disabled={command.isPending}>
            {verb}
          </button>
        </>
      }
    >
      {type === 'lockdown' ? <p>Every credential is refused at this gate until it is released.</p> : null}
      {type === 'open' ? <p>The turnstile opens once, as if a pass had been accepted.</p> : null}
      <Field id={id} label="Reason *" error={error}>
        <input
          id={id}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          aria-invalid={!!error}
          maxLength={500}
          placeholder={type === 'open' ? 'Courier with a delivery' : 'Fire alarm drill'}
        />
      </Field>
    </Dialog>
  );
}
