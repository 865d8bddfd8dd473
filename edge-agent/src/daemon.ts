/**
 * The daemon: wires config → store → drivers → gate → HTTP/metrics →
 * systemd, and takes them down again in reverse order. No decisions here;
 * they are the gate's.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Direction } from '@gatehouse/protocol';
import type { Logger } from 'pino';
import type { EdgeConfig } from './config.js';
import { Gate, type ScanOutcome } from './gate.js';
import { GpioError } from './hardware/gpio.js';
import {
  createReader,
  createRelay,
  createSensor,
  gpioFactory,
  type HardwareDeps,
  type HardwareHealth,
  type PassageSensor,
  type Reader,
  type Relay,
} from './hardware/index.js';
import { OsdpReader } from './hardware/osdp/reader.js';
import { createDoorContact } from './hardware/sensor.js';
import type { DoorContact } from './hardware/types.js';
import { type LocalApi, startHttp } from './http.js';
import { ensureLocalToken, ensurePrivateDir } from './local-token.js';
import { EdgeMetrics } from './metrics.js';
import { type SdNotify, sdNotify } from './sd-notify.js';
import { EdgeStore } from './store/index.js';
import { CloudClock } from './sync/clock.js';
import { startLink } from './sync/wire.js';
import { type UpdateJob, Updater } from './update/updater.js';

export const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export function dbPath(cfg: EdgeConfig): string {
  return join(cfg.dataDir, 'edge.db');
}

/** A reader whose hardware could not be opened: reported unhealthy, the rest of the gate keeps working. */
class FailedReader implements Reader {
  readonly type: string;
  readonly name: string;
  readonly direction: Direction;
  constructor(
    cfg: { type: string; name: string; direction: Direction },
    private readonly reason: string,
  ) {
    this.type = cfg.type;
    this.name = cfg.name;
    this.direction = cfg.direction;
  }
  onInput(): void {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  health(): HardwareHealth {
    return { name: this.name, type: this.type, healthy: false, detail: this.reason };
  }
}

export class Daemon {
  store!: EdgeStore;
  gate!: Gate;
  relay!: Relay;
  sensor: PassageSensor | null = null;
  door: DoorContact | null = null;
  readers: Reader[] = [];
  metrics!: EdgeMetrics;
  /** SYNC-5: the cloud's clock as estimated from the signed cloud→edge messages. */
  readonly clock = new CloudClock();
  port = 0;
  #http: Awaited<ReturnType<typeof startHttp>> | null = null;
  #timers: NodeJS.Timeout[] = [];
  #sd: SdNotify | null = null;
  #stopping = false;
  #link: ReturnType<typeof startLink> | null = null;
  /** Issue 16: the update job and the health window of a release on trial. */
  updater: Updater | null = null;
  /** Scans whose handling threw, and verified cloud messages: the health window's evidence. */
  #scanErrors = 0;
  #cloudMessages = 0;
  #statusAcks = 0;
  /** How the process ends for an update restart (tests replace it). */
  exit: (code: number) => void = (code) => process.exit(code);

  constructor(
    readonly config: EdgeConfig,
    readonly log: Logger,
    private readonly deps: HardwareDeps = {},
  ) {}

