import { REASONS, type Reason } from '@gatehouse/protocol/reasons';
import i18n from '../i18n/index.ts';

const isReason = (r: string): r is Reason => (REASONS as readonly string[]).includes(r);

/** A decision's reason in plain words, in the interface language (the `reasons` namespace); an unknown code as it is. */
export function reasonText(reason: string): string {
  return isReason(reason) ? i18n.t(reason, { ns: 'reasons' }) : reason;
}
export type { Reason };
