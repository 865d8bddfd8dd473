/** The check-in event an edge records and publishes: exactly protocol's CheckinEvent (CheckinEventSchema). */
import type { CheckinEvent } from '@gatehouse/protocol';

export type EdgeEvent = CheckinEvent;
