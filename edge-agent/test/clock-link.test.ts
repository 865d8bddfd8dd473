import { join } from 'node:path';
import { type DownMessage, generateKeyPair, KeyRing, sealMessage, signingKey, topics, uuidv7 } from '@gatehouse/protocol';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdgeStore } from '../src/store/index.js';
import { CloudClock } from '../src/sync/clock.js';
import { type CommandTarget, EdgeLink } from '../src/sync/link.js';
import { syncStoreOf } from '../src/sync/store-adapter.js';
import { startTestBroker, type TestBroker } from './broker.js';
import { makeFixture } from './fixtures.js';
import { tempDir } from './tmp.js';

const ORG = 'org-1';
const DEV = 'dev-1';
/** This edge's clock runs 5 minutes behind the cloud's. */
const BEHIND = 300_000;

async function until<T>(fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SYNC-5: the link feeds the cloud clock from verified messages only', () => {
  let broker: TestBroker;
  let cloud: MqttClient;
  let store: EdgeStore;
  let link: EdgeLink;
  let dir: { dir: string; cleanup(): void };
  const fx = makeFixture();
  const key = signingKey(fx.key.privateKey);
  const rejects: string[] = [];
  const actions: string[] = [];
  const clock = new CloudClock(() => Date.now() - BEHIND);
  const gate: CommandTarget = {
    open: () => actions.push('open'),
    lockdown: () => undefined,
    emergency: () => undefined,
    release: () => undefined,
    lockdownActive: false,
    emergencyActive: false,
    synced: () => undefined,
    hardware: () => [],
  };
  const cmd = (seq: number, expiresAt: number, issuedAt = Date.now()) =>
    ({ v: 1, orgId: ORG, deviceId: DEV, seq, issuedAt, kind: 'cmd', id: uuidv7(), type: 'open', expiresAt }) as DownMessage;

  beforeEach(async () => {
    dir = tempDir();
    broker = await startTestBroker({ cloud: 'cloud-pw', [DEV]: 'dev-pw' });
    cloud = await broker.connectAsync({ username: 'cloud', password: 'cloud-pw', clientId: 'cloud' });
    store = new EdgeStore(join(dir.dir, 'edge.db'), { trustedKeys: [fx.key.publicKey] });
    link = new EdgeLink({
      url: 'mqtt://in-memory',
      connect: broker.connect,
      username: DEV,
      password: 'dev-pw',
      deviceId: DEV,
      orgId: ORG,
      keys: new KeyRing([fx.key.publicKey]),
      version: 'test',
      store: syncStoreOf(store),
      gate,
      log: pino({ level: 'silent' }),
      onReject: (r) => rejects.push(r),
      now: () => Date.now() - BEHIND,
      clock,
    });
    link.start();
    await until(() => link.state === 'online');
  });

  afterEach(async () => {
    await link?.stop();
    await cloud.endAsync();
    await broker.close();
    store.close();
    dir.cleanup();
  });

  it('SYNC-5, CMD-2: forged or unsigned timestamps never move it; a signed command sets it, and expiry is judged by the cloud clock', async () => {
    // Unsigned and signed by an untrusted key, both claiming the cloud's clock is a day ahead.
    await cloud.publishAsync(topics.cmd(DEV), JSON.stringify(cmd(1, Date.now() + 30_000, Date.now() + 86_400_000)), { qos: 1 });
    await cloud.publishAsync(
      topics.cmd(DEV),
      sealMessage(cmd(1, Date.now() + 30_000, Date.now() + 86_400_000), signingKey(generateKeyPair().privateKey)),
      {
        qos: 1,
      },
    );
    await until(() => rejects.length >= 2);
    expect(clock.offsetMs).toBeNull();

    // Signed, fresh: sets the estimate to about +5 min and runs.
    await cloud.publishAsync(topics.cmd(DEV), sealMessage(cmd(2, Date.now() + 30_000), key), { qos: 1 });
    await until(() => actions.length === 1);
    expect(Math.abs((clock.offsetMs ?? 0) - BEHIND)).toBeLessThan(2_000);
    // Expired 10 s ago by the cloud's clock, still 4 min 50 s ahead by this edge's own: dropped.
    await cloud.publishAsync(topics.cmd(DEV), sealMessage(cmd(3, Date.now() - 10_000), key), { qos: 1 });
    await until(() => rejects.includes('expired_command'));
    expect(actions).toEqual(['open']);
    expect(link.status().clockSkewMs).toBeLessThan(-BEHIND + 2_000);
  });
});
