/**
 * Starts the broker side of the system for one cloud instance: the embedded
 * aedes broker when MQTT_URL is unset (devices authenticate against their
 * enrollment credentials, the cloud with a per-process secret), or nothing
 * when an external broker is configured (MQTT_URL carries the cloud's own
 * broker credentials); then the cloud's MQTT link, whose check-ins and
 * status changes feed the console's live events.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { AppContext } from '../context.js';
import { gates } from '../db/schema.js';
import { getGate } from '../modules/gates/service.js';
import { newBrokerPassword, verifyBrokerPassword } from '../mqtt/broker-credentials.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../mqtt/embedded-broker.js';
import { CloudLink } from './link.js';

export const CLOUD_BROKER_USER = 'gatehouse-cloud';

export interface SyncService {
  link: CloudLink;
  broker: EmbeddedBroker | null;
  close(): Promise<void>;
}

export async function startSync(ctx: AppContext, log: Logger): Promise<SyncService> {
  let broker: EmbeddedBroker | null = null;
  let url: string;
  let username: string;
  let password: string;
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
    broker = await startEmbeddedBroker({
      host: ctx.config.host,
      port: ctx.config.mqttPort,
      log: log.child({ component: 'broker' }),
      async authenticate(user, pass) {
        if (user === CLOUD_BROKER_USER) return pass === cloudSecret ? { kind: 'cloud' } : null;
        const [g] = await ctx.db
          .select({ hash: gates.deviceSecretHash })
          .from(gates)
          .where(and(eq(gates.deviceId, user), isNull(gates.deletedAt)));
        return g?.hash && verifyBrokerPassword(pass, g.hash) ? { kind: 'device', deviceId: user } : null;
      },
    });
    url = `mqtt://127.0.0.1:${broker.port}`;
  }
  const link = new CloudLink(ctx, {
    url,
    username,
    password,
    shareGroup: ctx.config.mqttUrl ? 'ingest' : null,
    log: log.child({ component: 'sync' }),
  });
  link.on('checkin', (orgId, data) => {
    ctx.events.publish(orgId, { type: 'checkin.created', data });
    // A passage the gate did not unlock is somebody forcing or tailgating: the guard must see it as an alarm.
    if (data.type === 'forced') {
      ctx.events.publish(orgId, {
        type: 'alarm.raised',
        data: {
          id: data.id,
          gateId: data.gateId,
          siteId: data.siteId,
          kind: 'forced',
          message: 'Passage without an unlock (forced or tailgating)',
          occurredAt: data.occurredAt,
        },
      });
    }
  });
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
  await link.start();
  return {
    link,
    broker,
    async close() {
      await link.stop();
      await broker?.close();
    },
  };
}
