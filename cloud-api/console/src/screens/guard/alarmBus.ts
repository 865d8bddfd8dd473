import { queryClient } from '../../lib/query.ts';
import { type Alarm, applyAlarm, openAlarmsKey } from './alarms.ts';

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
  /** True when the event was an alarm's. */
  handle(type: string, data: Record<string, unknown>): boolean {
    if (type !== 'alarm.raised' && type !== 'alarm.acknowledged' && type !== 'alarm.cleared') return false;
    const a = data as unknown as Alarm;
    if (typeof a.id !== 'string') return true;
    queryClient.setQueryData<Alarm[]>(openAlarmsKey, (prev) => (prev ? applyAlarm(prev, a) : prev));
    if (type === 'alarm.raised') for (const fn of raised) fn(a);
    return true;
  },
};
