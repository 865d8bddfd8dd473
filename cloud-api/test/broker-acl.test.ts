import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@gatehouse/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/app.js';
import { canPublish, canSubscribe } from '../src/mqtt/acl.js';
import { hashBrokerPassword, newBrokerPassword, verifyBrokerPassword } from '../src/mqtt/broker-credentials.js';
import { startEmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { mosquittoFiles, writeMosquittoFiles } from '../src/mqtt/mosquitto-config.js';
import { createOrgWithUser, freshDatabase, type Login, seedTopology, type TestDb, testConfig } from './helpers.js';

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

/** A device's client id is its username (the brokers refuse any other); the cloud's is its own. */
function connect(
  url: string,
  u: { username: string; password: string },
  clientId = u.username === users.cloud.username ? `${u.username}-${Math.random()}` : u.username,
): Promise<MqttClient> {
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

    it('a device cannot log in under another device’s client id, so cannot take over its session', async () => {
      const b = await open(users.b);
      await b.subscribeAsync(topics.cmd('dev-b'), { qos: 1 });
      let bClosed = false;
      b.on('close', () => {
        bClosed = true;
      });
      await expect(connect(broker.url, users.a, 'dev-b')).rejects.toThrow();
      await expect(connect(broker.url, users.a, 'someone-else')).rejects.toThrow();
      // B's session is untouched: still connected, still served.
      const cloud = await open(users.cloud);
      const atB = received(b, topics.cmd('dev-b'));
      await cloud.publishAsync(topics.cmd('dev-b'), 'still-mine', { qos: 1 });
      expect(await atB).toEqual(['still-mine']);
      expect(bClosed).toBe(false);
    });

    it('TOPIC-4, SIGN-5: a device cannot publish on a cloud→edge topic (no forged commands through the broker)', async () => {
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

/** Mosquitto on a free port with the dynamic-security setup that `gatehouse-cloud mosquitto-config` writes. */
async function startMosquitto(cloud: { username: string; password: string }, devices: { username: string; password: string }[]) {
  const dir = mkdtempSync(join(tmpdir(), 'gh-mosq-'));
  const port = await freePort();
  const files = mosquittoFiles(
    { username: cloud.username, passwordHash: hashBrokerPassword(cloud.password) },
    devices.map((u) => ({ username: u.username, passwordHash: hashBrokerPassword(u.password) })),
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
      (await connect(url, cloud, `probe-${Math.random()}`)).end(true);
      break;
    } catch {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    port,
    async close() {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

brokerContract('mosquitto with the generated dynamic-security setup', async () => {
  const m = await startMosquitto(users.cloud, [users.a, users.b]);
  return { url: m.url, eventsFilter: topics.allUp('events', 'ingest'), close: () => m.close() };
});

// ---- a controller removed is cut off at once, on either broker ----

interface CloudOnBroker {
  app: App;
  /** A device login the broker held before the cloud connected, of no gate the database knows (a removal it missed). */
  stale?: { url: string; username: string; password: string };
  close(): Promise<void>;
}

const timings: string[] = [];

/** One database for both brokers' cases (each makes its own organisation): a fresh PGlite is slow to start on a busy machine. */
let dbOnce: Promise<TestDb> | null = null;
const sharedDb = () => {
  dbOnce ??= freshDatabase();
  return dbOnce;
};
afterAll(async () => {
  await (await dbOnce)?.drop();
});

function removalContract(name: string, start: (db: TestDb) => Promise<CloudOnBroker>): void {
  describe(`${name}: a deleted, re-enrolled or disabled controller is cut off within seconds`, () => {
    let db: TestDb;
    let cloud: CloudOnBroker;
    let admin: Login;
    let topo: Awaited<ReturnType<typeof seedTopology>>;
    const clients: MqttClient[] = [];
    beforeAll(async () => {
      db = await sharedDb();
      cloud = await start(db);
      admin = await createOrgWithUser(cloud.app, `cutoff-${Date.now()}-${Math.random()}`, ['OrgAdmin']);
      topo = await seedTopology(cloud.app, admin);
    }, 180_000);
    afterAll(async () => {
      for (const c of clients) c.end(true);
      await cloud?.close();
      if (timings.length) process.stdout.write(`${timings.splice(0).join('\n')}\n`);
    });

    const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      cloud.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
    const newGate = async () => {
      const r = await inject('POST', '/api/admin/gates', {
        siteId: topo.site.id,
        zoneId: topo.zone.id,
        name: 'Cut-off door',
        direction: 'in',
      });
      expect(r.statusCode).toBe(201);
      return (r.json() as { id: string }).id;
    };
    const code = async (gateId: string) => {
      const r = await inject('POST', `/api/admin/gates/${gateId}/enrollment`);
      expect(r.statusCode).toBe(201);
      return (r.json() as { code: string }).code;
    };
    type Enrolled = { deviceId: string; mqtt: { url: string; username: string; password: string } };
    const enrollWith = (c: string) => cloud.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: c } });
    const enroll = async (gateId: string): Promise<Enrolled> => {
      const r = await enrollWith(await code(gateId));
      expect(r.statusCode).toBe(200);
      return r.json() as Enrolled;
    };
    /** Connects as the controller (client id = its device id) and notes when the broker closes the session. */
    const online = async (d: Enrolled) => {
      const c = await connect(d.mqtt.url, d.mqtt);
      clients.push(c);
      await c.subscribeAsync(`${topics.sync(d.deviceId).replace(/sync$/, '+')}`, { qos: 1 });
      const closed = new Promise<number>((resolve) => c.once('close', () => resolve(performance.now())));
      return { client: c, closed };
    };
    /** Runs the API call and measures from its answer to the broker closing the device's session. */
    const cutOff = async (what: string, closed: Promise<number>, call: () => Promise<{ statusCode: number }>, status: number) => {
      const sent = performance.now();
      const r = await call();
      const answered = performance.now();
      expect(r.statusCode).toBe(status);
      const at = await Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000))]);
      expect(at, `${what}: the session is still open 5 s after the API answered`).not.toBeNull();
      timings.push(
        `[cut-off] ${name}, ${what}: session closed ${Math.round(at! - answered)} ms after the API answered (${Math.round(at! - sent)} ms after the call)`,
      );
    };

    it('a device login the broker kept but the database does not know is removed when the cloud connects', async (t) => {
      const stale = cloud.stale;
      // The embedded broker has no logins of its own: it asks the database at each connection.
      if (!stale) return t.skip();
      const refused = async () => {
        try {
          (await connect(stale.url, stale)).end(true);
          return false;
        } catch {
          return true;
        }
      };
      const end = Date.now() + 5000;
      while (!(await refused())) {
        expect(Date.now(), 'the stale login is still accepted 5 s after the cloud connected').toBeLessThan(end);
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    it('DELETE /api/admin/gates/:id closes the session; the old password is refused', async () => {
      const gateId = await newGate();
      const d = await enroll(gateId);
      const { closed } = await online(d);
      await cutOff('delete', closed, () => inject('DELETE', `/api/admin/gates/${gateId}`), 204);
      await expect(connect(d.mqtt.url, d.mqtt)).rejects.toThrow();
    });

    it('re-enrolling the gate closes the old controller’s session and refuses its login; the new one logs in', async () => {
      const gateId = await newGate();
      const old = await enroll(gateId);
      const { closed } = await online(old);
      const c = await code(gateId);
      let fresh: Enrolled | null = null;
      await cutOff(
        're-enroll',
        closed,
        async () => {
          const r = await enrollWith(c);
          fresh = r.json() as Enrolled;
          return r;
        },
        200,
      );
      await expect(connect(old.mqtt.url, old.mqtt)).rejects.toThrow();
      const next = fresh as unknown as Enrolled;
      expect(next.deviceId).not.toBe(old.deviceId);
      (await connect(next.mqtt.url, next.mqtt)).end(true);
    });

    it('disabling the gate (PATCH disabled) closes the session and refuses the login until it is enabled again; both audited', async () => {
      const gateId = await newGate();
      const d = await enroll(gateId);
      const { closed } = await online(d);
      await cutOff('disable', closed, () => inject('PATCH', `/api/admin/gates/${gateId}`, { disabled: true }), 200);
      await expect(connect(d.mqtt.url, d.mqtt)).rejects.toThrow();
      const gate = (await inject('GET', `/api/admin/gates/${gateId}`)).json() as { disabled: boolean; online: boolean };
      expect(gate).toMatchObject({ disabled: true, online: false });
      // A code for a disabled gate is refused, and not spent.
      const c = await code(gateId);
      expect((await enrollWith(c)).statusCode).toBe(409);
      const enabled = await inject('PATCH', `/api/admin/gates/${gateId}`, { disabled: false });
      expect(enabled.json()).toMatchObject({ disabled: false });
      (await connect(d.mqtt.url, d.mqtt)).end(true);
      const audit = (await inject('GET', `/api/admin/audit-logs?entityId=${gateId}&limit=100`)).json() as {
        items: { action: string; entityId: string | null; data: unknown }[];
      };
      const updates = audit.items.filter((a) => a.entityId === gateId && a.action === 'gate.update').map((a) => a.data);
      expect(updates).toEqual(expect.arrayContaining([{ disabled: true }, { disabled: false }]));
    });
  });
}

removalContract('embedded aedes', async (db) => {
  const app = await buildApp(testConfig({ mqttPort: await freePort() }), {
    database: db.database,
    migrate: false,
    logger: false,
    sync: true,
  });
  return { app, close: () => app.close() };
});

removalContract('mosquitto (dynamic security, managed over $CONTROL)', async (db) => {
  const cloudLogin = { username: 'gatehouse-cloud', password: newBrokerPassword() };
  const stale = { username: 'gw-removed-while-away', password: newBrokerPassword() };
  const m = await startMosquitto(cloudLogin, [stale]);
  // Before the cloud connects, the broker still lets it in.
  (await connect(m.url, stale)).end(true);
  const before = process.env.MOSQUITTO_DYNSEC;
  process.env.MOSQUITTO_DYNSEC = '1';
  try {
    const app = await buildApp(testConfig({ mqttUrl: `mqtt://${cloudLogin.username}:${cloudLogin.password}@127.0.0.1:${m.port}` }), {
      database: db.database,
      migrate: false,
      logger: false,
      sync: true,
    });
    return {
      app,
      stale: { url: m.url, ...stale },
      async close() {
        await app.close();
        await m.close();
      },
    };
  } finally {
    if (before === undefined) delete process.env.MOSQUITTO_DYNSEC;
    else process.env.MOSQUITTO_DYNSEC = before;
  }
});
