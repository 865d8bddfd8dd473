import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Badge, ErrorBox } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { useLookups } from '../../lib/lookups.ts';
import { can } from '../../lib/permissions.ts';
import { PATHS } from '../../lib/query.ts';
import { reasonText } from '../../lib/reasons.ts';
import type { CheckBody, CheckResult, Pass } from '../../lib/types.ts';

/** Would the pass open a gate now: the server's decide() as a dry run. */
export function CheckAtGate({ pass }: { pass: Pass }) {
  const { t } = useTranslation(['passes', 'common']);
  const { lookups } = useLookups(['gates']);
  const [gateId, setGateId] = useState('');
  // The last answer stays while another is asked.
  const [result, setResult] = useState<CheckResult | null>(null);
  const check = useMutation({
    mutationFn: (body: CheckBody) => api.post<CheckResult>(`${PATHS.passes}/${pass.id}/check`, body),
    onSuccess: setResult,
  });
  const id = useId();
  if (!can('passes:check')) return null;
  return (
    <div className="card">
      <h3>{t('check.title')}</h3>
      <div className="toolbar">
        <div className="field">
          <label htmlFor={id}>{t('check.gate')}</label>
          <select id={id} value={gateId} onChange={(e) => setGateId(e.target.value)}>
            <option value="">{t('common:choose')}</option>
            {[...(lookups.gates?.values() ?? [])].map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </div>
        <button type="button" disabled={!gateId} onClick={() => check.mutate({ gateId })}>
          {t('check.button')}
        </button>
      </div>
      <ErrorBox error={check.error} />
      {result ? (
        <p>
          {result.allow ? <Badge tone="ok">{t('check.allowed')}</Badge> : <Badge tone="deny">{t('check.denied')}</Badge>}{' '}
          {reasonText(result.reason)}
        </p>
      ) : null}
    </div>
  );
}
