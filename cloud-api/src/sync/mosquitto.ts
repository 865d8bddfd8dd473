/**
 * An external Mosquitto managed by the cloud (SPEC TOPIC-4) through its
 * dynamic-security plugin. `gatehouse-cloud mosquitto-config --out DIR`
 * writes the broker's configuration once (every enrolled device included, so
 * regenerating loses nobody); from then on each cloud instance running with
 * MOSQUITTO_DIR (or MOSQUITTO_DYNSEC=1, when it does not share the broker's
 * directory) creates, disables and deletes devices live over the plugin's
 * control topic (../mqtt/dynsec.ts).
 */
import { and, isNotNull, isNull } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { gates } from '../db/schema.js';
import { hashBrokerPassword } from '../mqtt/broker-credentials.js';
import { mosquittoFiles, writeMosquittoFiles } from '../mqtt/mosquitto-config.js';

export const CLOUD_BROKER_USER = 'gatehouse-cloud';

export interface MosquittoTarget {
  dir: string;
  /** The cloud's own broker login, as in MQTT_URL. */
  cloudUsername: string;
  cloudPassword: string;
  port?: number;
  host?: string;
  /** The plugin's path, when not where this machine's distribution puts it. */
  plugin?: string;
}

/** The enrolled devices (not deleted), as the broker must know them. */
export async function enrolledDevices(ctx: AppContext) {
  const rows = await ctx.db
    .select({ deviceId: gates.deviceId, hash: gates.deviceSecretHash, disabledAt: gates.disabledAt })
    .from(gates)
    .where(and(isNotNull(gates.deviceId), isNotNull(gates.deviceSecretHash), isNull(gates.deletedAt)));
  return rows.flatMap((r) => (r.deviceId && r.hash ? [{ deviceId: r.deviceId, hash: r.hash, disabled: r.disabledAt !== null }] : []));
}

/** Writes `mosquitto.conf` and the initial `dynamic-security.json`; returns how many devices it holds. */
export async function writeMosquittoConfig(ctx: AppContext, t: MosquittoTarget): Promise<number> {
  const devices = (await enrolledDevices(ctx)).map((d) => ({ username: d.deviceId, passwordHash: d.hash, disabled: d.disabled }));
  writeMosquittoFiles(
    t.dir,
    mosquittoFiles(
      { username: t.cloudUsername, passwordHash: hashBrokerPassword(t.cloudPassword) },
      devices,
      t.dir,
      t.port,
      t.host,
      ...(t.plugin ? [t.plugin] : []),
    ),
  );
  return devices.length;
}

/** The target of `mosquitto-config --out DIR` (MOSQUITTO_DIR), from MQTT_URL. */
export function mosquittoTargetFromEnv(ctx: AppContext, env: NodeJS.ProcessEnv = process.env): MosquittoTarget | null {
  if (!env.MOSQUITTO_DIR || !ctx.config.mqttUrl) return null;
  const u = new URL(ctx.config.mqttUrl);
  return {
    dir: env.MOSQUITTO_DIR,
    cloudUsername: decodeURIComponent(u.username) || CLOUD_BROKER_USER,
    cloudPassword: decodeURIComponent(u.password),
    port: Number(u.port || 1883),
    ...(env.MOSQUITTO_DYNSEC_PLUGIN ? { plugin: env.MOSQUITTO_DYNSEC_PLUGIN } : {}),
  };
}

/** Whether this instance manages the external broker's devices over the dynamic-security control topic. */
export function manageMosquitto(ctx: AppContext, env: NodeJS.ProcessEnv = process.env): boolean {
  return !!ctx.config.mqttUrl && (!!env.MOSQUITTO_DIR || env.MOSQUITTO_DYNSEC === '1');
}
