import { useTranslation } from 'react-i18next';
import { Badge } from '../../components/ui.tsx';
import type { PassStatus } from '../../lib/types.ts';

export function StatusBadge({ status }: { status: PassStatus }) {
  const { t } = useTranslation('passes');
  const tone = status === 'active' ? 'ok' : status === 'revoked' ? 'deny' : status === 'draft' ? 'neutral' : 'warn';
  return <Badge tone={tone}>{t(`status.${status}`)}</Badge>;
}
