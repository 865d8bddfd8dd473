import { Badge } from '../../components/ui.tsx';
import type { Gate } from '../../lib/types.ts';

export function GateStatus({ gate }: { gate: Gate }) {
  return (
    <span className="actions">
      {gate.online ? <Badge tone="ok">online</Badge> : <Badge tone="deny">offline</Badge>}
      {gate.lockdown ? <Badge tone="warn">lockdown</Badge> : null}
      {!gate.deviceId ? <Badge tone="neutral">not enrolled</Badge> : null}
    </span>
  );
}
