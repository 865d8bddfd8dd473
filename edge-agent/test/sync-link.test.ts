import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  type CheckinEvent,
  type DownMessage,
  type GateRecord,
  generateDeviceKeyPair,
  generateKeyPair,
  KeyRing,
  sealMessage,
  sealPassRecord,
  secretSealer,
  signEnvelope,
  signingKey,
  topics,
  UP_KINDS,
  uuidv7,
  validators,
} from '@gatehouse/protocol';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Gate } from '../src/gate.js';
import { SimulatedRelay } from '../src/hardware/simulated.js';
import { applySeed, parseSeed } from '../src/seed.js';
import { EdgeStore } from '../src/store/index.js';
import { type CommandTarget, EdgeLink } from '../src/sync/link.js';
import { syncStoreOf } from '../src/sync/store-adapter.js';
import { commandTargetOf } from '../src/sync/wire.js';
import { startTestBroker, type TestBroker } from './broker.js';
import { FakeRelay } from './fakes.js';
import { makeFixture } from './fixtures.js';
import { fillDisk, freeDisk } from './full-disk.js';
import { tempDir } from './tmp.js';

const log = pino({ level: 'silent' });
const ORG = 'org-1';
const DEV = 'dev-1';

async function until<T>(fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('edge MQTT link (SPEC MSG-*, SIGN-*, CMD-*)', () => {
  let broker: TestBroker;
  let cloud: MqttClient;
  let store: EdgeStore;
  let link: EdgeLink;
  let dir: { dir: string; cleanup(): void };
  const fx = makeFixture();
  const key = signingKey(fx.key.privateKey);
  /** This controller's X25519 pair (SEAL-1) and another controller's. */
  const devKeys = generateDeviceKeyPair();
  const otherDevKeys = generateDeviceKeyPair();
  const received: { topic: string; body: unknown }[] = [];
  const rejects: string[] = [];
  const actions: string[] = [];
  let lockdown = false;
  let emergency = false;
  let synced = 0;
  const gate: CommandTarget = {
    open: (reason) => actions.push(`open:${reason ?? ''}`),
    lockdown: (on) => {
      lockdown = on;
      if (on) emergency = false;
      actions.push(on ? 'lockdown' : 'unlock');
    },
    emergency: (on) => {
      emergency = on;
      if (on) lockdown = false;
      actions.push(on ? 'emergency' : 'no-emergency');
    },
    release: () => {
      lockdown = false;
      emergency = false;
      actions.push('release');
    },
    get lockdownActive() {
      return lockdown;
    },
    get emergencyActive() {
      return emergency;
    },
    synced: () => {
      synced++;
    },
    hardware: () => [{ name: 'sim', type: 'simulated', healthy: true }],
  };
  const header = (seq: number) => ({ v: 1 as const, orgId: ORG, deviceId: DEV, seq, issuedAt: Date.now() });
  const send = (topic: string, m: DownMessage, k = key) => cloud.publishAsync(topic, sealMessage(m, k), { qos: 1 });
  const event = (): CheckinEvent => ({
    id: uuidv7(),
    type: 'attempt',
    gateId: fx.gate.id,
    passId: null,
    credentialKind: 'none',
    direction: 'in',
    allow: false,
    reason: 'malformed',
    occurredAt: Date.now(),
  });

  beforeEach(async () => {
    dir = tempDir();
    received.length = 0;
    rejects.length = 0;
    actions.length = 0;
    lockdown = false;
    emergency = false;
    synced = 0;
    broker = await startTestBroker({ cloud: 'cloud-pw', [DEV]: 'dev-pw' });
    cloud = await broker.connectAsync({ username: 'cloud', password: 'cloud-pw', clientId: 'cloud' });
    await cloud.subscribeAsync(
      UP_KINDS.map((kind) => topics.allUp(kind)),
      { qos: 1 },
    );
    cloud.on('message', (topic, payload) => received.push({ topic, body: JSON.parse(payload.toString()) }));
    store = new EdgeStore(join(dir.dir, 'edge.db'), { trustedKeys: [fx.key.publicKey] });
    link = new EdgeLink({
      url: 'mqtt://in-memory',
      connect: broker.connect,
      username: DEV,
      password: 'dev-pw',
      deviceId: DEV,
      orgId: ORG,
      keys: new KeyRing([fx.key.publicKey]),
      sealKey: devKeys.privateKey,
      version: 'test',
      store: syncStoreOf(store),
      gate,
      log,
      ackTimeoutMs: 800,
      onReject: (r) => rejects.push(r),
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

  const on = (kind: string) => received.filter((r) => r.topic.endsWith(`/up/${kind}`)).map((r) => r.body);

  it('MSG-3, MSG-4: on connect asks for sync from its seq and publishes a retained online status', async () => {
    const req = await until(() => on('sync-request')[0]);
    expect(validators.syncRequest.check(req)).toBe(true);
    expect(req).toMatchObject({ deviceId: DEV, fromSeq: 0 });
    const status = await until(() => on('status')[0]);
    expect(status).toMatchObject({ state: 'online', deviceId: DEV, cacheSeq: 0, outboxDepth: 0 });
  });

  it('MSG-5, MSG-6, SYNC-3, SYNC-4: applies a chunked snapshot only when every chunk arrived, then deltas in order', async () => {
    const s = fx.seed();
    const holiday = { id: 'hol-1', siteId: s.site.id, date: '2026-12-25', kind: 'closed' as const, name: 'Christmas', windows: [] };
    const at = Date.now() - 60_000;
    const presence = { passId: fx.passes.multi.id, useCount: 2, lastDirection: 'in' as const, lastAt: at };
    const snapshotId = uuidv7();
    const chunk = (i: number) => {
      const sealer = secretSealer(devKeys.publicKey);
      return {
        ...header(10),
        kind: 'snapshot',
        siteId: s.site.id,
        snapshotId,
        chunk: i,
        chunks: 2,
        ...(i === 0
          ? { site: s.site, rules: s.rules, zones: s.zones, gates: s.gates, holidays: [holiday], presence: [] }
          : { rules: [], zones: [], gates: [], holidays: [], presence: [presence] }),
        epk: sealer.epk,
        passes: (i === 0 ? s.passes.slice(0, 2) : s.passes.slice(2)).map((p) => sealPassRecord(p, sealer)),
      } as DownMessage;
    };
    await send(topics.sync(DEV), chunk(1));
    await new Promise((r) => setTimeout(r, 150));
    expect(store.seq).toBe(0); // half a snapshot is never applied
    await send(topics.sync(DEV), chunk(0));
    await until(() => store.seq === 10);
    expect(store.findByPassId(fx.passes.dynamic.id).pass?.id).toBe(fx.passes.dynamic.id);
    expect(synced).toBe(1);
    expect(store.context('in').holidays?.get('2026-12-25')).toMatchObject({ kind: 'closed' });
    expect(store.findByPassId(fx.passes.multi.id).state).toEqual({ useCount: 2, lastDirection: 'in', lastTotpStep: null, lastAt: at });

    const revoked = { ...fx.passes.dynamic, status: 'revoked' as const };
    const sealer = secretSealer(devKeys.publicKey);
    await send(topics.sync(DEV), {
      ...header(11),
      kind: 'delta',
      siteId: s.site.id,
      fromSeq: 10,
      epk: sealer.epk,
      changes: [
        { seq: 11, entity: 'pass', op: 'upsert', id: revoked.id, data: sealPassRecord(revoked, sealer) },
        { seq: 11, entity: 'holiday', op: 'delete', id: holiday.id },
        // A guard's forgiveness, later than the entry: the pass is no longer inside.
        { seq: 11, entity: 'presence', op: 'upsert', id: presence.passId, data: { ...presence, lastDirection: null, lastAt: at + 1000 } },
      ],
    });
    await until(() => store.seq === 11);
    expect(store.findByPassId(revoked.id).pass?.status).toBe('revoked');
    expect(store.context('in').holidays).toBeUndefined();
    expect(store.findByPassId(fx.passes.multi.id).state).toMatchObject({ useCount: 2, lastDirection: null, lastAt: at + 1000 });

    // A gap (12 missing) is not applied; the edge asks again from what it has.
    const before = on('sync-request').length;
    await send(topics.sync(DEV), { ...header(13), kind: 'delta', siteId: s.site.id, fromSeq: 12, epk: null, changes: [] });
    await until(() => rejects.includes('out_of_order'));
    await until(() => on('sync-request').length > before);
    expect(on('sync-request').at(-1)).toMatchObject({ fromSeq: 11, full: false });
    expect(store.seq).toBe(11);
  });

  it('SEAL-4, SEAL-6: caches the TOTP secrets sealed to it opened; ones sealed to another controller leave their pass without a secret, counted', async () => {
    const s = fx.seed();
    const mine = secretSealer(devKeys.publicKey);
    const theirs = secretSealer(otherDevKeys.publicKey);
    const snapshot = (seq: number, sealer: typeof mine) =>
      ({
        ...header(seq),
        kind: 'snapshot',
        siteId: s.site.id,
        snapshotId: uuidv7(),
        chunk: 0,
        chunks: 1,
        site: s.site,
        rules: s.rules,
        zones: s.zones,
        gates: s.gates,
        holidays: [],
        presence: [],
        epk: sealer.epk,
        passes: s.passes.map((p) => sealPassRecord(p, sealer)),
      }) as DownMessage;
    await send(topics.sync(DEV), snapshot(5, mine));
    await until(() => store.seq === 5);
    expect(store.findByPassId(fx.passes.dynamic.id).pass?.totpSecret).toBe(fx.passes.dynamic.totpSecret);
    expect(rejects).toEqual([]);

    await send(topics.sync(DEV), snapshot(6, theirs));
    await until(() => store.seq === 6);
    // The pass is there (its card, its static QR, its revocation still count), its secret is not.
    expect(store.findByPassId(fx.passes.dynamic.id).pass).toMatchObject({ id: fx.passes.dynamic.id, totpSecret: null });
    const sealedCount = s.passes.filter((p) => p.totpSecret).length;
    expect(rejects.filter((r) => r === 'unsealable_secret')).toHaveLength(sealedCount);
  });

  it('MSG-1, SIGN-3, SIGN-4: rejects and counts unsigned, badly signed, replayed, other-org and other-device messages', async () => {
    const delta = (seq: number, over: Partial<Record<string, unknown>> = {}) =>
      ({ ...header(seq), kind: 'delta', siteId: 'site-1', fromSeq: 0, epk: null, changes: [], ...over }) as DownMessage;
    await cloud.publishAsync(topics.sync(DEV), JSON.stringify(delta(1)), { qos: 1 }); // not an envelope
    await send(topics.sync(DEV), delta(1), signingKey(generateKeyPair().privateKey)); // untrusted key
    const env = signEnvelope(Buffer.from(JSON.stringify(delta(1))), key);
    await cloud.publishAsync(
      topics.sync(DEV),
      JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify(delta(1, { fromSeq: 5 }))).toString('base64') }),
      { qos: 1 },
    );
    await send(topics.sync(DEV), delta(1, { orgId: 'org-2' }));
    await send(topics.sync(DEV), delta(1, { deviceId: 'dev-2' }));
    await send(topics.sync(DEV), delta(0)); // not above the applied seq 0: stale
    await until(() => rejects.length >= 6);
    expect(rejects.sort()).toEqual(['bad_signature', 'malformed', 'stale', 'unknown_key', 'wrong_device', 'wrong_org']);
    expect(store.seq).toBe(0);
  });

  it('MSG-2, MSG-8, SIGN-5: publishes the outbox in batches and forgets events only when a signed ack names them', async () => {
    for (let i = 0; i < 1200; i++) store.record(event());
    link.flush();
    const batches = await until(() => (on('events').length >= 3 ? on('events') : false));
    const ids = batches.flatMap((b) => (b as { events: CheckinEvent[] }).events.map((e) => e.id));
    expect(new Set(ids).size).toBe(1200);
    for (const b of batches) expect(validators.eventsBatch.check(b)).toBe(true);
    // An ack for half of the first batch, forged by a key the edge does not trust, changes nothing.
    const first = batches[0] as { batchId: string; events: CheckinEvent[] };
    await send(
      topics.ack(DEV),
      { ...header(1), kind: 'ack', batchId: first.batchId, ids: first.events.map((e) => e.id) },
      signingKey(generateKeyPair().privateKey),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(store.outbox.depth).toBe(1200);
    for (const b of batches as { batchId: string; events: CheckinEvent[] }[]) {
      await send(topics.ack(DEV), { ...header(1), kind: 'ack', batchId: b.batchId, ids: b.events.map((e) => e.id) });
    }
    await until(() => store.outbox.depth === 0);
  });

  it('storage failure, fail-safe: what was admitted while the disk was full reaches the cloud once and in order after it has room', async () => {
    applySeed(store, parseSeed(fx.seed()));
    let now = Date.now();
    const gate = new Gate({ store, relay: new FakeRelay([], 3000), now: () => now, failMode: 'safe' });
    fillDisk(store);
    const admitted = [1, 2, 3].map(() => {
      now += 2000;
      return gate.handle({ reader: 'r1', direction: 'in', data: fx.staticQr(undefined, undefined, randomUUID()), receivedAt: now });
    });
    expect(admitted.map((a) => a.decision?.allow)).toEqual([true, true, true]);
    link.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(on('events')).toHaveLength(0);
    freeDisk(store);
    gate.probeStorage(() => store.probeWrite());
    link.flush();
    const sent = await until(() => {
      const events = on('events').flatMap((b) => (b as { events: CheckinEvent[] }).events);
      return events.length >= 5 ? events : false;
    });
    for (const b of on('events')) expect(validators.eventsBatch.check(b)).toBe(true);
    expect(sent.map((e) => e.alarm?.state ?? e.id)).toEqual(['raised', ...admitted.map((a) => a.event?.id), 'cleared']);
    expect(sent[0]?.alarm?.kind).toBe('storage');
    gate.stop();
  });

  it('MSG-8: sends unacked events again when no ack comes (at-least-once)', async () => {
    store.record(event());
    link.flush();
    await until(() => on('events').length >= 2, 4000);
    const [a, b] = on('events') as { events: CheckinEvent[] }[];
    expect(a?.events[0]?.id).toBe(b?.events[0]?.id);
  });

  it('MSG-7, SIGN-4, CMD-2, CMD-3: executes a command once, and drops one that arrives after its expiry', async () => {
    const cmd = (seq: number, type: 'open' | 'lockdown' | 'release', expiresAt = Date.now() + 30_000) =>
      ({ ...header(seq), kind: 'cmd', id: uuidv7(), type, expiresAt, reason: 'visitor at the door' }) as DownMessage;
    await send(topics.cmd(DEV), cmd(1, 'open'));
    await until(() => actions.length === 1);
    await send(topics.cmd(DEV), cmd(1, 'open')); // same seq again: a replay
    await send(topics.cmd(DEV), cmd(2, 'open', Date.now() - 1)); // too late
    await send(topics.cmd(DEV), cmd(3, 'lockdown'));
    await until(() => actions.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(actions).toEqual(['open:visitor at the door', 'lockdown']);
    expect(rejects.sort()).toEqual(['expired_command', 'stale']);
    const status = await until(() => on('status').find((s) => (s as { lockdown: boolean }).lockdown));
    expect(status).toMatchObject({ lockdown: true });
  });

  it('CMD-4: an emergency command holds the gate open (status says so) until a release ends it', async () => {
    const cmd = (seq: number, type: 'lockdown' | 'emergency' | 'release') =>
      ({ ...header(seq), kind: 'cmd', id: uuidv7(), type, expiresAt: Date.now() + 30_000 }) as DownMessage;
    await send(topics.cmd(DEV), cmd(1, 'lockdown'));
    await send(topics.cmd(DEV), cmd(2, 'emergency'));
    await until(() => actions.length === 2);
    const held = await until(() => on('status').find((s) => (s as { emergency?: boolean }).emergency));
    expect(validators.status.check(held)).toBe(true);
    expect(held).toMatchObject({ lockdown: false, emergency: true });
    await send(topics.cmd(DEV), cmd(3, 'release'));
    await until(() => actions.length === 3);
    expect(actions).toEqual(['lockdown', 'emergency', 'release']);
    expect(emergency).toBe(false);
    expect(link.status()).toMatchObject({ lockdown: false, emergency: false });
  });

  it('CMD-1: a resync command makes the edge ask for a full snapshot', async () => {
    await until(() => on('sync-request')[0]);
    const before = on('sync-request').length;
    await send(topics.cmd(DEV), { ...header(1), kind: 'cmd', id: uuidv7(), type: 'resync', expiresAt: Date.now() + 30_000 });
    const request = await until(() => on('sync-request')[before]);
    expect(validators.syncRequest.check(request)).toBe(true);
    expect(request).toMatchObject({ deviceId: DEV, full: true });
    expect(actions).toEqual([]);
  });

  it('MSG-3: leaves a retained offline status behind when the connection dies (last will)', async () => {
    await until(() => on('status')[0]);
    // Cut the edge's socket without a DISCONNECT, as a power cut would.
    for (const c of Object.values((broker.aedes as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients)) {
      if (c && (c as unknown as { id: string }).id === DEV) c.conn.destroy();
    }
    await until(() => on('status').some((s) => (s as { state: string }).state === 'offline'));
  });
});

describe('CMD-4 through the sync: the gate record’s emergency and lockdown reach the relay of a real gate', () => {
  const fx = makeFixture();
  const key = signingKey(fx.key.privateKey);
  let broker: TestBroker;
  let cloud: MqttClient;
  let store: EdgeStore;
  let link: EdgeLink;
  let gate: Gate;
  let relay: SimulatedRelay;
  let dir: { dir: string; cleanup(): void };
  const header = (seq: number) => ({ v: 1 as const, orgId: ORG, deviceId: DEV, seq, issuedAt: Date.now() });
  const send = (topic: string, m: DownMessage) => cloud.publishAsync(topic, sealMessage(m, key), { qos: 1 });
  const gateChange = (seq: number, over: Partial<GateRecord>) =>
    ({
      ...header(seq),
      kind: 'delta',
      siteId: fx.site.id,
      fromSeq: seq - 1,
      epk: null,
      changes: [{ seq, entity: 'gate', op: 'upsert', id: fx.gate.id, data: { ...fx.gate, ...over } }],
    }) as DownMessage;

  beforeEach(async () => {
    dir = tempDir();
    broker = await startTestBroker({ cloud: 'cloud-pw', [DEV]: 'dev-pw' });
    cloud = await broker.connectAsync({ username: 'cloud', password: 'cloud-pw', clientId: 'cloud' });
    store = new EdgeStore(join(dir.dir, 'edge.db'), { trustedKeys: [fx.key.publicKey] });
    store.setSetting('gateId', fx.gate.id);
    relay = new SimulatedRelay(50);
    gate = new Gate({ store, relay });
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
      gate: commandTargetOf(gate, () => []),
      log,
    });
    link.start();
    await until(() => link.state === 'online');
  });

  afterEach(async () => {
    await link.stop();
    gate.stop();
    relay.close();
    await cloud.endAsync();
    await broker.close();
    store.close();
    dir.cleanup();
  });

  it('an edge that missed the command takes up emergency from its snapshot, and release and lockdown from deltas', async () => {
    const s = fx.seed();
    await send(topics.sync(DEV), {
      ...header(1),
      kind: 'snapshot',
      siteId: s.site.id,
      snapshotId: uuidv7(),
      chunk: 0,
      chunks: 1,
      site: s.site,
      rules: s.rules,
      zones: s.zones,
      gates: [{ ...fx.gate, emergency: true }],
      holidays: [],
      presence: [],
      epk: null,
      passes: [],
    } as DownMessage);
    await until(() => store.seq === 1);
    expect(relay.held).toBe(true);
    expect(link.status()).toMatchObject({ emergency: true, lockdown: false });

    // A delta that repeats the record (another field changed) does not undo a release the command made.
    gate.release();
    await send(topics.sync(DEV), gateChange(2, { emergency: true, name: 'Main door' }));
    await until(() => store.seq === 2);
    expect(relay.held).toBe(false);

    await send(topics.sync(DEV), gateChange(3, { emergency: false }));
    await send(topics.sync(DEV), gateChange(4, { lockdown: true }));
    await until(() => store.seq === 4);
    expect(gate.lockdown).toBe(true);
    expect(relay.active).toBe(false);
    await send(topics.sync(DEV), gateChange(5, { lockdown: false, emergency: true }));
    await until(() => store.seq === 5);
    expect(relay.held).toBe(true);
    expect(gate.lockdown).toBe(false);
    await send(topics.sync(DEV), gateChange(6, { emergency: false }));
    await until(() => store.seq === 6);
    expect(relay.held).toBe(false);
    expect(link.status()).toMatchObject({ emergency: false, lockdown: false });
  });
});
