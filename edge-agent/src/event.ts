/**
 * The check-in event an edge records: protocol's CheckinEvent. The protocol's
 * static type currently infers `reason: never` (its ReasonSchema is a
 * Type.Union over a mapped array, not a tuple), so the reason is restored
 * here; once protocol fixes that, this is exactly CheckinEvent.
 */
import type { CheckinEvent, Reason } from '@gatehouse/protocol';

export type EdgeEvent = Omit<CheckinEvent, 'reason'> & { reason: Reason };
