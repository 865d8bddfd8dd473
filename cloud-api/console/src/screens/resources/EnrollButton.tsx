import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { Dialog, ErrorBox } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { can } from '../../lib/permissions.ts';
import { PATHS } from '../../lib/query.ts';
import type { Enrollment, Gate } from '../../lib/types.ts';

/** A one-time code to enroll a controller as this gate, with the command to run on it. */
export function EnrollButton({ gate }: { gate: Gate }) {
  const { t } = useTranslation('resources');
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
        {t('enroll.button')}
      </button>
      <Dialog title={t('enroll.title', { gate: gate.name })} open={open} onClose={() => setOpen(false)}>
        <ErrorBox error={error} />
        {result ? (
          <>
            <p>{t('enroll.run')}</p>
            <pre className="mono card" data-testid="enroll-command">
              gatehouse-edge enroll --cloud {window.location.origin} --code {result.code}
            </pre>
            <p>
              <Trans
                t={t}
                i18nKey="enroll.code"
                values={{ code: result.code, until: fmtDateTime(result.expiresAt) }}
                components={{ code: <strong className="mono" /> }}
              />
            </p>
            <p>{t('enroll.fingerprint')}</p>
            <pre className="mono card" data-testid="org-key-fingerprint">
              {result.orgKeyFingerprint}
            </pre>
          </>
        ) : error ? null : (
          <p className="loading">{t('enroll.creating')}</p>
        )}
      </Dialog>
    </>
  );
}
