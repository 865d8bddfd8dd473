/**
 * The cloud's side of the MQTT contract: ingests event batches and acks them
 * signed; keeps gate status; answers sync requests with signed deltas or a
 * chunked snapshot; pushes new changes to online edges; sends commands.
 * It is an ordinary MQTT client of whichever broker runs (embedded or
 * external), so one code path serves both; with an external broker the event
 * subscription is shared (`$share/ingest/…`) so instances split the load.
 */
import { EventEmitter } from 'node:events';
import {
  type Change,
  type Command,
  type DownMessage,
  type PassRecord,
  parseTopic,
  type SecretSealer,
  type SigningKey,
  type SyncChange,
  sealMessage,
  sealPassRecord,
  secretSealer,
  topics,
  type UpdateJob,
  uuidv7,
  validators,
} from '@gatehouse/protocol';
import { and, eq, gt, inArray, isNull } from 'drizzle-orm';
import mqtt, { type MqttClient } from 'mqtt';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import type { AppContext } from '../context.js';
import { isDatabaseUnavailable } from '../db/breaker.js';
import { gateCommands, gates } from '../db/schema.js';
import { controllerStatusChanged, controllerWentOffline, publishAlarms } from '../modules/alarms/service.js';
import { ingestCheckins } from '../modules/checkins/ingest.js';
import type { CheckinView } from '../modules/checkins/service.js';
import { outboxWatchColumns, watchOutbox } from '../modules/fleet/outbox.js';
import { orgSigningKey } from '../modules/orgs/service.js';
import { osdpKeysReported } from '../modules/osdp/service.js';
import { updateReported } from '../modules/updates/service.js';
import { emitEvent } from '../modules/webhooks/emit.js';
import { gateStatusData } from '../modules/webhooks/events.js';
import { materialize, siteSnapshot } from './records.js';
import { changesSince, maxSeq, sitesWithUnstamped, stampSite } from './sequencer.js';

/** A command as the link signs and sends it (SIGN-4: `seq` orders a device's commands). */
export interface OutgoingCommand {
  id: string;
  seq: number;
  orgId: string;
  gateId: string;
  type: Command['type'];
  reason?: string | null;
  expiresAt: number;
  /** CMD-5 (`osdp_keyset`): the reader and its new key, already sealed to the device. */
  keyset?: { reader: string; epk: string; secret: string };
  /** CMD-6 (`update`): the release to install. */
  update?: UpdateJob;
}

/** How many times a sync request the database could not take is taken again (after 0.5, 1, 2, 4, 8 s or so). */
const SYNC_REQUEST_RETRIES = 5;

/** How many signed copies of one delta are in flight to the broker at once. */
const FANOUT_BATCH = 100;

/** Command types whose row holds all they carry, so they can be sent again from it (see #sendQueued). */
const RESENDABLE: Command['type'][] = ['open', 'lockdown', 'release', 'resync', 'emergency'];
/** Commands that set the gate's mode: a newer one supersedes an older one (see #sendQueued). */
const MODES = new Set<Command['type']>(['lockdown', 'release', 'emergency']);

export interface CloudLinkOptions {
  url: string;
  username: string;
  password: string;
  /** Shared-subscription group for events; null on a broker without MQTT 5 shared subscriptions (aedes). */
  shareGroup: string | null;
  /** PEM of the CA the broker's TLS certificate is checked against (mqtts://); null: the system's CAs. */
  ca: Buffer | null;
  log: Logger;
  /** How often new changes are stamped and pushed. */
  sweepMs?: number;
  /** A delta carries at most this many changes; an edge further behind gets a snapshot. */
  maxDelta?: number;
  chunkSize?: number;
  /** How many broker messages are handled at once (each holds a database connection while it runs). */
  concurrency?: number;
}

export interface LinkEvents {
  /** A new check-in, shaped as GET /api/admin/checkins lists it. */
  checkin: [orgId: string, checkin: CheckinView];
  status: [orgId: string, gateId: string, online: boolean];
  /** Subscribed on a (re)connection. */
  subscribed: [];
}

