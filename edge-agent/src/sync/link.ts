/**
 * The edge's MQTT link (SPEC MSG-*, SIGN-*, CMD-*): publishes the outbox in
 * batches at QoS 1 and forgets events only when a signed ack names them;
 * asks for sync from its last seq and applies signed deltas and snapshots;
 * executes signed, unexpired commands once (open, lockdown, emergency,
 * release, resync); keeps a retained status with a
 * last will. Everything it is given is checked before it touches the store:
 * a compromised broker can delay the edge, not change what it admits.
 */
import {
  type Ack,
  type Change,
  type CheckinEvent,
  type Command,
  type GateRecord,
  type HolidayRecord,
  type KeyRing,
  openMessage,
  openOsdpKey,
  openPassRecord,
  osdpKeyId,
  type PassRecord,
  type PresenceRecord,
  type RuleRecord,
  type SealedPassRecord,
  type SecretOpener,
  type SiteRecord,
  type Status,
  type SyncDelta,
  type SyncSnapshotChunk,
  secretOpener,
  topics,
  uuidv7,
  type ZoneRecord,
} from '@gatehouse/protocol';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { CacheRecords } from '../store/index.js';
import type { CloudClock } from './clock.js';

/** What a snapshot replaces the cache with: the store's own record set. */
export type SyncRecords = CacheRecords;

/** What the link needs of the store. */
export interface SyncStore {
  readonly seq: number;
  readonly fullSyncNeeded: boolean;
  pendingEvents(limit: number, afterSeq: number): { seq: number; event: CheckinEvent }[];
  ackEvents(ids: readonly string[]): number;
  readonly outboxDepth: number;
  applyDelta(changes: readonly Change[], seq: number): void;
  /** Replaces the whole cache with the records and sets the seq, atomically. */
  replaceCache(records: SyncRecords, seq: number): void;
  getSetting(key: string): string | undefined;
  setSetting(key: string, value: string): void;
}

/** What commands act on: the gate state machine. */
export interface CommandTarget {
  open(reason: string | undefined): void;
  lockdown(on: boolean): void;
  /** CMD-4: hold the door free (it ends a lockdown). */
  emergency(on: boolean): void;
  /** CMD-1, CMD-4: ends a lockdown and an emergency alike. */
  release(): void;
  readonly lockdownActive: boolean;
  readonly emergencyActive: boolean;
  /** The cache changed: the gate takes up its record's lockdown/emergency (CMD-4 through the sync). */
  synced(): void;
  hardware(): Status['hardware'];
}

/**
 * Opens the MQTT client, the way MQTT.js itself is given its transport (a
 * stream builder): production uses `mqtt.connect`; tests hand in a client
 * over an in-memory stream to a broker of their own.
 */
export type MqttConnect = (url: string, options: IClientOptions) => MqttClient;

export interface LinkOptions {
  url: string;
  /** How the client is opened; `mqtt.connect` unless given. */
  connect?: MqttConnect;
  username: string;
  password: string;
  /** PEM of the CA the broker's certificate is checked against (mqtts://); the system's CAs when absent. */
  ca?: Buffer | undefined;
  deviceId: string;
  orgId: string;
  keys: KeyRing;
  /** This controller's X25519 private key (SEAL-1): opens the TOTP secrets sealed to it. Absent on an edge enrolled before sealing. */
  sealKey?: string | undefined;
  version: string;
  store: SyncStore;
  gate: CommandTarget;
  log: Logger;
  batchSize?: number;
  /** Batches published and not yet acked, at most. */
  window?: number;
  /** An unacked batch is sent again after this long. */
  ackTimeoutMs?: number;
  statusIntervalMs?: number;
  now?: () => number;
  /** Called for every rejected cloud→edge message (metrics). */
  onReject?: (reason: string) => void;
  onApplied?: (kind: 'delta' | 'snapshot', seq: number) => void;
  /** CMD-5: sets an unsealed key on the OSDP reader of that config name; rejects when there is none or it fails. */
  osdpKeyset?: (reader: string, key: Buffer) => Promise<void>;
  /** SYNC-5: fed every verified message's `issuedAt`; command expiry is judged by its corrected time. */
  clock?: CloudClock;
  /** Called for every verified cloud→edge message (the update's health window: the cloud answers). */
  onVerified?: () => void;
  /** A status the broker acknowledged (QoS 1 PUBACK): the link works even when the cloud has nothing to send. */
  onStatusAcked?: () => void;
  /** Fields added to every status (the running release and the last update job). */
  statusExtra?: () => Pick<Status, 'release' | 'update'>;
  /** The signed `update` command (issue 16): handed to the updater, which reports through the status. */
  onUpdate?: (m: Command) => void;
}

