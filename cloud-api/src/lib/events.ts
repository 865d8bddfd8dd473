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

/** Where events published here go besides this process's subscribers (lib/cluster-events.ts: the other instances). */
export type EventRelay = (orgId: string, event: LiveEvent) => void;

/**
 * Fan-out of what the console's live feed shows, keyed by organisation so a
 * subscriber can only ever hear its own tenant. `publish` reaches this
 * process's subscribers at once and hands the event to the relay, which
 * carries it to every other instance (whichever instance ingested a check-in
 * or raised an alarm, every console sees it); what arrives from the others
 * comes in through `deliver`, to local subscribers only, so nothing is ever
 * relayed twice or shown twice.
 */
export class EventBus {
  readonly #emitter = new EventEmitter();
  #relay: EventRelay | null = null;

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  /** Sets (or, with null, removes) where published events are relayed. */
  setRelay(relay: EventRelay | null): void {
    this.#relay = relay;
  }

  publish(orgId: string, event: LiveEvent): void {
    this.#emitter.emit(orgId, event);
    this.#relay?.(orgId, event);
  }

  /** An event another instance published: to this process's subscribers, never relayed again. */
  deliver(orgId: string, event: LiveEvent): void {
    this.#emitter.emit(orgId, event);
  }

  subscribe(orgId: string, listener: (e: LiveEvent) => void): () => void {
    this.#emitter.on(orgId, listener);
    return () => this.#emitter.off(orgId, listener);
  }
}
