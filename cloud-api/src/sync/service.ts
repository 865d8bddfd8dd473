/**
 * Starts the broker side of the system for one cloud instance: the embedded
 * aedes broker when MQTT_URL is unset (devices authenticate against their
 * enrollment credentials, the cloud with a per-process secret), or nothing
 * when an external broker is configured (MQTT_URL carries the cloud's own
 * broker credentials); then the cloud's MQTT link, whose check-ins and
 * status changes feed the console's live events.
 *
 * A controller removed, replaced by a re-enrollment or disabled is cut off
 * twice over: every instance hears of it through the database
 * (`gatehouse_device_revoked`, raised by a trigger on gates) and stops serving
 * it, and the broker closes its session and refuses its login — the embedded
 * broker itself, a dynamic-security Mosquitto through `access`.
 */
import { readFileSync } from 'node:fs';
import { and, eq, isNull } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { AppContext } from '../context.js';
import { gates } from '../db/schema.js';
import { publishCheckins } from '../modules/checkins/ingest.js';
import { getGate } from '../modules/gates/service.js';
import { newBrokerPassword, verifyBrokerPassword } from '../mqtt/broker-credentials.js';
import { DynsecAdmin } from '../mqtt/dynsec.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../mqtt/embedded-broker.js';
import { CloudLink } from './link.js';
import { CLOUD_BROKER_USER, enrolledDevices, manageMosquitto } from './mosquitto.js';

export { CLOUD_BROKER_USER };

/** The NOTIFY channel on which the gates trigger (migration 0004) names a device that lost its identity. */
/** How long start waits for a broker that may be up; after it, the link keeps connecting in the background. */
const BROKER_START_WAIT_MS = 3000;

export const DEVICE_REVOKED_CHANNEL = 'gatehouse_device_revoked';

/** What the broker is told of a device's credentials. */
export interface BrokerAccess {
  /** Called inside the enrolling transaction: the broker accepts this login (under client id = deviceId) before it commits. */
  grant(deviceId: string, password: string): Promise<void>;
  /** After a commit that deleted, replaced or disabled the device: its session is closed and its login refused. Never throws (logs). */
  revoke(deviceId: string, how: 'delete' | 'disable'): Promise<void>;
  /** After a commit that enabled a disabled device again. Never throws (logs). */
  restore(deviceId: string): Promise<void>;
}

export interface SyncService {
  link: CloudLink;
  broker: EmbeddedBroker | null;
  access: BrokerAccess;
  close(): Promise<void>;
}

/** An external broker the cloud does not manage (no MOSQUITTO_DIR / MOSQUITTO_DYNSEC): its operator grants and revokes. */
const unmanaged: BrokerAccess = {
  grant: async () => undefined,
  revoke: async () => undefined,
  restore: async () => undefined,
};