export type LinkState = 'connecting' | 'online' | 'offline';

interface Snapshot {
  id: string;
  seq: number;
  /** Each chunk with its passes opened (SEAL-4). */
  chunks: ((Omit<SyncSnapshotChunk, 'passes'> & { passes: PassRecord[] }) | undefined)[];
  received: number;
}

type OptionalHooks =
  | 'onReject'
  | 'onApplied'
  | 'sealKey'
  | 'ca'
  | 'osdpKeyset'
  | 'clock'
  | 'onVerified'
  | 'onStatusAcked'
  | 'statusExtra'
  | 'onUpdate';

export class EdgeLink {
  #client: MqttClient | null = null;
  #state: LinkState = 'offline';
  #sentUpTo = 0;
  #inflight = new Map<string, { ids: string[]; lastSeq: number; sentAt: number }>();
  #snapshot: Snapshot | null = null;
  #timers: NodeJS.Timeout[] = [];
  #flushing = false;
  /** A full snapshot was asked for (resync): one at the current seq is welcome too, but never an older one. */
  #fullRequested = false;
  readonly #o: Required<Omit<LinkOptions, OptionalHooks>> & Pick<LinkOptions, OptionalHooks>;

  constructor(opts: LinkOptions) {
    this.#o = {
      connect: (url, options) => mqtt.connect(url, options),
      batchSize: 500,
      window: 4,
      ackTimeoutMs: 10_000,
      statusIntervalMs: 30_000,
      now: Date.now,
      ...opts,
    };
  }

  get state(): LinkState {
    return this.#state;
  }

  start(): void {
    const o = this.#o;
    this.#state = 'connecting';
    const client = o.connect(o.url, {
      clientId: o.deviceId,
      username: o.username,
      password: o.password,
      ...(o.ca ? { ca: o.ca } : {}),
      protocolVersion: 4,
      // A persistent session keeps QoS 1 messages for the edge while it is away.
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      will: { topic: topics.status(o.deviceId), payload: Buffer.from(JSON.stringify(this.status('offline'))), qos: 1, retain: true },
    });
    this.#client = client;
    client.on('connect', () => {
      this.#state = 'online';
      o.log.info({ url: o.url }, 'link: connected');
      // Everything unacked goes again: the cloud stores idempotently by event id.
      this.#sentUpTo = 0;
      this.#inflight.clear();
      client.subscribe(topics.downFilter(o.deviceId), { qos: 1 }, (err) => {
        if (err) o.log.error({ err }, 'link: subscribe failed');
        this.requestSync(o.store.fullSyncNeeded);
        this.publishStatus();
        this.flush();
      });
    });
    client.on('close', () => {
      if (this.#state === 'online') o.log.warn('link: disconnected');
      this.#state = this.#client ? 'connecting' : 'offline';
    });
    client.on('error', (err) => o.log.warn({ err: err.message }, 'link: error'));
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    this.#timers.push(
      setInterval(() => this.publishStatus(), o.statusIntervalMs),
      setInterval(() => this.#retryStale(), Math.max(250, Math.floor(o.ackTimeoutMs / 4))),
    );
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const c = this.#client;
    this.#client = null;
    this.#state = 'offline';
    if (!c) return;
    if (c.connected) {
      // A clean shutdown says so itself; the last will is for crashes and lost links.
      await c
        .publishAsync(topics.status(this.#o.deviceId), JSON.stringify(this.status('offline')), { qos: 1, retain: true })
        .catch(() => undefined);
    }
    await c.endAsync();
  }

  status(state: 'online' | 'offline' = 'online'): Status {
    const o = this.#o;
    return {
      v: 1,
      deviceId: o.deviceId,
      state,
      version: o.version,
      cacheSeq: o.store.seq,
      outboxDepth: o.store.outboxDepth,
      lockdown: o.gate.lockdownActive,
      emergency: o.gate.emergencyActive,
      hardware: o.gate.hardware(),
      ...(o.clock?.offsetMs == null ? {} : { clockSkewMs: -o.clock.offsetMs }),
      ...o.statusExtra?.(),
      ts: o.now(),
    };
  }

  publishStatus(): void {
    const c = this.#client;
    if (!c?.connected) return;
    c.publish(topics.status(this.#o.deviceId), JSON.stringify(this.status()), { qos: 1, retain: true }, (err) => {
      if (!err) this.#o.onStatusAcked?.();
    });
  }

  requestSync(full: boolean): void {
    const o = this.#o;
    const c = this.#client;
    if (!c?.connected) return;
    const fromSeq = full ? 0 : o.store.seq;
    if (full) this.#fullRequested = true;
    c.publish(topics.syncRequest(o.deviceId), JSON.stringify({ v: 1, deviceId: o.deviceId, fromSeq, full, ts: o.now() }), { qos: 1 });
  }

  /** Publishes unacked events, up to `window` batches in flight. Call after recording an event. */
  flush(): void {
    const o = this.#o;
    const c = this.#client;
    if (this.#flushing || !c?.connected) return;
    this.#flushing = true;
    try {
      while (this.#inflight.size < o.window) {
        const rows = o.store.pendingEvents(o.batchSize, this.#sentUpTo);
        if (rows.length === 0) break;
        const batchId = uuidv7();
        const last = rows[rows.length - 1]?.seq ?? this.#sentUpTo;
        this.#inflight.set(batchId, { ids: rows.map((r) => r.event.id), lastSeq: last, sentAt: o.now() });
        this.#sentUpTo = last;
        c.publish(topics.events(o.deviceId), JSON.stringify({ v: 1, deviceId: o.deviceId, batchId, events: rows.map((r) => r.event) }), {
          qos: 1,
        });
      }
    } catch (err) {
      // Called from timers and the connect handler: a store that cannot be read (I/O error) is logged, and the
      // next flush tries again from what was sent.
      o.log.error({ err }, 'link: outbox not read; retried on the next flush');
    } finally {
      this.#flushing = false;
    }
  }

  #retryStale(): void {
    const o = this.#o;
    const now = o.now();
    let stale = false;
    for (const b of this.#inflight.values()) if (now - b.sentAt > o.ackTimeoutMs) stale = true;
    if (stale) {
      o.log.warn({ inflight: this.#inflight.size }, 'link: no ack in time, sending unacked events again');
      this.#inflight.clear();
      this.#sentUpTo = 0;
    }
    this.flush();
  }

  #reject(reason: string, detail: Record<string, unknown> = {}): void {
    this.#o.log.warn({ reason, ...detail }, 'link: rejected a cloud message');
    this.#o.onReject?.(reason);
  }

  #onMessage(topic: string, payload: Buffer): void {
    const o = this.#o;
    const kind = topic.slice(topic.lastIndexOf('/') + 1);
    const lastSeq = kind === 'sync' ? this.#syncFloor() : kind === 'cmd' ? Number(o.store.getSetting('lastCommandSeq') ?? 0) : undefined;
    const opened = openMessage(payload, o.keys, { orgId: o.orgId, deviceId: o.deviceId, ...(lastSeq === undefined ? {} : { lastSeq }) });
    if (!opened.ok) {
      this.#reject(opened.error, { topic });
      return;
    }
    const m = opened.message;
    // Only now, with the signature verified: an unsigned or forged message never moves the clock (SYNC-5).
    o.clock?.observe(m.issuedAt, o.now());
    o.onVerified?.();
    try {
      if (kind === 'ack' && m.kind === 'ack') this.#onAck(m);
      else if (kind === 'sync' && m.kind === 'delta') this.#onDelta(m);
      else if (kind === 'sync' && m.kind === 'snapshot') this.#onChunk(m);
      else if (kind === 'cmd' && m.kind === 'cmd') this.#onCommand(m);
      else this.#reject('wrong_topic', { topic, kind: m.kind });
    } catch (err) {
      o.log.error({ err, topic }, 'link: applying a cloud message failed');
      this.#reject('apply_failed', { topic });
    }
  }

  /** Sync messages must be newer than what is applied, except a snapshot asked for after a reset. */
  #syncFloor(): number {
    if (this.#o.store.fullSyncNeeded) return -1;
    return this.#fullRequested ? this.#o.store.seq - 1 : this.#o.store.seq;
  }

  #onAck(m: Ack): void {
    const n = this.#o.store.ackEvents(m.ids);
    this.#inflight.delete(m.batchId);
    this.#o.log.debug({ batchId: m.batchId, acked: n }, 'link: ack');
    this.flush();
  }

  /** SEAL-4: the passes of a message with their secrets opened; one that does not open is cached without it, and counted. */
  #openPasses(epk: string | null, passes: SealedPassRecord[]): PassRecord[] {
    let opener: SecretOpener | null = null;
    if (epk && this.#o.sealKey) opener = secretOpener(this.#o.sealKey, epk);
    let failed = 0;
    const out = passes.map((p) => {
      const r = openPassRecord(p, opener);
      if (!r.opened) failed++;
      return r.pass;
    });
    if (failed) {
      this.#o.log.warn(
        { failed, sealKey: Boolean(this.#o.sealKey) },
        'link: sealed TOTP secrets that did not open (their dynamic QR is refused)',
      );
      for (let i = 0; i < failed; i++) this.#o.onReject?.('unsealable_secret');
    }
    return out;
  }

  #onDelta(m: SyncDelta): void {
    const o = this.#o;
    if (m.fromSeq !== o.store.seq) {
      // A gap: something between was lost or reordered. Ask again from what we have.
      this.#reject('out_of_order', { fromSeq: m.fromSeq, have: o.store.seq });
      this.requestSync(false);
      return;
    }
    const sealed = m.changes.flatMap((c) => (c.entity === 'pass' && c.data ? [c.data] : []));
    const opened = new Map(this.#openPasses(m.epk, sealed).map((p) => [p.id, p]));
    const changes: Change[] = m.changes.map((c) => {
      if (c.entity !== 'pass' || !c.data) return c as Change;
      const { data: _sealed, ...rest } = c;
      return { ...rest, data: opened.get(c.data.id) ?? openPassRecord(c.data, null).pass };
    });
    o.store.applyDelta(changes, m.seq);
    this.#synced();
    o.onApplied?.('delta', m.seq);
    o.log.info({ seq: m.seq, changes: m.changes.length }, 'link: delta applied');
    this.publishStatus();
  }

  #onChunk(m: SyncSnapshotChunk): void {
    const o = this.#o;
    if (m.chunk >= m.chunks) {
      this.#reject('invalid', { chunk: m.chunk, chunks: m.chunks });
      return;
    }
    if (!this.#snapshot || this.#snapshot.id !== m.snapshotId) {
      this.#snapshot = { id: m.snapshotId, seq: m.seq, chunks: new Array(m.chunks), received: 0 };
    }
    const s = this.#snapshot;
    if (s.chunks.length !== m.chunks || s.seq !== m.seq) {
      this.#reject('invalid', { snapshotId: m.snapshotId });
      this.#snapshot = null;
      return;
    }
    if (!s.chunks[m.chunk]) s.received++;
    s.chunks[m.chunk] = { ...m, passes: this.#openPasses(m.epk, m.passes) };
    if (s.received < m.chunks) return;
    // All chunks are here: swap the cache in one transaction (MSG-6), never a half snapshot.
    let site: SiteRecord | null = null;
    const passes: PassRecord[] = [];
    const rules: RuleRecord[] = [];
    const zones: ZoneRecord[] = [];
    const gates: GateRecord[] = [];
    const holidays: HolidayRecord[] = [];
    const presence: PresenceRecord[] = [];
    for (const c of s.chunks) {
      if (!c) return;
      site = c.site ?? site;
      passes.push(...c.passes);
      rules.push(...c.rules);
      zones.push(...c.zones);
      gates.push(...c.gates);
      holidays.push(...c.holidays);
      presence.push(...c.presence);
    }
    this.#snapshot = null;
    this.#fullRequested = false;
    o.store.replaceCache({ site, passes, rules, zones, gates, holidays, presence }, s.seq);
    this.#synced();
    o.onApplied?.('snapshot', s.seq);
    o.log.info({ seq: s.seq, passes: passes.length }, 'link: snapshot applied');
    this.publishStatus();
  }

  /** The apply is committed; the relay following the gate record must not undo it if it fails. */
  #synced(): void {
    try {
      this.#o.gate.synced();
    } catch (err) {
      this.#o.log.error({ err }, 'link: the gate could not take up the synced mode');
    }
  }

  #onCommand(m: Command): void {
    const o = this.#o;
    // The seq is recorded before acting, so a crash mid-command cannot make it run twice (CMD-3).
    o.store.setSetting('lastCommandSeq', String(m.seq));
    // CMD-2 by the cloud's clock (SYNC-5): the controller's own may be minutes off either way.
    if ((o.clock ? o.clock.now() : o.now()) >= m.expiresAt) {
      this.#reject('expired_command', { id: m.id, type: m.type });
      return;
    }
    o.log.info({ id: m.id, type: m.type }, 'link: command');
    switch (m.type) {
      case 'open':
        o.gate.open(m.reason);
        break;
      case 'lockdown':
        o.gate.lockdown(true);
        break;
      case 'emergency':
        o.gate.emergency(true);
        break;
      case 'release':
        o.gate.release();
        break;
      case 'resync':
        this.requestSync(true);
        break;
      case 'osdp_keyset':
        this.#osdpKeyset(m);
        break;
      case 'update':
        // CMD-6: the updater reports through the status (each state change publishes one).
        if (o.onUpdate) o.onUpdate(m);
        else this.#reject('unsupported_command', { id: m.id, type: m.type });
        break;
    }
    this.publishStatus();
  }

  /**
   * CMD-5: the reader key is opened here with the device key, as pass secrets are (SEAL-4), and handed to the
   * reader; the outcome is logged by key id only and the status published again once the reader has answered.
   * A key that does not open, or for a reader this controller does not have, is dropped.
   */
  #osdpKeyset(m: Command): void {
    const o = this.#o;
    const { reader, epk, secret } = m;
    const key = reader && epk && secret && o.sealKey ? openOsdpKey(o.sealKey, o.deviceId, { reader, epk, secret }) : null;
    if (!reader || !key) {
      this.#reject('unsealable_key', { id: m.id, reader, sealKey: Boolean(o.sealKey) });
      return;
    }
    const keyId = osdpKeyId(key);
    const set = o.osdpKeyset ? o.osdpKeyset(reader, key) : Promise.reject(new Error('no OSDP readers'));
    set
      .then(
        () => o.log.info({ id: m.id, reader, keyId }, 'link: osdp reader key set'),
        (err: unknown) => o.log.warn({ id: m.id, reader, keyId, err: (err as Error).message }, 'link: osdp reader key not set'),
      )
      .finally(() => this.publishStatus());
  }
}
