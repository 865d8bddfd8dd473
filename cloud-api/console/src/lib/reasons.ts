import { REASON_TEXT, type Reason } from '@gatehouse/protocol/reasons';

export function reasonText(reason: string): string {
  return (REASON_TEXT as Record<string, string>)[reason] ?? reason;
}
export type { Reason };