  async start(): Promise<void> {
    const cfg = this.config;
    const log = this.log;
    // Private whatever the umask: the directory 0700, the token and the database files 0600 (store/open.ts).
    ensurePrivateDir(cfg.dataDir);
    const token = ensureLocalToken(cfg.dataDir);
    this.store = new EdgeStore(dbPath(cfg), { trustedKeys: cfg.orgPublicKey ? [cfg.orgPublicKey] : [] });
    if (this.store.movedAside) {
      log.error(
        { movedTo: this.store.movedAside, reason: this.store.recoveryReason },
        'database was unusable: moved aside, starting with an empty cache; a full sync is needed',
      );
    }
    const gpio = this.deps.gpio ?? gpioFactory(cfg, log);
    // The relay first, so the gate is held closed before anything can read a card.
    try {
      this.relay = createRelay(cfg.relay, gpio);
      if (cfg.passageSensor) this.sensor = createSensor(cfg.passageSensor, gpio);
      if (cfg.doorContact) this.door = createDoorContact(cfg.doorContact, gpio);
    } catch (e) {
      if (e instanceof GpioError) {
        const field = !this.relay ? 'relay' : cfg.passageSensor && !this.sensor ? 'passageSensor' : 'doorContact';
        throw new Error(`${field}: ${e.message}`);
      }
      throw e;
    }
    this.metrics = new EdgeMetrics({
      outboxDepth: () => this.store.outbox.depth,
      cacheSeq: () => this.store.seq,
      hardware: () => this.hardware(),
      mode: () => (this.gate.emergency ? 'emergency' : this.gate.lockdown ? 'lockdown' : 'normal'),
      storage: () => this.gate.storage,
    });
    this.gate = new Gate({
      store: this.store,
      relay: this.relay,
      sensor: this.sensor,
      debounceMs: cfg.debounceMs,
      metrics: this.metrics,
      log,
      defaultDirection: cfg.readers[0]?.direction ?? 'in',
      door: this.door,
      heldOpenSeconds: cfg.heldOpenSeconds,
      readerOfflineMs: cfg.readerOfflineSeconds * 1000,
      // SYNC-5: decisions (TOTP steps, windows) and occurredAt on the cloud's clock once it is known.
      now: () => this.clock.now(),
    });
    const hwDeps: HardwareDeps = { dataDir: cfg.dataDir, ...this.deps, log };
    for (const rc of cfg.readers) {
      let reader: Reader;
      try {
        reader = createReader(rc, hwDeps, gpio);
        reader.onInput((input) => {
          try {
            const out = this.gate.handle(input);
            // After the relay command: the reader's LED/beep never delays the door.
            if (out.decision) reader.feedback?.({ allow: out.decision.allow, reason: out.decision.reason });
          } catch (e) {
            // A store failure must not kill the reader loop; the watchdog notices a dead store.
            this.#scanErrors++;
            log.error({ err: e, reader: input.reader }, 'scan failed');
          }
        });
        reader.onCondition?.((c) => {
          try {
            this.gate.readerCondition(rc.name, c);
          } catch (e) {
            log.error({ err: e, reader: rc.name }, 'reader condition not recorded');
          }
        });
        await reader.start();
      } catch (e) {
        log.error({ reader: rc.name, err: (e as Error).message }, 'reader could not start');
        reader = new FailedReader(rc, (e as Error).message);
      }
      this.readers.push(reader);
    }
    await this.sensor?.start();
    await this.door?.start();
    this.#watchReaderHealth();

    const mqttAuth = cfg.mqtt ? { username: cfg.mqtt.username, password: cfg.mqtt.password } : undefined;
    const updater = new Updater({
      dataDir: cfg.dataDir,
      installRoot: cfg.update?.installRoot,
      releaseKeys: cfg.update?.releaseKeys,
      bootLimit: cfg.update?.bootLimit,
      auth: mqttAuth,
      ca: cfg.caFile ? readFileSync(cfg.caFile) : undefined,
      log: log.child({ component: 'update' }),
      publish: () => this.#link?.link.publishStatus(),
      sample: () => ({
        linkOnline: this.#link?.link.state === 'online',
        cloudMessages: this.#cloudMessages,
        statusAcks: this.#statusAcks,
        storageOk: this.gate.storage.ok,
        scanErrors: this.#scanErrors,
        outboxDepth: this.store.outbox.depth,
      }),
      restart: (code) => void this.restartForUpdate(code),
    });
    this.updater = updater;
    if (cfg.mqtt && cfg.deviceId && cfg.orgId && cfg.orgPublicKey) {
      this.#link = startLink({
        config: {
          deviceId: cfg.deviceId,
          orgId: cfg.orgId,
          gateId: cfg.gateId,
          mqtt: cfg.mqtt,
          orgPublicKey: cfg.orgPublicKey,
          sealKey: cfg.sealKey,
          caFile: cfg.caFile,
        },
        store: this.store,
        gate: this.gate,
        registry: this.metrics.registry,
        hardware: () => this.hardware(),
        version: VERSION,
        log,
        osdpKeyset: (name, key) => this.#setReaderKey(name, key),
        clock: this.clock,
        onVerified: () => {
          this.#cloudMessages++;
        },
        onStatusAcked: () => {
          this.#statusAcks++;
        },
        statusExtra: () => updater.statusFields(),
        onUpdate: (m) => {
          if (m.update) void updater.handle(m.update satisfies UpdateJob);
        },
      });
    }
    updater.start();

