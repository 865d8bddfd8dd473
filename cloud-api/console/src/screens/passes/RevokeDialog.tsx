import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Dialog, Field } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { invalidate, PATHS } from '../../lib/query.ts';
import type { Pass, RevokeBody } from '../../lib/types.ts';

/** Revoking asks why: the reason goes to the audit log and to the guard. The pass and its lists refetch after. */
export function RevokeDialog({ pass, open, onClose, onDone }: { pass: Pass; open: boolean; onClose: () => void; onDone: () => void }) {
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
      setError('Say why: it goes to the audit log and the guard sees it.');
      return;
    }
    revoke.mutate({ reason: reason.trim() });
  };
  return (
    <Dialog
      title="Revoke pass"
      open={open}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="danger" onClick={submit} disabled={revoke.isPending}>
            Revoke pass
          </button>
        </>
      }
    >
      <p>The gates refuse this pass as soon as they receive the change.</p>
      <Field id={id} label="Reason *" error={error}>
        <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} aria-invalid={!!error} maxLength={500} />
      </Field>
    </Dialog>
  );
}
