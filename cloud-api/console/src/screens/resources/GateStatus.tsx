import { useTranslation } from 'react-i18next';
import { Badge } from '../../components/ui.tsx';
import type { Gate } from '../../lib/types.ts';

export function GateStatus({ gate }: { gate: Gate }) {
  const { t } = useTranslation();
  return (
    <span className="actions">
      {gate.online ? <Badge tone="ok">{t('gate.online')}</Badge> : <Badge tone="deny">{t('gate.offline')}</Badge>}
      {gate.lockdown ? <Badge tone="warn">{t('gate.lockdown')}</Badge> : null}
      {!gate.deviceId ? <Badge tone="neutral">{t('gate.notEnrolled')}</Badge> : null}
    </span>
  );
}