    this.#http = await startHttp(this.#api(), { port: cfg.localPort, token });
    this.port = this.#http.port;
    log.info({ port: this.port, version: VERSION }, 'listening');

    this.store.startBackgroundCheckpoints(cfg.checkpointIntervalMs, (e) =>
      log.error({ err: e.message }, 'checkpoint worker died; SQLite auto-checkpoints on the scan path instead'),
    );
    const t = setInterval(() => {
      try {
        this.store.outbox.prune();
      } catch (e) {
        log.error({ err: e }, 'outbox prune failed');
      }
    }, 300_000);
    t.unref();
    this.#timers.push(t);

    // The write probe. It does not feed the systemd watchdog: a restart cannot free a disk and would lose the
    // records kept in memory, so the watchdog still asks only whether the store answers (store.healthy()).
    const probe = setInterval(() => this.probeStorage(), (cfg.storageProbeSeconds ?? 5) * 1000);
    probe.unref();
    this.#timers.push(probe);

    this.#sd = sdNotify({ healthy: () => this.store.healthy(), onError: (e) => log.warn({ err: e.message }, 'sd_notify failed') });
    this.#sd.ready(`gate ${this.store.gateId ?? 'unassigned'}, outbox ${this.store.outbox.depth}`);
    log.info(
      { gateId: this.store.gateId ?? null, seq: this.store.seq, outbox: this.store.outbox.depth, watchdogMs: this.#sd.watchdogMs },
      'gatehouse-edge running',
    );
  }

