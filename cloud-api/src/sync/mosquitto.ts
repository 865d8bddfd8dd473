/**
 * Keeps an external Mosquitto's password file and ACL in step with the
 * enrolled gates (SPEC TOPIC-4). `gatehouse-cloud mosquitto-config --out DIR`
 * writes them once; with MOSQUITTO_DIR set, the cloud rewrites them after each
 * enrollment and, with MOSQUITTO_PID_FILE, asks Mosquitto to reload (SIGHUP).
 */
import { readFileSync } from 'node:fs';
import { and, isNotNull, isNull } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import { gates } from '../db/schema.js';
import { hashBrokerPassword } from '../mqtt/broker-credentials.js';
import { mosquittoFiles, writeMosquittoFiles } from '../mqtt/mosquitto-config.js';
import { CLOUD_BROKER_USER } from './service.js';

export interface MosquittoTarget {
  dir: string;
  /** The cloud's own broker login, as in MQTT_URL. */
  cloudUsername: string;
  cloudPassword: string;
  port?: number;
  host?: string;
  pidFile?: string | null;
}

export async function writeMosquittoConfig(ctx: AppContext, t: MosquittoTarget): Promise<number> {
  const rows = await ctx.db
    .select({ deviceId: gates.deviceId, hash: gates.deviceSecretHash })
    .from(gates)
    .where(and(isNotNull(gates.deviceId), isNotNull(gates.deviceSecretHash), isNull(gates.deletedAt)));
  const devices = rows.flatMap((r) => (r.deviceId && r.hash ? [{ username: r.deviceId, passwordHash: r.hash }] : []));
  writeMosquittoFiles(
    t.dir,
    mosquittoFiles({ username: t.cloudUsername, passwordHash: hashBrokerPassword(t.cloudPassword) }, devices, t.dir, t.port, t.host),
  );
  if (t.pidFile) {
    const pid = Number(readFileSync(t.pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 1) process.kill(pid, 'SIGHUP');
  }
  return devices.length;
}

/** The target from the environment, when the operator asked the cloud to manage Mosquitto's files. */
export function mosquittoTargetFromEnv(ctx: AppContext, env: NodeJS.ProcessEnv = process.env): MosquittoTarget | null {
  if (!env.MOSQUITTO_DIR || !ctx.config.mqttUrl) return null;
  const u = new URL(ctx.config.mqttUrl);
  return {
    dir: env.MOSQUITTO_DIR,
    cloudUsername: decodeURIComponent(u.username) || CLOUD_BROKER_USER,
    cloudPassword: decodeURIComponent(u.password),
    port: Number(u.port || 1883),
    pidFile: env.MOSQUITTO_PID_FILE ?? null,
  };
}
