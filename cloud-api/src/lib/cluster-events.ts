/**
 * One live feed across instances: every event published on the EventBus of
 * one cloud instance is carried to the EventBus of every other instance that
 * shares the PostgreSQL database, through `NOTIFY live_events`.
 *
 * Sending goes through the ordinary pool (`select pg_notify(...)` works
 * behind a transaction-mode pooler); listening needs a session connection of
 * its own (Database.listen: DATABASE_LISTEN_URL, by default DATABASE_URL).
 *
 * Wire format: each NOTIFY payload is `<instance>|<message>|<part>|<parts>|<body>`;
 * the body parts joined are the JSON array `[[orgId, event], ...]`, written in
 * ASCII only so characters and bytes are the same count. Events published in
 * the same tick are batched into as few payloads as fit PostgreSQL's 8000-byte
 * limit; an event larger than that alone is split into parts sent in the same
 * statement (one transaction: PostgreSQL delivers its notifications together
 * and in order) and put back together by the receivers. The publishing
 * instance delivered its events to its own sockets already and skips its own
 * notifications, so nothing arrives twice.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import type { EventBus, LiveEvent } from './events.js';

export const LIVE_EVENTS_CHANNEL = 'live_events';
/** PostgreSQL refuses payloads of 8000 bytes and more; the header takes the rest of the margin. */
const PAYLOAD_BYTES = 7900;
/** An event larger than this is not relayed (the live feed carries rows, not documents). */
const MAX_EVENT_BYTES = 1_000_000;
/** A message whose parts did not all arrive within this is given up (a lost connection in the middle). */
const PARTIAL_TTL_MS = 10_000;

export interface ClusterLog {
  warn(obj: object, msg: string): void;
}

/** JSON with every non-ASCII character escaped: its length in characters is its length in bytes. */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The NOTIFY payloads for a batch of events, each under PostgreSQL's limit. */
export function encodeBatch(instance: string, next: () => string, entries: readonly [string, LiveEvent][]): string[] {
  const header = (msg: string, part: number, parts: number) => `${instance}|${msg}|${part}|${parts}|`;
  const room = PAYLOAD_BYTES - header(next(), 9999, 9999).length;
  const out: string[] = [];
  let group: string[] = [];
  let size = 2;
  const flush = () => {
    if (group.length) out.push(`${header(next(), 0, 1)}[${group.join(',')}]`);
    group = [];
    size = 2;
  };
  for (const entry of entries) {
    const json = asciiJson(entry);
    if (json.length > MAX_EVENT_BYTES) continue;
    if (json.length + 2 > room) {
      // Too large for one payload: alone, in parts, after the smaller ones before it.
      flush();
      const body = `[${json}]`;
      const msg = next();
      const parts = Math.ceil(body.length / room);
      for (let i = 0; i < parts; i++) out.push(header(msg, i, parts) + body.slice(i * room, (i + 1) * room));
      continue;
    }
    if (size + json.length + 1 > room) flush();
    group.push(json);
    size += json.length + 1;
  }
  flush();
  return out;
}

/** Puts received payloads back into events; skips the instance's own. */
export class ClusterDecoder {
  readonly #partial = new Map<string, { parts: string[]; got: number; at: number }>();

  constructor(readonly instance: string) {}

  /** The events a payload completes (none for a part of a larger message, or our own). */
  decode(payload: string, now = Date.now()): [string, LiveEvent][] {
    const m = /^([^|]+)\|([^|]+)\|(\d+)\|(\d+)\|/.exec(payload);
    if (!m || m[1] === this.instance) return [];
    const body = payload.slice(m[0].length);
    const part = Number(m[3]);
    const parts = Number(m[4]);
    let text: string;
    if (parts === 1) text = body;
    else {
      for (const [k, p] of this.#partial) if (now - p.at > PARTIAL_TTL_MS) this.#partial.delete(k);
      const key = `${m[1]}|${m[2]}`;
      let p = this.#partial.get(key);
      if (!p) {
        p = { parts: new Array<string>(parts).fill(''), got: 0, at: now };
        this.#partial.set(key, p);
      }
      if (part >= parts || p.parts.length !== parts) return [];
      p.got++;
      p.parts[part] = body;
      if (p.got < parts) return [];
      this.#partial.delete(key);
      text = p.parts.join('');
    }
    try {
      const entries = JSON.parse(text) as unknown;
      if (!Array.isArray(entries)) return [];
      return entries.filter(
        (e): e is [string, LiveEvent] =>
          Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'object' && e[1] !== null && typeof e[1].type === 'string',
      );
    } catch {
      return [];
    }
  }

  /** After a lost connection: whatever was half received will not be completed. */
  reset(): void {
    this.#partial.clear();
  }
}

/**
 * Relays `bus`'s published events to the other instances on `database` and
 * delivers theirs; resolves to the function that stops (and sends what is
 * still pending). On PGlite (one embedded database, one instance) there is no
 * one else to tell, and nothing is done.
 */
export async function startClusterEvents(database: Database, bus: EventBus, log: ClusterLog): Promise<() => Promise<void>> {
  if (database.kind !== 'postgres') return async () => undefined;
  const instance = randomUUID();
  const decoder = new ClusterDecoder(instance);
  let seq = 0;
  const nextId = () => (seq++).toString(36);
  let pending: [string, LiveEvent][] = [];
  let scheduled = false;
  let sending: Promise<void> | null = null;
  let stopped = false;

  const send = async () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    const payloads = encodeBatch(instance, nextId, batch);
    if (payloads.length === 0) return;
    try {
      await database.db.execute(
        sql`select pg_notify(${LIVE_EVENTS_CHANNEL}, p) from unnest(${sql.param(payloads)}::text[]) with ordinality as t(p, n) order by n`,
      );
    } catch (err) {
      // The events were shown here; the other instances miss them (the database is down for them too, most likely).
      log.warn({ err, events: batch.length }, 'live feed: events not relayed to the other instances');
    }
  };
  /** One statement at a time, so the order of events published here is the order the others see. */
  const pump = () => {
    if (sending || pending.length === 0) return;
    sending = send().finally(() => {
      sending = null;
      pump();
    });
  };
  bus.setRelay((orgId, event) => {
    if (stopped) return;
    pending.push([orgId, event]);
    if (!scheduled) {
      scheduled = true;
      setImmediate(pump);
    }
  });

  const unlisten = await database.listen(
    LIVE_EVENTS_CHANNEL,
    (payload) => {
      for (const [orgId, event] of decoder.decode(payload)) bus.deliver(orgId, event);
    },
    () => {
      decoder.reset();
      log.warn({}, 'live feed: listening again after a lost connection; events of other instances in between were missed');
    },
  );
  return async () => {
    stopped = true;
    bus.setRelay(null);
    pump();
    while (sending) await sending;
    await unlisten();
  };
}
