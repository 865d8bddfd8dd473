/**
 * A broker for the link's tests, in the test process and without a socket:
 * aedes with a tiny password check, and clients that reach it over in-memory
 * streams, built the way MQTT.js takes its transport (a stream builder).
 * `connect` has the shape of EdgeLink's `connect` option. The cloud's broker,
 * its credentials and its ACL are the root e2e tests' business.
 */
import { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import { type IClientOptions, MqttClient } from 'mqtt';

export interface TestBroker {
  readonly aedes: Aedes;
  /** A client of this broker over a fresh in-memory stream (a new one on every reconnect); the url is ignored. */
  connect(url: string, options: IClientOptions): MqttClient;
  /** The same, resolved once the broker accepted it. */
  connectAsync(options: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

/** Two connected stream ends: what one writes the other reads; destroying either destroys both, like a socket. */
function streamPair(): [Duplex, Duplex] {
  const end = (peer: () => Duplex) =>
    new Duplex({
      allowHalfOpen: false,
      read() {},
      write(chunk: Buffer, _encoding, cb) {
        const p = peer();
        if (!p.destroyed) p.push(chunk);
        cb();
      },
      final(cb) {
        const p = peer();
        if (!p.destroyed) p.push(null);
        cb();
      },
      destroy(err, cb) {
        peer().destroy();
        cb(err);
      },
    });
  const a: Duplex = end(() => b);
  const b: Duplex = end(() => a);
  return [a, b];
}

/** Starts a broker that admits exactly the given username → password pairs. */
export async function startTestBroker(passwords: Record<string, string>): Promise<TestBroker> {
  const aedes = await Aedes.createBroker({
    authenticate(_client, username, password, done) {
      const expected = username === undefined ? undefined : passwords[username];
      if (expected !== undefined && password?.toString('utf8') === expected) done(null, true);
      else done(Object.assign(new Error('bad username or password'), { returnCode: 4 as const }), false);
    },
  });
  const connect = (_url: string, options: IClientOptions): MqttClient =>
    new MqttClient(() => {
      const [clientSide, brokerSide] = streamPair();
      aedes.handle(brokerSide);
      return clientSide;
    }, options);
  return {
    aedes,
    connect,
    connectAsync: (options) =>
      new Promise((resolve, reject) => {
        const client = connect('', options);
        client.once('connect', () => resolve(client));
        client.once('error', reject);
      }),
    close: () => new Promise<void>((resolve) => aedes.close(() => resolve())),
  };
}
