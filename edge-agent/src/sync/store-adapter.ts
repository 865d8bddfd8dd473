import type { EdgeStore } from '../store/index.js';
import type { SyncStore } from './link.js';

/** The EdgeStore seen through the link's small interface. */
export function syncStoreOf(store: EdgeStore): SyncStore {
  return {
    get seq() {
      return store.seq;
    },
    get fullSyncNeeded() {
      return store.fullSyncNeeded;
    },
    get outboxDepth() {
      return store.outbox.depth;
    },
    pendingEvents: (limit, afterSeq) => store.outbox.pending(limit, afterSeq),
    ackEvents: (ids) => store.outbox.ack(ids),
    applyDelta: (changes, seq) => store.applyDelta(changes, seq),
    replaceCache: (records, seq) => store.applySnapshot(records, { replace: true, seq }),
    getSetting: (key) => store.getSetting(key),
    setSetting: (key, value) => store.setSetting(key, value),
  };
}
