/**
 * Connects an enrolled daemon to the cloud: the MQTT link over the store and
 * the gate, a counter of rejected cloud messages, and a short poll that
 * publishes new outbox events (cheaper than hooking every write path, and it
 * bounds event → cloud latency at the poll interval).
 */
import { readFileSync } from 'node:fs';
import { KeyRing } from '@gatehouse/protocol';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Gate } from '../gate.js';
import type { HardwareHealth } from '../hardware/index.js';
import type { EdgeStore } from '../store/index.js';
import type { CloudClock } from './clock.js';
import { type CommandTarget, EdgeLink, type LinkOptions } from './link.js';
import { syncStoreOf } from './store-adapter.js';

export interface EnrolledConfig {
  deviceId: string;
  orgId: string;
  gateId?: string | undefined;
  mqtt: { url: string; username: string; password: string };
  orgPublicKey: string;
  /** X25519 private key made at enrollment (SEAL-1); absent on an edge enrolled before sealing. */
  sealKey?: string | undefined;
  /** PEM file of the broker's CA (mqtts:// with a private CA). */
  caFile?: string | undefined;
}

/** The gate as the link's commands and syncs act on it. */
export function commandTargetOf(gate: Gate, hardware: () => HardwareHealth[]): CommandTarget {
  return {
    open: () => gate.manualOpen(),
    lockdown: (on) => gate.setLockdown(on),
    emergency: (on) => gate.setEmergency(on),
    release: () => gate.release(),
    get lockdownActive() {
      return gate.lockdown;
    },
    get emergencyActive() {
      return gate.emergency;
    },
    synced: () => gate.syncMode(),
    hardware,
  };
}

export function startLink(o: {
  config: EnrolledConfig;
  store: EdgeStore;
  gate: Gate;
  registry: Registry;
  hardware: () => HardwareHealth[];
  version: string;
  log: Logger;
  flushMs?: number;
  /** CMD-5: sets a key from the cloud on an OSDP reader by name. */
  osdpKeyset?: (reader: string, key: Buffer) => Promise<void>;
  /** SYNC-5: the cloud's clock as estimated from the signed messages. */
  clock?: CloudClock;
  /** Issue 16: the update job's hooks (see LinkOptions). */
  onVerified?: LinkOptions['onVerified'];
  onStatusAcked?: LinkOptions['onStatusAcked'];
  statusExtra?: LinkOptions['statusExtra'];
  onUpdate?: LinkOptions['onUpdate'];
}): { link: EdgeLink; stop(): Promise<void> } {
  const { config, store, gate } = o;
  if (config.gateId && store.gateId !== config.gateId) store.setSetting('gateId', config.gateId);
  const rejected = new Counter({
    name: 'gatehouse_sync_rejected_total',
    help: 'Cloud→edge messages refused (bad signature, wrong org/device, stale, out of order, expired command…)',
    labelNames: ['reason'],
    registers: [o.registry],
  });
  const link = new EdgeLink({
    url: config.mqtt.url,
    username: config.mqtt.username,
    password: config.mqtt.password,
    deviceId: config.deviceId,
    orgId: config.orgId,
    keys: new KeyRing(store.trustedKeys.length ? store.trustedKeys : [config.orgPublicKey]),
    sealKey: config.sealKey,
    ca: config.caFile ? readFileSync(config.caFile) : undefined,
    version: o.version,
    store: syncStoreOf(store),
    gate: commandTargetOf(gate, o.hardware),
    log: o.log.child({ component: 'link' }),
    onReject: (reason) => rejected.inc({ reason }),
    ...(o.osdpKeyset ? { osdpKeyset: o.osdpKeyset } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.onVerified ? { onVerified: o.onVerified } : {}),
    ...(o.onStatusAcked ? { onStatusAcked: o.onStatusAcked } : {}),
    ...(o.statusExtra ? { statusExtra: o.statusExtra } : {}),
    ...(o.onUpdate ? { onUpdate: o.onUpdate } : {}),
  });
  link.start();
  const timer = setInterval(() => link.flush(), o.flushMs ?? 100);
  timer.unref();
  return {
    link,
    async stop() {
      clearInterval(timer);
      await link.stop();
    },
  };
}
