import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@gatehouse/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canPublish, canSubscribe } from '../src/mqtt/acl.js';
import { hashBrokerPassword, newBrokerPassword, verifyBrokerPassword } from '../src/mqtt/broker-credentials.js';
import { startEmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { mosquittoFiles, writeMosquittoFiles } from '../src/mqtt/mosquitto-config.js';

describe('broker ACL rule (SPEC TOPIC-4)', () => {
  const dev = { kind: 'device', deviceId: 'dev-a' } as const;
  it('TOPIC-4: a device publishes only its own up topics', () => {
    expect(canPublish(dev, topics.events('dev-a'))).toBe(true);
    expect(canPublish(dev, topics.status('dev-a'))).toBe(true);
    expect(canPublish(dev, topics.events('dev-b'))).toBe(false);
    expect(canPublish(dev, topics.cmd('dev-a'))).toBe(false);
    expect(canPublish(dev, 'gh/v1/dev/dev-a/up/other')).toBe(false);
    expect(canPublish(dev, 'anything')).toBe(false);
  });
  it('TOPIC-4: a device subscribes only to its own down topics', () => {
    expect(canSubscribe(dev, topics.sync('dev-a'))).toBe(true);
    expect(canSubscribe(dev, 'gh/v1/dev/dev-a/down/+')).toBe(true);
    expect(canSubscribe(dev, 'gh/v1/dev/dev-a/#')).toBe(false);
    expect(canSubscribe(dev, 'gh/v1/dev/+/down/cmd')).toBe(false);
    expect(canSubscribe(dev, '#')).toBe(false);
    expect(canSubscribe(dev, topics.events('dev-a'))).toBe(false);
  });
  it('TOPIC-4, TOPIC-5: the cloud may use every Gatehouse topic, shared subscriptions included, and nothing else', () => {
    const cloud = { kind: 'cloud' } as const;
    expect(canSubscribe(cloud, topics.allUp('events', 'ingest'))).toBe(true);
    expect(canPublish(cloud, topics.cmd('x'))).toBe(true);
    expect(canSubscribe(cloud, '#')).toBe(false);
    expect(canSubscribe(cloud, '$SYS/#')).toBe(false);
  });
});

describe('broker passwords', () => {
  it('verify only the right password, in the $7$ format mosquitto_passwd writes', () => {
    const pw = newBrokerPassword();
    const h = hashBrokerPassword(pw);
    expect(h).toMatch(/^\$7\$1000\$[A-Za-z0-9+/=]{16}\$[A-Za-z0-9+/=]{88}$/);
    expect(verifyBrokerPassword(pw, h)).toBe(true);
    expect(verifyBrokerPassword(`${pw}x`, h)).toBe(false);
    expect(verifyBrokerPassword(pw, 'garbage')).toBe(false);
  });
});

// ---- one contract, two brokers ----

interface Users {
  cloud: { username: string; password: string };
  a: { username: string; password: string };
  b: { username: string; password: string };
}
interface RunningBroker {
  url: string;
  close(): Promise<void>;
  /** Filter the cloud uses for ingestion on this broker. */
  eventsFilter: string;
}

const users: Users = {
  cloud: { username: 'gatehouse-cloud', password: newBrokerPassword() },
  a: { username: 'dev-a', password: newBrokerPassword() },
  b: { username: 'dev-b', password: newBrokerPassword() },
};

function connect(url: string, u: { username: string; password: string }, clientId = `${u.username}-${Math.random()}`): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { username: u.username, password: u.password, clientId, reconnectPeriod: 0, connectTimeout: 5000 });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

function received(c: MqttClient, topic: string, ms = 400): Promise<string[]> {
  const got: string[] = [];
  c.on('message', (t, payload) => {
    if (t === topic) got.push(payload.toString());
  });
  return new Promise((resolve) => setTimeout(() => resolve(got), ms));
}

