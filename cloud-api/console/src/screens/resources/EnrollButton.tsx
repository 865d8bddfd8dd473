import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { Dialog, ErrorBox } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { can } from '../../lib/permissions.ts';
import { PATHS } from '../../lib/query.ts';
import type { Enrollment, Gate } from '../../lib/types.ts';

/** A one-time code to enroll a controller as this gate, with the command to run on it. */
export function EnrollButton({ gate }: { gate: Gate }) {
  const [open, setOpen] = useState(false);
  const enroll = useMutation({ mutationFn: () => api.post<Enrollment>(`${PATHS.gates}/${gate.id}/enrollment`) });
  if (!can('gates:enroll')) return null;
  const result = enroll.data;
  const error = enroll.error;
  const go = () => {
    setOpen(true);
    enroll.reset();
    enroll.mutate();
  };
  return (
    <>
      <button type="button" onClick={go}>
        Enroll
      </button>
      <Dialog title={`Enroll a controller as “${gate.name}”`} open={open} onClose={() => setOpen(false)}>
        <ErrorBox error={error} />
        {result ? (
          <>
            <p>On the controller, run:</p>
            <pre className="mono card" data-testid="enroll-command">
              gatehouse-edge enroll --cloud {window.location.origin} --code {result.code}
            </pre>
            <p>
              One-time code <strong className="mono">{result.code}</strong>, valid until {fmtDateTime(result.expiresAt)}.
            </p>
            <p>
              The controller prints the fingerprint of the key it was given. It must be exactly this one; if it differs, someone stands
              between the controller and this server: remove the gate&apos;s enrollment and find out why.
            </p>
            <pre className="mono card" data-testid="org-key-fingerprint">
              {result.orgKeyFingerprint}
            </pre>
          </>
        ) : error ? null : (
          <p className="loading">Creating a code…</p>
        )}
      </Dialog>
    </>
  );
}
