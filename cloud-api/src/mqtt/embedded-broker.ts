/**
 * The zero-setup broker: aedes inside cloud-api, listening on MQTT_PORT.
 * Authentication asks the caller (the device registry); authorization is the
 * ACL rule of ./acl.ts. aedes speaks MQTT 3.1.1 and has no shared
 * subscriptions — fine, since the embedded broker serves exactly one cloud
 * instance; scale-out uses an external broker. A device logs in only under
 * its own client id (so it cannot take over another device's session), and
 * `disconnect` closes a removed device's live session at once.
 */
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { Logger } from 'pino';
import { type BrokerIdentity, canPublish, canSubscribe } from './acl.js';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  /** Resolves a username/password to who it is, or null to refuse. */
  authenticate(username: string, password: string): Promise<BrokerIdentity | null>;
  log: Logger;
  /** PEM certificate and key: the broker then listens with TLS only (mqtts://). */
  tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
}

export interface EmbeddedBroker {
  readonly port: number;
  /** Whether it listens with TLS (mqtts://). */
  readonly tls: boolean;
  readonly aedes: Aedes;
  /** Closes every live session of this device (removed, replaced or disabled); returns how many. */
  disconnect(deviceId: string): number;
  close(): Promise<void>;
}

const identities = new WeakMap<object, BrokerIdentity>();

function authError(): Error & { returnCode: 4 } {
  return Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { log } = opts;
  const aedes = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      if (!username || !password) {
        done(authError(), false);
        return;
      }
      opts.authenticate(username, password.toString('utf8')).then(
        (who) => {
          if (!who) {
            log.warn({ clientId: client.id, username }, 'mqtt: refused login');
            done(authError(), false);
            return;
          }
          if (who.kind === 'device' && client.id !== who.deviceId) {
            log.warn({ clientId: client.id, username }, 'mqtt: refused a device login under another client id');
            done(Object.assign(new Error('client id must be the username'), { returnCode: 2 as const }), false);
            return;
          }
          identities.set(client, who);
          done(null, true);
        },
        (err: unknown) => {
          log.error({ err }, 'mqtt: authenticate failed');
          done(Object.assign(new Error('server unavailable'), { returnCode: 3 as const }), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      // client is null for messages the broker itself publishes (the cloud's in-process link).
      const who = client ? identities.get(client) : ({ kind: 'cloud' } as const);
      if (!who || !canPublish(who, packet.topic)) {
        log.warn({ clientId: client?.id, topic: packet.topic }, 'mqtt: publish denied');
        done(new Error('not authorized'));
        return;
      }
      done(null);
    },
    authorizeSubscribe(client, sub, done) {
      const who = identities.get(client);
      if (!who || !canSubscribe(who, sub.topic)) {
        log.warn({ clientId: client.id, topic: sub.topic }, 'mqtt: subscribe denied');
        // A null subscription makes aedes answer SUBACK 0x80 (failure) rather than drop the connection.
        done(null, null);
        return;
      }
      done(null, sub);
    },
  });
  const server: Server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, aedes.handle) : createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  log.info({ host: opts.host, port, tls: !!opts.tls }, 'embedded MQTT broker listening');
  return {
    port,
    tls: !!opts.tls,
    aedes,
    disconnect(deviceId) {
      let n = 0;
      // aedes keeps its connected clients by id; the map is not in its types.
      const live = (aedes as unknown as { clients: Record<string, Client> }).clients;
      for (const client of Object.values(live)) {
        const who = identities.get(client);
        if (who?.kind === 'device' && who.deviceId === deviceId) {
          client.close();
          n++;
        }
      }
      if (n > 0) log.info({ deviceId, sessions: n }, 'mqtt: closed the session of a removed device');
      return n;
    },
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
