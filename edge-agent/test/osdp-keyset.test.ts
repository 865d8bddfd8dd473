/**
 * The edge link's `osdp_keyset` command (SPEC CMD-5): the key is opened with this controller's seal key and handed
 * to the reader by name; a key sealed to another controller or another reader, a keyset on a controller enrolled
 * without a seal key, and a key for a reader it does not have are dropped and logged, never a crash, and the key is
 * in no log line.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  type DownMessage,
  generateDeviceKeyPair,
  KeyRing,
  osdpKeyId,
  sealMessage,
  sealOsdpKey,
  signingKey,
  topics,
  UP_KINDS,
  uuidv7,
} from '@gatehouse/protocol';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdgeStore } from '../src/store/index.js';
import { type CommandTarget, EdgeLink } from '../src/sync/link.js';
import { syncStoreOf } from '../src/sync/store-adapter.js';
import { startTestBroker, type TestBroker } from './broker.js';
import { makeFixture } from './fixtures.js';
import { tempDir } from './tmp.js';

const ORG = 'org-1';
const DEV = 'dev-1';
const SCBK = Buffer.from('8a1f00c3d2e4b5a69788796a5b4c3d2e', 'hex');

async function until<T>(fn: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('osdp_keyset on the edge link (SPEC CMD-5)', () => {
  let broker: TestBroker;
  let cloud: MqttClient;
  let store: EdgeStore;
  let link: EdgeLink | null = null;
  let dir: ReturnType<typeof tempDir>;
  const fx = makeFixture();
  const key = signingKey(fx.key.privateKey);
  const devKeys = generateDeviceKeyPair();
  const otherDevKeys = generateDeviceKeyPair();
  const lines: string[] = [];
  const rejects: string[] = [];
  const statuses: unknown[] = [];
  const opened: string[] = [];
  /** The readers this controller has, and what setting a key on them does. */
  let setKey: (reader: string, k: Buffer) => Promise<void>;
  let seq = 1;

  const gate: CommandTarget = {
    open: () => opened.push('open'),
    lockdown: () => {},
    emergency: () => {},
    release: () => {},
    lockdownActive: false,
    emergencyActive: false,
    synced: () => {},
    hardware: () => [{ name: 'door', type: 'osdp', healthy: true }],
  };
  const keyset = (over: Partial<Record<'reader' | 'epk' | 'secret', string>> = {}, sealedTo = devKeys.publicKey, reader = 'door') =>
    ({
      v: 1,
      kind: 'cmd',
      orgId: ORG,
      deviceId: DEV,
      seq: seq++,
      issuedAt: Date.now(),
      id: uuidv7(),
      type: 'osdp_keyset',
      expiresAt: Date.now() + 60_000,
      reader,
      ...sealOsdpKey(sealedTo, DEV, reader, SCBK),
      ...over,
    }) as DownMessage;
  /** A plain command after a refused key: the link must still execute it. */
  const openCommand = (): DownMessage => ({
    v: 1,
    kind: 'cmd',
    orgId: ORG,
    deviceId: DEV,
    seq: seq++,
    issuedAt: Date.now(),
    id: uuidv7(),
    type: 'open',
    expiresAt: Date.now() + 30_000,
  });
  const send = (m: DownMessage) => cloud.publishAsync(topics.cmd(DEV), sealMessage(m, key), { qos: 1 });
  const startLink = async (sealKey: string | undefined) => {
    link = new EdgeLink({
      url: 'mqtt://in-memory',
      connect: broker.connect,
      username: DEV,
      password: 'dev-pw',
      deviceId: DEV,
      orgId: ORG,
      keys: new KeyRing([fx.key.publicKey]),
      sealKey,
      version: 'test',
      store: syncStoreOf(store),
      gate,
      log: pino(
        { level: 'debug' },
        new Writable({
          write(chunk: Buffer, _e, done) {
            lines.push(...chunk.toString().split('\n').filter(Boolean));
            done();
          },
        }),
      ),
      onReject: (r) => rejects.push(r),
      osdpKeyset: (reader, k) => setKey(reader, k),
    });
    link.start();
    await until(() => link?.state === 'online', 'the link online');
    await until(() => statuses.length > 0, 'the first status');
  };

  beforeEach(async () => {
    dir = tempDir();
    for (const a of [lines, rejects, statuses, opened]) a.length = 0;
    broker = await startTestBroker({ cloud: 'cloud-pw', [DEV]: 'dev-pw' });
    cloud = await broker.connectAsync({ username: 'cloud', password: 'cloud-pw', clientId: 'cloud' });
    await cloud.subscribeAsync(
      UP_KINDS.map((kind) => topics.allUp(kind)),
      { qos: 1 },
    );
    cloud.on('message', (topic, payload) => {
      if (topic.endsWith('/up/status')) statuses.push(JSON.parse(payload.toString()));
    });
    store = new EdgeStore(join(dir.dir, 'edge.db'), { trustedKeys: [fx.key.publicKey] });
  });

  afterEach(async () => {
    await link?.stop();
    link = null;
    await cloud.endAsync();
    await broker.close();
    store.close();
    dir.cleanup();
  });

  const noKeyInLogs = () => {
    const all = lines.join('\n');
    for (const text of [SCBK.toString('hex'), SCBK.toString('hex').toUpperCase(), SCBK.toString('base64')]) expect(all).not.toContain(text);
  };

  it('opens the key with the device key and sets it on the named reader; logs the key id only; publishes the status again', async () => {
    const set: { reader: string; key: Buffer }[] = [];
    setKey = async (reader, k) => {
      set.push({ reader, key: k });
    };
    await startLink(devKeys.privateKey);
    const before = statuses.length;
    await send(keyset());
    await until(() => set.length === 1, 'the key handed to the reader');
    expect(set[0]?.reader).toBe('door');
    expect(set[0]?.key.equals(SCBK)).toBe(true);
    const done = await until(() => lines.find((l) => l.includes('osdp reader key set')), 'the success logged');
    expect(JSON.parse(done)).toMatchObject({ reader: 'door', keyId: osdpKeyId(SCBK) });
    // Once after the command, once more when the reader has answered.
    await until(() => statuses.length >= before + 2, 'the status published after the key was set');
    expect(rejects).toEqual([]);
    noKeyInLogs();
  });

  it('drops a key sealed to another controller, or moved to another reader, and carries on with the next command', async () => {
    const set: string[] = [];
    setKey = async (reader) => {
      set.push(reader);
    };
    await startLink(devKeys.privateKey);
    await send(keyset({}, otherDevKeys.publicKey));
    const sealedForDoor = keyset() as DownMessage & { epk: string; secret: string };
    await send(keyset({ epk: sealedForDoor.epk, secret: sealedForDoor.secret }, devKeys.publicKey, 'exit'));
    await until(() => rejects.length === 2, 'both refused');
    expect(rejects).toEqual(['unsealable_key', 'unsealable_key']);
    await send(openCommand());
    await until(() => opened.length === 1, 'the next command executed');
    expect(set).toEqual([]);
    noKeyInLogs();
  });

  it('a controller enrolled without a seal key opens no key', async () => {
    setKey = async () => {
      throw new Error('must not be called');
    };
    await startLink(undefined);
    await send(keyset());
    await until(() => rejects.length === 1, 'refused');
    expect(rejects).toEqual(['unsealable_key']);
  });

  it('a key for a reader this controller does not have is logged as not set, and the link carries on', async () => {
    setKey = (reader) => Promise.reject(new Error(`no OSDP reader named ${reader}`));
    await startLink(devKeys.privateKey);
    await send(keyset({}, devKeys.publicKey, 'ghost'));
    const line = await until(() => lines.find((l) => l.includes('osdp reader key not set')), 'the failure logged');
    expect(JSON.parse(line)).toMatchObject({ reader: 'ghost', keyId: osdpKeyId(SCBK), err: 'no OSDP reader named ghost' });
    await send(openCommand());
    await until(() => opened.length === 1, 'the next command executed');
    noKeyInLogs();
  });
});