function brokerContract(name: string, start: () => Promise<RunningBroker>): void {
  describe(`${name}: per-device credentials and ACL`, () => {
    let broker: RunningBroker;
    const clients: MqttClient[] = [];
    beforeAll(async () => {
      broker = await start();
    });
    afterAll(async () => {
      for (const c of clients) c.end(true);
      await broker?.close();
    });
    const open = async (u: { username: string; password: string }) => {
      const c = await connect(broker.url, u);
      clients.push(c);
      return c;
    };

    it('refuses a wrong password and an anonymous client', async () => {
      await expect(connect(broker.url, { username: 'dev-a', password: 'wrong' })).rejects.toThrow();
      await expect(connect(broker.url, { username: '', password: '' })).rejects.toThrow();
    });

    it('TOPIC-4, SIGN-6: delivers a device’s own events to the cloud, and nothing it publishes for another device', async () => {
      const cloud = await open(users.cloud);
      await cloud.subscribeAsync(broker.eventsFilter, { qos: 1 });
      const a = await open(users.a);
      const got = received(cloud, topics.events('dev-a'));
      const spoofed = received(cloud, topics.events('dev-b'));
      await a.publishAsync(topics.events('dev-a'), 'mine', { qos: 1 });
      // The broker drops (or refuses) a publish outside the ACL; either way the cloud must not see it.
      // Not awaited: the embedded broker disconnects a device that breaks the ACL, so no PUBACK ever comes.
      a.publish(topics.events('dev-b'), 'spoofed', { qos: 1 }, () => undefined);
      expect(await got).toEqual(['mine']);
      expect(await spoofed).toEqual([]);
    });

    it('TOPIC-4: a device cannot read another device’s commands; it reads its own', async () => {
      const cloud = await open(users.cloud);
      const a = await open(users.a);
      const b = await open(users.b);
      const grantedOwn = await b.subscribeAsync(topics.cmd('dev-b'), { qos: 1 });
      expect(grantedOwn[0]?.qos).toBe(1);
      // aedes answers SUBACK 0x80; Mosquitto 2.0 grants it and filters every delivery. What counts is below: nothing arrives.
      await a.subscribeAsync(topics.cmd('dev-b'), { qos: 1 }).catch(() => undefined);
      const atB = received(b, topics.cmd('dev-b'));
      const atA = received(a, topics.cmd('dev-b'));
      await cloud.publishAsync(topics.cmd('dev-b'), 'open', { qos: 1 });
      expect(await atB).toEqual(['open']);
      expect(await atA).toEqual([]);
    });

    it('a device cannot publish on a cloud→edge topic (no forged commands through the broker)', async () => {
      const b = await open(users.b);
      await b.subscribeAsync(topics.cmd('dev-b'), { qos: 1 });
      const a = await open(users.a);
      const atB = received(b, topics.cmd('dev-b'));
      a.publish(topics.cmd('dev-b'), 'forged', { qos: 1 }, () => undefined);
      b.publish(topics.cmd('dev-b'), 'self', { qos: 1 }, () => undefined);
      expect(await atB).toEqual([]);
    });
  });
}

const log = pino({ level: 'silent' });
const hashes = Object.fromEntries(Object.values(users).map((u) => [u.username, hashBrokerPassword(u.password)]));

brokerContract('embedded aedes', async () => {
  const b = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log,
    async authenticate(username, password) {
      const h = hashes[username];
      if (!h || !verifyBrokerPassword(password, h)) return null;
      return username === users.cloud.username ? { kind: 'cloud' } : { kind: 'device', deviceId: username };
    },
  });
  return { url: `mqtt://127.0.0.1:${b.port}`, close: () => b.close(), eventsFilter: topics.allUp('events') };
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

brokerContract('mosquitto with the generated password file and ACL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-mosq-'));
  const port = await freePort();
  const files = mosquittoFiles(
    { username: users.cloud.username, passwordHash: hashes[users.cloud.username] ?? '' },
    [users.a, users.b].map((u) => ({ username: u.username, passwordHash: hashes[u.username] ?? '' })),
    dir,
    port,
  );
  // Running as root, mosquitto would switch to its own user and lose read access to 0600 files of the test.
  writeMosquittoFiles(dir, { ...files, conf: `user root\n${files.conf}` });
  const proc = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    try {
      (await connect(url, users.cloud)).end(true);
      break;
    } catch {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    eventsFilter: topics.allUp('events', 'ingest'),
    async close() {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
