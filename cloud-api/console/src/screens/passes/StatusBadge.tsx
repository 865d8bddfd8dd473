import { Badge } from '../../components/ui.tsx';
import type { PassStatus } from '../../lib/types.ts';

export function StatusBadge({ status }: { status: PassStatus }) {
  const tone = status === 'active' ? 'ok' : status === 'revoked' ? 'deny' : status === 'draft' ? 'neutral' : 'warn';
  return <Badge tone={tone}>{status}</Badge>;
}