export async function startSync(ctx: AppContext, log: Logger): Promise<SyncService> {
  let broker: EmbeddedBroker | null = null;
  let url: string;
  let username: string;
  let password: string;
  /** The CA the cloud checks the broker's certificate against: MQTT_CA_FILE, or the embedded broker's own (self-signed) certificate. */
  let ca: Buffer | null = ctx.config.mqttCaFile ? readFileSync(ctx.config.mqttCaFile) : null;
  if (ctx.config.mqttUrl) {
    const u = new URL(ctx.config.mqttUrl);
    username = decodeURIComponent(u.username) || CLOUD_BROKER_USER;
    password = decodeURIComponent(u.password);
    u.username = '';
    u.password = '';
    url = u.toString();
  } else {
    username = CLOUD_BROKER_USER;
    password = newBrokerPassword();
    const cloudSecret = password;
    const tls = ctx.config.mqttTls
      ? { cert: readFileSync(ctx.config.mqttTls.certFile), key: readFileSync(ctx.config.mqttTls.keyFile) }
      : undefined;
    if (tls && !ca) ca = tls.cert;
    broker = await startEmbeddedBroker({
      host: ctx.config.host,
      port: ctx.config.mqttPort,
      tls,
      log: log.child({ component: 'broker' }),
      async authenticate(user, pass) {
        if (user === CLOUD_BROKER_USER) return pass === cloudSecret ? { kind: 'cloud' } : null;
        const [g] = await ctx.db
          .select({ hash: gates.deviceSecretHash })
          .from(gates)
          .where(and(eq(gates.deviceId, user), isNull(gates.deletedAt), isNull(gates.disabledAt)));
        return g?.hash && verifyBrokerPassword(pass, g.hash) ? { kind: 'device', deviceId: user } : null;
      },
    });
    // With TLS the cloud connects by the name a certificate is usually made for.
    url = tls ? `mqtts://localhost:${broker.port}` : `mqtt://127.0.0.1:${broker.port}`;
  }
  let access: BrokerAccess = unmanaged;
  let dynsec: DynsecAdmin | null = null;
  if (broker) {
    const b = broker;
    // The embedded broker reads the database at each login: only live sessions need closing.
    access = { grant: async () => undefined, revoke: async (deviceId) => void b.disconnect(deviceId), restore: async () => undefined };
  } else if (manageMosquitto(ctx)) {
    const admin = new DynsecAdmin({
      url,
      username,
      password,
      ca: ca ?? undefined,
      log: log.child({ component: 'dynsec' }),
      // At each connection, removals the broker missed while it was away are caught up.
      onConnect: () => {
        enrolledDevices(ctx)
          .then((ds) => admin.reconcile(new Map(ds.map((d) => [d.deviceId, { disabled: d.disabled }]))))
          .then(
            (n) => {
              if (n.deleted + n.disabled + n.enabled > 0) log.info(n, 'dynsec: broker devices reconciled with the database');
            },
            (err: unknown) => log.warn({ err }, 'dynsec: reconciliation failed'),
          );
      },
    });
    await admin.start();
    dynsec = admin;
    // A revocation the broker could not take now (it is away) is caught up by the reconciliation when it is back.
    const logged = (what: string, deviceId: string) => (err: unknown) =>
      log.error({ err, deviceId }, `dynsec: ${what} failed; reconciled at the next connection`);
    access = {
      grant: (deviceId, pw) => admin.addDevice(deviceId, pw),
      revoke: (deviceId, how) =>
        (how === 'delete' ? admin.deleteDevice(deviceId) : admin.disableDevice(deviceId)).catch(logged(how, deviceId)),
      restore: (deviceId) => admin.enableDevice(deviceId).catch(logged('enable', deviceId)),
    };
  }
  const link = new CloudLink(ctx, {
    url,
    username,
    password,
    shareGroup: ctx.config.mqttUrl ? ctx.config.mqttShareGroup : null,
    ca,
    log: log.child({ component: 'sync' }),
  });
  link.on('checkin', (orgId, data) => publishCheckins(ctx.events, orgId, [data]));
  // A gate going online or offline shows in the guard view at once.
  const lastOnline = new Map<string, boolean>();
  link.on('status', (orgId, gateId, online) => {
    if (lastOnline.get(gateId) === online) return;
    lastOnline.set(gateId, online);
    getGate(ctx, orgId, gateId).then(
      (data) => ctx.events.publish(orgId, { type: 'gate.status_changed', data }),
      () => undefined,
    );
  });
  // Every instance, whichever handled the call: the device is served no more, and its embedded-broker session is closed.
  const b = broker;
  const unlisten = await ctx.database.listen(
    DEVICE_REVOKED_CHANNEL,
    (deviceId) => {
      link.forget(deviceId);
      b?.disconnect(deviceId);
    },
    () => link.forgetAll(),
  );
  await link.start();
  // Neither waits for the broker (the cloud serves without it); a broker that is up is joined before serving
  // starts, so an edge's first sync request is not published before anyone subscribes.
  await Promise.all([link.whenSubscribed(BROKER_START_WAIT_MS), dynsec?.whenReady(BROKER_START_WAIT_MS)]);
  if (!link.connected) log.warn({ url }, 'sync: broker not reachable at start; serving without it, reconnecting');
  return {
    link,
    broker,
    access,
    async close() {
      await unlisten();
      await link.stop();
      await dynsec?.stop();
      await broker?.close();
    },
  };
}
