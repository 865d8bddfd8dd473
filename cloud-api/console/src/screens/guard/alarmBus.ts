import { invalidate, PATHS, queryClient } from '../../lib/query.ts';
import type { Alarm } from '../../lib/types.ts';
import { applyAlarm, openAlarmsKey } from './alarms.ts';

type Listener = (a: Alarm) => void;
const raised = new Set<Listener>();

/**
 * Live alarm events into the open list (the react-query cache) and, for a new
 * one, to whoever sounds it. One live connection feeds the whole guard view,
 * so the page hands alarm events here instead of each panel opening its own.
 */
export const alarmBus = {
  onRaised(fn: Listener): () => void {
    raised.add(fn);
    return () => raised.delete(fn);
  },
  /** True when the event was an alarm's (raised, updated — its condition went or came back —, acknowledged, cleared). */
  handle(type: string, data: Record<string, unknown>): boolean {
    if (!type.startsWith('alarm.')) return false;
    const a = data as unknown as Alarm;
    if (typeof a.id !== 'string') return true;
    if (typeof a.status === 'string' && typeof a.raisedAt === 'string') {
      queryClient.setQueryData<Alarm[]>(openAlarmsKey, (prev) => (prev ? applyAlarm(prev, a) : prev));
    } else {
      // Not the alarm as the list shows it (an older server's shorter event): read the list again.
      void invalidate(PATHS.alarms);
    }
    if (type === 'alarm.raised') for (const fn of raised) fn(a);
    return true;
  },
};