/** An enrolled controller, as the broker topic names it. */
interface DeviceIdentity {
  deviceId: string;
  orgId: string;
  gateId: string;
  siteId: string;
  /** Its X25519 public key (SPEC SEAL-1); null when it enrolled without one: it is sent no TOTP secret (SEAL-5). */
  sealKey: string | null;
  /** When it was read from the database. */
  at: number;
}

/** How long a device stays cached without a word from the database: a last resort behind gatehouse_device_revoked. */
const DEVICE_CACHE_MS = 60_000;

export class CloudLink extends EventEmitter<LinkEvents> {
  #client: MqttClient | null = null;
  #devices = new Map<string, DeviceIdentity>();
  /** Forgets per device, and of all devices: a lookup that a forget overtook must not cache what it read. */
  #forgets = new Map<string, number>();
  #forgetAlls = 0;
  /** deviceId → the seq it has been sent up to, for devices that are online. */
  #cursors = new Map<string, number>();
  /**
   * deviceId → how many statuses of it this instance has taken. Handlers run concurrently, so an older status
   * can reach the database after a newer one; a handler overtaken by a later status writes nothing (the later
   * one carries the device's current state), or a repeated "online" could flip a gate back after its "offline".
   */
  readonly #statusSeen = new Map<string, number>();
  /** Devices whose snapshot is being built and sent: no delta may overtake it (its seq would make every chunk stale). */
  #snapshotting = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #everConnected = false;
  /** Subscribed on the current connection. */
  get #subscribed(): boolean {
    return this.connected && this.#subscribedOn === this.#client;
  }
  #subscribedOn: MqttClient | null = null;
  /**
   * Messages are handled a few at a time: a thousand controllers reconnecting at once would otherwise each take
   * a pool connection together, time out waiting for one, and leave none for the API. They wait here instead.
   */
  readonly #inbox: LimitFunction;
  /** deviceId → how many sync requests of it have arrived, so a request taken again is dropped once a newer one came. */
  readonly #syncAsks = new Map<string, number>();
  /** siteId → the highest seq this instance has stamped or read, so a status behind it can be caught up. */
  readonly #heads = new Map<string, number>();
  #sweeping = false;
  #sweepAgain = false;
  #unavailableLoggedAt = 0;
  #msgSeq = Date.now();
  readonly #ctx: AppContext;
  readonly #o: Required<CloudLinkOptions>;

  constructor(ctx: AppContext, opts: CloudLinkOptions) {
    super();
    this.#ctx = ctx;
    this.#o = { sweepMs: 200, maxDelta: 2000, chunkSize: 2000, concurrency: 8, ...opts };
    this.#inbox = pLimit(this.#o.concurrency);
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  async start(): Promise<void> {
    const o = this.#o;
    const client = mqtt.connect(o.url, {
      clientId: `gatehouse-cloud-${uuidv7()}`,
      username: o.username,
      password: o.password,
      ...(o.ca ? { ca: o.ca } : {}),
      protocolVersion: o.shareGroup ? 5 : 4,
      reconnectPeriod: 1000,
      clean: true,
    });
    this.#client = client;
    client.on('message', (topic, payload) => {
      const t = parseTopic(topic);
      if (t?.kind === 'sync-request') this.#syncAsks.set(t.deviceId, (this.#syncAsks.get(t.deviceId) ?? 0) + 1);
      void this.#inbox(() => this.#handle(topic, payload, 0));
    });
    client.on('error', (err) => o.log.warn({ err: err.message }, 'sync: broker error'));
    // The cloud serves without its broker (issue 15): mqtt.js keeps reconnecting every reconnectPeriod, and each
    // connection (the first included) subscribes anew; until then sweeps wait (`connected`) and commands expire (CMD-2).
    client.on('connect', () => {
      this.#everConnected = true;
      o.log.info({ url: o.url, shared: o.shareGroup }, 'sync: cloud link connected');
      this.#subscribe().then(
        () => {
          this.#subscribedOn = client;
          this.emit('subscribed');
        },
        (err: unknown) => o.log.warn({ err }, 'sync: subscribing failed; retried at the next connection'),
      );
    });
    client.on('offline', () => o.log.warn({ url: o.url }, 'sync: broker unreachable; reconnecting'));
    this.#timer = setInterval(() => void this.sweep(), o.sweepMs);
  }

  /** Resolves true once subscribed on a connection, false after `ms` without (the link keeps trying). */
  whenSubscribed(ms: number): Promise<boolean> {
    if (this.#subscribed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.off('subscribed', on);
        resolve(v);
      };
      const on = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.on('subscribed', on);
    });
  }

  /** The broker as /ready reports it: never reached yet (connecting), lost (unavailable), or connected. */
  get brokerState(): 'ok' | 'connecting' | 'unavailable' {
    if (this.connected) return 'ok';
    return this.#everConnected ? 'unavailable' : 'connecting';
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const c = this.#client;
    this.#client = null;
    await c?.endAsync();
  }

  async #subscribe(): Promise<void> {
    const c = this.#client;
    if (!c) return;
    const group = this.#o.shareGroup ?? undefined;
    await c.subscribeAsync({
      [topics.allUp('events', group)]: { qos: 1 },
      [topics.allUp('status')]: { qos: 1 },
      [topics.allUp('sync-request', group)]: { qos: 1 },
    });
  }

  /** A per-link increasing number for messages whose order does not matter to the edge (acks). */
  #nextSeq(): number {
    this.#msgSeq = Math.max(this.#msgSeq + 1, Date.now());
    return this.#msgSeq;
  }

  /** The enrolled, enabled device of this id, or null: a removed, replaced or disabled one is served nothing. */
  async #device(deviceId: string): Promise<DeviceIdentity | null> {
    const known = this.#devices.get(deviceId);
    if (known && Date.now() - known.at < DEVICE_CACHE_MS) return known;
    const mark = this.#mark(deviceId);
    const [g] = await this.#ctx.db
      .select({ id: gates.id, orgId: gates.orgId, siteId: gates.siteId, sealKey: gates.deviceSealKey })
      .from(gates)
      .where(and(eq(gates.deviceId, deviceId), isNull(gates.deletedAt), isNull(gates.disabledAt)));
    if (!g) {
      this.#devices.delete(deviceId);
      this.#cursors.delete(deviceId);
      return null;
    }
    if (mark !== this.#mark(deviceId)) return null;
    // Still the same gate: the object in use by a snapshot on its way (or cached by a lookup that ran alongside) stays the one cached.
    const cached = this.#devices.get(deviceId);
    if (cached && cached.gateId === g.id && cached.siteId === g.siteId && cached.orgId === g.orgId && cached.sealKey === g.sealKey) {
      cached.at = Date.now();
      return cached;
    }
    const d = { deviceId, orgId: g.orgId, gateId: g.id, siteId: g.siteId, sealKey: g.sealKey, at: Date.now() };
    this.#devices.set(deviceId, d);
    return d;
  }

  #mark(deviceId: string): string {
    return `${this.#forgetAlls}:${this.#forgets.get(deviceId) ?? 0}`;
  }

  #noteHead(siteId: string, head: number): number {
    if (head > (this.#heads.get(siteId) ?? 0)) this.#heads.set(siteId, head);
    return head;
  }

  /** Whether the device may still be served (it was not forgotten since it was looked up). */
  #serving(device: DeviceIdentity): boolean {
    return this.#devices.get(device.deviceId) === device;
  }

  /** Forget a device (deleted gate, re-enrollment, disabled): nothing more is sent to it, and its next message is checked anew. */
  forget(deviceId: string): void {
    this.#forgets.set(deviceId, (this.#forgets.get(deviceId) ?? 0) + 1);
    this.#devices.delete(deviceId);
    this.#cursors.delete(deviceId);
    this.#statusSeen.delete(deviceId);
    this.#syncAsks.delete(deviceId);
  }

  /** Forget every device (revocations may have been missed). */
  forgetAll(): void {
    this.#forgetAlls++;
    this.#devices.clear();
    this.#cursors.clear();
    this.#statusSeen.clear();
    this.#syncAsks.clear();
  }

  async #send(device: DeviceIdentity, topic: string, message: DownMessage, key?: SigningKey): Promise<void> {
    const k = key ?? (await orgSigningKey(this.#ctx, device.orgId));
    await this.#client?.publishAsync(topic, sealMessage(message, k), { qos: 1 });
  }

  /**
   * SEAL-2/SEAL-6: one fresh ephemeral key per message and device, so a
   * message of 5,000 passes costs one key agreement; null for a device with no
   * key, whose passes then travel without their secret (SEAL-5).
   */
  #sealer(device: DeviceIdentity): SecretSealer | null {
    return device.sealKey ? secretSealer(device.sealKey) : null;
  }

  #sealPasses(device: DeviceIdentity, passes: PassRecord[]) {
    const sealer = passes.some((p) => p.totpSecret) ? this.#sealer(device) : null;
    return { epk: sealer?.epk ?? null, passes: passes.map((p) => sealPassRecord(p, sealer)) };
  }

  #sealChanges(device: DeviceIdentity, changes: Change[]): { epk: string | null; changes: SyncChange[] } {
    const passes = changes.flatMap((c) => (c.entity === 'pass' && c.data ? [c.data] : []));
    const sealed = this.#sealPasses(device, passes);
    const byId = new Map(sealed.passes.map((p) => [p.id, p]));
    return {
      epk: sealed.epk,
      changes: changes.map((c) => (c.entity === 'pass' && c.data ? { ...c, data: byId.get(c.data.id)! } : c) as SyncChange),
    };
  }

  /**
   * A sync request the database could not take (down, or every connection busy in a reconnect storm) is taken
   * again after a back-off: the edge asks only on connect and on a gap, so a dropped request would leave it
   * stale until its next reconnect. Events need no such care (an unacked batch is sent again by the edge), and
   * a status is repeated by the edge every 30 s.
   */
  async #handle(topic: string, payload: Buffer, attempt: number): Promise<void> {
    try {
      await this.#onMessage(topic, payload);
    } catch (err) {
      const t = parseTopic(topic);
      if (isDatabaseUnavailable(err) && attempt < SYNC_REQUEST_RETRIES && t?.kind === 'sync-request') {
        const asks = this.#syncAsks.get(t.deviceId);
        const delay = 500 * 2 ** attempt * (0.5 + Math.random());
        // Not if the edge asked again meanwhile: its newer request says where it is now (a late `full` would
        // send a whole snapshot to an edge already in sync).
        const retry = async () => {
          if (this.#syncAsks.get(t.deviceId) === asks) await this.#handle(topic, payload, attempt + 1);
        };
        setTimeout(() => void this.#inbox(retry), delay).unref();
        return;
      }
      this.#o.log.error({ err, topic }, 'sync: handling a message failed');
    }
  }

  async #onMessage(topic: string, payload: Buffer): Promise<void> {
    const log = this.#o.log;
    const t = parseTopic(topic);
    if (!t || t.direction !== 'up') {
      log.warn({ topic }, 'sync: dropped a message on an unknown topic');
      return;
    }
    const device = await this.#device(t.deviceId);
    if (!device) {
      log.warn({ deviceId: t.deviceId }, 'sync: dropped a message of an unknown device');
      return;
    }
    if (t.kind === 'events') await this.#onEvents(device, payload);
    else if (t.kind === 'status') await this.#onStatus(device, payload);
    else await this.#onSyncRequest(device, payload);
  }

  async #onEvents(device: DeviceIdentity, payload: Buffer): Promise<void> {
    const parsed = validators.eventsBatch.parse(payload);
    if (!parsed.ok || parsed.value.deviceId !== device.deviceId) {
      this.#o.log.warn(
        { deviceId: device.deviceId, errors: parsed.ok ? ['deviceId does not match the topic'] : parsed.errors },
        'sync: dropped a bad events batch',
      );
      return;
    }
    const batch = parsed.value;
    const { journeyError } = await ingestCheckins(this.#ctx, device, batch.events, {
      // Committed: the live feed may show them now, before the journey step and the ack's round trip.
      onStored: (fresh) => {
        for (const c of fresh) this.emit('checkin', device.orgId, c);
      },
    });
    // The check-ins are stored: they are acked even if an arrival notice could not be written.
    if (journeyError) this.#o.log.error({ err: journeyError, deviceId: device.deviceId }, 'sync: recording arrivals failed');
    // Acked only after the insert committed: an ack is a promise that the events are stored.
    if (!this.#serving(device)) return;
    await this.#send(device, topics.ack(device.deviceId), {
      v: 1,
      kind: 'ack',
      orgId: device.orgId,
      deviceId: device.deviceId,
      seq: this.#nextSeq(),
      issuedAt: Date.now(),
      batchId: batch.batchId,
      ids: batch.events.map((e) => e.id),
    });
  }

  async #onStatus(device: DeviceIdentity, payload: Buffer): Promise<void> {
    const parsed = validators.status.parse(payload);
    if (!parsed.ok || parsed.value.deviceId !== device.deviceId) {
      this.#o.log.warn({ deviceId: device.deviceId }, 'sync: dropped a bad status');
      return;
    }
    const s = parsed.value;
    const seen = (this.#statusSeen.get(device.deviceId) ?? 0) + 1;
    this.#statusSeen.set(device.deviceId, seen);
    const latest = () => this.#statusSeen.get(device.deviceId) === seen;
    const online = s.state === 'online';
    if (!online) this.#cursors.delete(device.deviceId);
    // A new edge (cacheSeq 0) gets its cursor from its snapshot, never from a status.
    else if (s.cacheSeq > 0) this.#cursors.set(device.deviceId, Math.max(this.#cursors.get(device.deviceId) ?? 0, s.cacheSeq));
    const values = {
      online,
      lastSeenAt: new Date(),
      cacheSeq: s.cacheSeq,
      outboxDepth: s.outboxDepth,
      version: s.version,
      // SYNC-5: kept from the last status that had an estimate (a last will, written at connect, has none).
      ...(s.clockSkewMs === undefined ? {} : { clockSkewMs: s.clockSkewMs }),
      // REL-1: the signed release it runs, kept from the last status that named one (a last will names none).
      ...(s.release ? { releaseSerial: s.release.serial } : {}),
      // Fleet health: what its readers, relay and sensors said last (a last will, written at connect, says nothing).
      ...(online
        ? { hardware: s.hardware.map(({ name, type, healthy, detail }) => ({ name, type, healthy, ...(detail ? { detail } : {}) })) }
        : {}),
    };
    const ctx = this.#ctx;
    // The webhook event and the controller_offline alarm (ALARM-1) are raised here, where the gate row is
    // written, in the same transaction and only when the stored state really flips: the live feed's 'status'
    // below is in-memory, per instance, after the fact (it may be lost with the process, and a status a
    // device repeats reaches every instance). Offline raises the alarm only after CONTROLLER_OFFLINE_ALARM_S
    // (a job checks then), so a restart does not call a guard.
    const alarmed = await ctx.db.transaction(async (tx) => {
      const [before] = await tx.select(outboxWatchColumns).from(gates).where(eq(gates.id, device.gateId)).for('update');
      if (!latest() || !before) return [];
      // The outbox_growing alarm is judged on every status, not only on a flip (modules/fleet/outbox.ts).
      const outbox = await watchOutbox(ctx, tx, device, before, { online, depth: s.outboxDepth }, values.lastSeenAt);
      const [after] = await tx
        .update(gates)
        .set({ ...values, ...outbox.set })
        .where(eq(gates.id, device.gateId))
        .returning();
      if (!after || before.online === online) return outbox.changes;
      await emitEvent(ctx, tx, device.orgId, 'gate.status_changed', gateStatusData(after));
      const flipped = online
        ? await controllerStatusChanged(ctx, tx, device, true)
        : await controllerWentOffline(ctx, tx, device, values.lastSeenAt);
      return [...outbox.changes, ...flipped];
    });
    publishAlarms(ctx, device.orgId, alarmed);
    if (latest()) this.emit('status', device.orgId, device.gateId, online);
    // CMD-5: a reader reporting its new key in use (or the keyset failed) settles that key's row.
    await osdpKeysReported(ctx, device, s.hardware).catch((err: unknown) =>
      this.#o.log.error({ err, deviceId: device.deviceId }, 'sync: osdp reader keys not updated from a status'),
    );
    // CMD-6: an update job's progress, and a dispatched update sent again to a controller that is back.
    await updateReported(ctx, device, s).catch((err: unknown) =>
      this.#o.log.error({ err, deviceId: device.deviceId }, 'sync: update progress not recorded from a status'),
    );
    // A controller behind what this instance last stamped (its sync request was lost, or it came back between
    // sweeps) is caught up now: sweeps push only sites with new changes.
    const head = this.#heads.get(device.siteId) ?? 0;
    if (online && latest() && s.cacheSeq > 0 && s.cacheSeq < head) await this.#pushDeltas([device], head);
    if (online && latest())
      await this.#sendQueued(device).catch((err: unknown) =>
        this.#o.log.error({ err, deviceId: device.deviceId }, 'sync: queued commands not sent'),
      );
  }

  /**
   * Commands recorded while no link could send them (this instance's broker link was down, or another instance
   * without one took the request) go out when the controller reports online, to whichever instance it reached —
   * and only until they expire (CMD-2): a door must not open minutes late. One UPDATE … RETURNING claims them, so
   * two instances hearing the same controller never both send one. Keysets and updates are not resent from here:
   * a keyset's secret never sits in the row, and the update manager resends its own (updateReported).
   */
  async #sendQueued(device: DeviceIdentity): Promise<void> {
    const claimed = await this.#ctx.db
      .update(gateCommands)
      .set({ status: 'sent', updatedAt: new Date() })
      .where(
        and(
          eq(gateCommands.orgId, device.orgId),
          eq(gateCommands.gateId, device.gateId),
          eq(gateCommands.status, 'queued'),
          gt(gateCommands.expiresAt, new Date()),
          inArray(gateCommands.type, RESENDABLE),
        ),
      )
      .returning();
    // In the order they were made: the edge refuses a command whose seq is not above the last it ran (SIGN-4).
    const ordered = claimed.sort((x, y) => x.seq - y.seq);
    // Lockdown, emergency and release each set the gate's mode, which the gate record's flags carry through sync as
    // well: of those only the newest still says anything. Sent too, an older one put the gate through it again on the
    // way (a lockdown already released, replayed to a controller that came back, refused entries until the release).
    const mode = ordered.findLast((c) => MODES.has(c.type));
    for (const c of ordered) {
      if (MODES.has(c.type) && c !== mode) {
        this.#o.log.info({ deviceId: device.deviceId, commandId: c.id, type: c.type }, 'sync: queued command superseded, not sent');
        continue;
      }
      // The device is the one that just reported: no need to look its gate up again per command.
      const sent = await this.#publishCommand(device, { ...c, expiresAt: c.expiresAt.getTime() }).then(
        () => true,
        () => false,
      );
      if (!sent) await this.#ctx.db.update(gateCommands).set({ status: 'queued' }).where(eq(gateCommands.id, c.id));
      else this.#o.log.info({ deviceId: device.deviceId, commandId: c.id, type: c.type }, 'sync: queued command sent');
    }
  }

  async #onSyncRequest(device: DeviceIdentity, payload: Buffer): Promise<void> {
    const parsed = validators.syncRequest.parse(payload);
    if (!parsed.ok || parsed.value.deviceId !== device.deviceId) {
      this.#o.log.warn({ deviceId: device.deviceId }, 'sync: dropped a bad sync request');
      return;
    }
    const r = parsed.value;
    const head = this.#noteHead(device.siteId, await stampSite(this.#ctx.db, device.siteId));
    if (r.full || r.fromSeq === 0 || r.fromSeq > head || head - r.fromSeq > this.#o.maxDelta) {
      await this.#sendSnapshot(device, head);
    } else {
      this.#cursors.set(device.deviceId, r.fromSeq);
      await this.#pushDeltas([device], head);
    }
  }

  async #sendSnapshot(device: DeviceIdentity, head: number): Promise<void> {
    this.#snapshotting.add(device.deviceId);
    try {
      await this.#sendSnapshotChunks(device, head);
    } finally {
      this.#snapshotting.delete(device.deviceId);
    }
    // Changes stamped while the snapshot was on its way were held back for it: send them now.
    await this.#pushDeltas([device], await maxSeq(this.#ctx.db, device.siteId));
  }

  async #sendSnapshotChunks(device: DeviceIdentity, head: number): Promise<void> {
    const snap = await siteSnapshot(this.#ctx, device.orgId, device.siteId);
    const key = await orgSigningKey(this.#ctx, device.orgId);
    const size = this.#o.chunkSize;
    const chunks = Math.max(1, Math.ceil(snap.passes.length / size));
    const snapshotId = uuidv7();
    for (let i = 0; i < chunks; i++) {
      if (!this.#serving(device)) return;
      const first = i === 0;
      const part = snap.passes.slice(i * size, (i + 1) * size);
      const sealed = this.#sealPasses(device, part);
      await this.#send(
        device,
        topics.sync(device.deviceId),
        {
          v: 1,
          kind: 'snapshot',
          orgId: device.orgId,
          deviceId: device.deviceId,
          seq: head,
          issuedAt: Date.now(),
          siteId: device.siteId,
          snapshotId,
          chunk: i,
          chunks,
          ...(first && snap.site ? { site: snap.site } : {}),
          epk: sealed.epk,
          passes: sealed.passes,
          rules: first ? snap.rules : [],
          zones: first ? snap.zones : [],
          gates: first ? snap.gates : [],
          holidays: first ? snap.holidays : [],
          // Each chunk carries the presence of its own passes, so a chunk stays within the message's bounds.
          presence: part.flatMap((p) => snap.presence.get(p.id) ?? []),
        },
        key,
      );
    }
    if (!this.#serving(device)) return;
    this.#cursors.set(device.deviceId, head);
    this.#o.log.info({ deviceId: device.deviceId, seq: head, passes: snap.passes.length, chunks }, 'sync: snapshot sent');
  }

  /**
   * Sends each device (all of one site) every stamped change after its cursor, in deltas of at most maxDelta.
   * Devices at the same cursor — after a sweep, nearly all of a site — share one read of the changes: a site of a
   * thousand controllers costs two queries per sweep, not two thousand, and the signed copies are published
   * together rather than each waiting for the broker's ack of the one before (bench:fleet).
   */
  async #pushDeltas(devices: readonly DeviceIdentity[], head: number): Promise<void> {
    const first = devices[0];
    if (!first) return;
    const byCursor = new Map<number, DeviceIdentity[]>();
    for (const d of devices) {
      const cursor = this.#cursors.get(d.deviceId);
      if (cursor === undefined || cursor >= head) continue;
      byCursor.set(cursor, [...(byCursor.get(cursor) ?? []), d]);
    }
    if (byCursor.size === 0) return;
    const key = await orgSigningKey(this.#ctx, first.orgId);
    for (const [cursor, group] of byCursor) {
      let from = cursor;
      let serving = group;
      while (from < head) {
        serving = serving.filter((d) => !this.#snapshotting.has(d.deviceId) && this.#serving(d));
        if (serving.length === 0) return;
        const rows = await changesSince(this.#ctx.db, first.siteId, from, this.#o.maxDelta);
        if (rows.length === 0) break;
        const to: number = rows[rows.length - 1]?.seq ?? from;
        const changes = await materialize(this.#ctx, first.orgId, first.siteId, rows);
        const at = from;
        // Moved before sending, so a push for the same device meanwhile (its status said it was behind) does not
        // send this delta twice; a send that fails leaves the link down, and the edge asks again on reconnect.
        for (const d of serving) this.#cursors.set(d.deviceId, to);
        for (let i = 0; i < serving.length; i += FANOUT_BATCH) {
          await Promise.all(
            serving.slice(i, i + FANOUT_BATCH).map(async (device) => {
              await this.#send(
                device,
                topics.sync(device.deviceId),
                {
                  v: 1,
                  kind: 'delta',
                  orgId: device.orgId,
                  deviceId: device.deviceId,
                  seq: to,
                  issuedAt: Date.now(),
                  siteId: device.siteId,
                  fromSeq: at,
                  ...this.#sealChanges(device, changes),
                },
                key,
              );
            }),
          );
        }
        from = to;
      }
    }
  }

  /** Stamps new changes and pushes them to online edges. Runs every sweepMs; call it after a write to go sooner. */
  async sweep(): Promise<void> {
    // Before the database's start is done its tables may not exist yet (db/startup.ts).
    if (!this.connected || !this.#ctx.startup.ready) return;
    // A write asking for a sweep while one runs may have committed after it read: one more follows it.
    if (this.#sweeping) {
      this.#sweepAgain = true;
      return;
    }
    this.#sweeping = true;
    this.#sweepAgain = false;
    try {
      const siteIds = await sitesWithUnstamped(this.#ctx.db);
      for (const siteId of siteIds) {
        const head = this.#noteHead(siteId, await stampSite(this.#ctx.db, siteId));
        const online = [...this.#cursors.keys()].flatMap((id) => {
          const d = this.#devices.get(id);
          return d?.siteId === siteId ? [d] : [];
        });
        await this.#pushDeltas(online, head);
      }
    } catch (err) {
      if (!isDatabaseUnavailable(err)) this.#o.log.error({ err }, 'sync: sweep failed');
      // Every 200 ms during an outage would flood the log: once per outage-ish interval is enough to see it.
      else if (Date.now() - this.#unavailableLoggedAt > 10_000) {
        this.#unavailableLoggedAt = Date.now();
        this.#o.log.warn({ err }, 'sync: database unavailable; sweeps go on when it is back');
      }
    } finally {
      this.#sweeping = false;
      if (this.#sweepAgain) void this.sweep();
    }
  }

  /**
   * Signs and publishes a command; false if its gate has no enrolled device or the broker is not reachable. The
   * command then stays queued: the instance its controller next reports to sends it (#sendQueued), until it expires.
   */
  async sendCommand(c: OutgoingCommand): Promise<boolean> {
    const [g] = await this.#ctx.db
      .select({ deviceId: gates.deviceId, siteId: gates.siteId })
      .from(gates)
      .where(and(eq(gates.id, c.gateId), eq(gates.orgId, c.orgId), isNull(gates.deletedAt), isNull(gates.disabledAt)));
    if (!g?.deviceId || !this.connected) return false;
    await this.#publishCommand(
      { deviceId: g.deviceId, orgId: c.orgId, gateId: c.gateId, siteId: g.siteId, sealKey: null, at: Date.now() },
      c,
    );
    return true;
  }

  async #publishCommand(device: DeviceIdentity, c: OutgoingCommand): Promise<void> {
    await this.#send(device, topics.cmd(device.deviceId), {
      v: 1,
      kind: 'cmd',
      orgId: device.orgId,
      deviceId: device.deviceId,
      seq: c.seq,
      issuedAt: Date.now(),
      id: c.id,
      type: c.type,
      expiresAt: c.expiresAt,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.keyset ?? {}),
      ...(c.update ? { update: c.update } : {}),
    });
  }

  async head(siteId: string): Promise<number> {
    return maxSeq(this.#ctx.db, siteId);
  }
}
