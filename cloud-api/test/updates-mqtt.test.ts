/**
 * The rollout over the real command path (issue 16, CMD-6): an enrolled controller on the broker receives
 * the `update` command signed with its organisation's key, naming the release URL, version, serial and health
 * window; the status it publishes moves its gate on in the job; the release it is told to fetch downloads
 * with its own broker credentials.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, generateKeyPair, KeyRing, openMessage, type Status, signingKey, topics } from '@gatehouse/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceJob } from '../src/modules/updates/service.js';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp, until } from './helpers.js';
import { makeRelease, readyRelease } from './updates-fixture.js';

const releaseKey = signingKey(generateKeyPair().privateKey);

interface Enrolled {
  deviceId: string;
  orgPublicKey: string;
  mqtt: { url: string; username: string; password: string };
}

let t: TestApp;
let dir: string;
let admin: Login;
let topo: Awaited<ReturnType<typeof seedTopology>>;
let enrolled: Enrolled;
let device: MqttClient;
const commands: Command[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-update-mqtt-'));
  t = await startApp(
    {
      updates: { releaseKeys: [releaseKey.publicKey], releasesDir: dir, tickS: 86_400 },
      mqttPort: 0,
      ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}),
    },
    { sync: true },
  );
  const platform = await createOrgWithUser(t.app, 'Platform operator', ['PlatformAdmin']);
  admin = await createOrgWithUser(t.app, `update-mqtt-${Date.now()}`, ['OrgAdmin']);
  topo = await seedTopology(t.app, admin);
  const e = await t.app.inject({ method: 'POST', url: `/api/admin/gates/${topo.gate.id}/enrollment`, headers: admin.auth });
  const r = await t.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: (e.json() as { code: string }).code } });
  enrolled = r.json() as Enrolled;
  const url = process.env.MQTT_URL ? `mqtt://${new URL(process.env.MQTT_URL).host}` : enrolled.mqtt.url;
  device = await mqtt.connectAsync(url, {
    username: enrolled.mqtt.username,
    password: enrolled.mqtt.password,
    clientId: enrolled.deviceId,
    reconnectPeriod: 0,
  });
  const ring = new KeyRing([enrolled.orgPublicKey]);
  device.on('message', (_topic, payload) => {
    // Only what the organisation's key signed, for this device, counts (SIGN-2..SIGN-4).
    const opened = openMessage(payload, ring, { orgId: admin.orgId, deviceId: enrolled.deviceId });
    if (opened.ok && opened.message.kind === 'cmd') commands.push(opened.message);
  });
  await device.subscribeAsync(topics.cmd(enrolled.deviceId), { qos: 1 });
  await readyRelease(t.app, platform, makeRelease(releaseKey, { version: '0.7.0', serial: 7 }));
}, 120_000);

afterAll(async () => {
  await device?.endAsync();
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an update over the broker', () => {
  it('the controller gets a signed update command, fetches the release with its credentials, and its status moves the job on', async () => {
    const releases = await t.app.inject({ method: 'GET', url: '/api/admin/releases', headers: admin.auth });
    const releaseId = (releases.json() as { items: { id: string }[] }).items[0]!.id;
    const made = await t.app.inject({
      method: 'POST',
      url: '/api/admin/updates/jobs',
      headers: admin.auth,
      payload: { releaseId, scope: [topo.site.id], strategy: { canaryGateIds: [topo.gate.id], healthWindowS: 45 } },
    });
    expect(made.statusCode, made.body).toBe(201);
    const jobId = (made.json() as { id: string }).id;
    await advanceJob(t.app.ctx, admin.orgId, jobId);
    const cmd = await until(() => commands.find((c) => c.type === 'update'), 'the update command at the controller');
    expect(cmd.update).toEqual({
      jobId,
      url: `${t.app.ctx.config.publicUrl.replace(/\/+$/, '')}/api/edge/releases/${releaseId}/release.json`,
      version: '0.7.0',
      serial: 7,
      allowDowngrade: false,
      healthWindowS: 45,
    });
    expect(cmd.expiresAt).toBeGreaterThan(Date.now() + 3000_000);

    const path = new URL(cmd.update!.url).pathname;
    const auth = { authorization: `Basic ${Buffer.from(`${enrolled.mqtt.username}:${enrolled.mqtt.password}`).toString('base64')}` };
    const manifest = await t.app.inject({ method: 'GET', url: path, headers: auth });
    expect(manifest.statusCode).toBe(200);

    const status = (update: Status['update']): Status => ({
      v: 1,
      deviceId: enrolled.deviceId,
      state: 'online',
      version: '0.6.0',
      cacheSeq: 0,
      outboxDepth: 0,
      lockdown: false,
      hardware: [],
      ...(update ? { update } : {}),
      ts: Date.now(),
    });
    await device.publishAsync(
      topics.status(enrolled.deviceId),
      JSON.stringify(status({ jobId, state: 'installing', version: '0.7.0', log: ['verified 2 files'], ts: Date.now() })),
      { qos: 1 },
    );
    await until(async () => {
      const j = await t.app.inject({ method: 'GET', url: `/api/admin/updates/jobs/${jobId}`, headers: admin.auth });
      return (j.json() as { gateStates: { state: string }[] }).gateStates[0]?.state === 'installing';
    }, 'the gate installing in the job');
    await device.publishAsync(
      topics.status(enrolled.deviceId),
      JSON.stringify(status({ jobId, state: 'done', version: '0.7.0', log: ['healthy for 45 s'], ts: Date.now() + 1 })),
      { qos: 1 },
    );
    const done = await until(async () => {
      const j = await t.app.inject({ method: 'GET', url: `/api/admin/updates/jobs/${jobId}`, headers: admin.auth });
      const body = j.json() as { state: string };
      return body.state === 'done' ? body : null;
    }, 'the job done');
    expect(done).toMatchObject({ state: 'done', counts: { done: 1 } });
  });
});