  /**
   * ALARM-1 for readers that do not report their own conditions (serial-qr, wiegand, a reader that could not
   * start): their health is polled each second and the gate raises `reader_offline` after readerOfflineSeconds.
   */
  #watchReaderHealth(): void {
    const watched = this.readers.filter((r) => !r.onCondition);
    if (watched.length === 0) return;
    const t = setInterval(() => {
      for (const r of watched) {
        try {
          const h = r.health();
          this.gate.readerHealth(r.name, h.healthy, h.detail);
        } catch (e) {
          this.log.error({ err: e, reader: r.name }, 'reader health not checked');
        }
      }
    }, 1000);
    t.unref();
    this.#timers.push(t);
  }

  /** CMD-5: a key from the cloud for the OSDP reader of that config name. */
  #setReaderKey(name: string, key: Buffer): Promise<void> {
    const reader = this.readers.find((r) => r.name === name);
    if (!(reader instanceof OsdpReader)) return Promise.reject(new Error(`no OSDP reader named ${name}`));
    return reader.setKey(key);
  }

  hardware(): HardwareHealth[] {
    return [
      ...this.readers.map((r) => r.health()),
      this.relay.health(),
      ...(this.sensor ? [this.sensor.health()] : []),
      ...(this.door ? [this.door.health()] : []),
    ];
  }

  /** Writes a probe row; a failure is the gate's storage alarm, a success writes out what it kept in memory. */
  probeStorage(): ReturnType<Gate['probeStorage']> {
    return this.gate.probeStorage(() => this.store.probeWrite());
  }

  health(): object {
    const hardware = this.hardware();
    const storage = this.probeStorage();
    return {
      status: hardware.every((h) => h.healthy) && !this.store.fullSyncNeeded && storage.ok ? 'ok' : 'degraded',
      storage: { ...storage, failMode: this.config.failMode ?? 'secure' },
      version: VERSION,
      gateId: this.store.gateId ?? null,
      deviceId: this.config.deviceId ?? null,
      cacheSeq: this.store.seq,
      fullSyncNeeded: this.store.fullSyncNeeded,
      outboxDepth: this.store.outbox.depth,
      lockdown: this.gate.lockdown,
      emergency: this.gate.emergency,
      ...(this.door ? { door: { open: this.door.open } } : {}),
      link: this.#link ? this.#link.link.state : 'not-enrolled',
      hardware,
      relay: { active: this.relay.active, held: this.relay.held, pulses: this.relay.recordedPulses?.().length ?? null },
      ...this.updater?.statusFields(),
    };
  }

  #api(): LocalApi {
    const api: LocalApi = {
      health: () => this.health(),
      metrics: async () => ({ contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() }),
      recent: (limit) => this.store.outbox.recent(limit),
      open: (direction) => this.gate.manualOpen(direction),
      lockdown: (on) => this.gate.setLockdown(on),
    };
    // The simulation routes exist only for drivers with the capability (hardware/types.ts).
    if (this.readers.some((r) => r.simulate)) {
      api.scan = (text, name) => {
        const reader = this.readers.find((r) => r.simulate && (name === undefined || r.name === name));
        const input = reader?.simulate?.(text);
        if (!input) return null;
        const out: ScanOutcome = this.gate.handle(input);
        return { debounced: out.debounced, event: out.event };
      };
    }
    if (this.sensor?.simulatesPassage) api.passage = () => this.gate.passage();
    const door = this.door;
    if (door?.simulate) {
      api.door = (open) => {
        door.simulate?.(open);
        return { open: door.open };
      };
    }
    const relay = this.relay;
    if (relay.recordedPulses) api.relayPulses = () => relay.recordedPulses?.() ?? [];
    return api;
  }

  /**
   * Issue 16: after `current` was switched (or switched back). The relay is de-energised first, then the
   * daemon stops (the outbox is SQLite: what is not acked goes out from the next release), then the process
   * exits with the update code so systemd or the supervisor starts `current` at once. A stop that hangs
   * does not hold the restart: 3 s at most.
   */
  async restartForUpdate(code: number): Promise<void> {
    this.emergencyOff();
    this.log.warn({ code }, 'update: restarting on the switched release');
    await Promise.race([this.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 3000).unref())]);
    this.exit(code);
  }

  /** Relay off, synchronously: for crash paths where nothing else can be awaited. */
  emergencyOff(): void {
    try {
      this.relay?.off();
    } catch {}
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#sd?.stopping();
    this.#sd?.stop();
    for (const t of this.#timers) clearInterval(t);
    this.updater?.stop();
    await Promise.allSettled(this.readers.map((r) => r.stop()));
    // After the readers: the last events recorded still get their chance to go out with the link's flush.
    await this.#link?.stop().catch((e: unknown) => this.log.warn({ err: e }, 'link stop failed'));
    this.gate?.stop();
    try {
      this.relay?.close();
    } catch (e) {
      this.log.error({ err: e }, 'relay close failed');
    }
    await this.sensor?.stop();
    await this.door?.stop();
    // A last try for what the gate kept in memory while the disk failed: after this it is gone.
    if (this.gate && this.store?.db.open) {
      const left = this.probeStorage();
      if (left.buffered > 0)
        this.log.error({ buffered: left.buffered, reason: left.reason }, 'storage still failing: events kept in memory are lost');
    }
    await this.store?.stopBackgroundCheckpoints();
    if (this.#http) {
      const server = this.#http.server;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    }
    this.store?.close();
    this.log.info('stopped');
  }
}
