import { EventEmitter } from 'node:events';

export type LiveEventType =
  | 'checkin.created'
  | 'gate.status_changed'
  | 'pass.revoked'
  /** The alarm as GET /api/admin/alarms lists it, in each of the four below. */
  | 'alarm.raised'
  | 'alarm.acknowledged'
  | 'alarm.cleared'
  /** An open alarm's condition went (conditionClearedAt set) or came back (null again). */
  | 'alarm.updated'
  /** A pass's site-wide presence changed (a counted check-in, a forgiveness): the muster refreshes. */
  | 'presence.changed'
  /** A site entered or left lockdown or emergency release (CMD-4). */
  | 'site.mode_changed'
  /** A gate's state in an update rollout changed (modules/updates: UpdateGateChangedData). */
  | 'update.gate_changed'
  /** A rollout finished: done, halted or cancelled (UpdateCompletedData). */
  | 'update.completed';

export interface LiveEvent {
  type: LiveEventType;
  data: Record<string, unknown>;
}

/**
 * In-process fan-out of what the console's live feed shows, keyed by
 * organisation so a subscriber can only ever hear its own tenant. With
 * several instances each one publishes what it handled (check-ins arrive
 * through the shared MQTT subscription of whichever instance took them).
 */
export class EventBus {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  publish(orgId: string, event: LiveEvent): void {
    this.#emitter.emit(orgId, event);
  }

  subscribe(orgId: string, listener: (e: LiveEvent) => void): () => void {
    this.#emitter.on(orgId, listener);
    return () => this.#emitter.off(orgId, listener);
  }
}
