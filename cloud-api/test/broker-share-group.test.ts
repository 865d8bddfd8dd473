/**
 * Two installations on one external broker (MQTT_SHARE_GROUP): each splits its controllers' events and sync
 * requests among its own instances only. With one group name for all, the broker dealt every other request
 * of this installation's controller to the other installation, which knows nothing of the device and
 * dropped it — as parallel test files on the machine's Mosquitto did to each other.
 *
 * External broker only (MQTT_URL): the embedded one serves one installation.
 */
import { KeyRing, openMessage, topics } from '@gatehouse/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp, until } from './helpers.js';

const mqttUrl = process.env.MQTT_URL;

describe.skipIf(!mqttUrl)('two installations on one external broker', () => {
  let mine: TestApp;
  let other: TestApp;
  let admin: Login;

  beforeAll(async () => {
    // Each startApp has its own database and (testConfig) its own share group.
    mine = await startApp({ mqttUrl: mqttUrl!, mqttPort: 0 }, { sync: true });
    other = await startApp({ mqttUrl: mqttUrl!, mqttPort: 0 }, { sync: true });
    await until(() => mine.app.ctx.sync!.link.connected && other.app.ctx.sync!.link.connected, 'both linked');
    admin = await createOrgWithUser(mine.app, 'Share Org', ['OrgAdmin']);
  }, 120_000);
  afterAll(async () => {
    await mine?.close();
    await other?.close();
  });

  it('every sync request of a controller reaches its own installation', async () => {
    expect(mine.app.ctx.config.mqttShareGroup).not.toBe(other.app.ctx.config.mqttShareGroup);
    const topo = await seedTopology(mine.app, admin);
    const e = await mine.app.inject({ method: 'POST', url: `/api/admin/gates/${topo.gate.id}/enrollment`, headers: admin.auth });
    const r = await mine.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: (e.json() as { code: string }).code } });
    const d = r.json() as { deviceId: string; orgPublicKey: string; mqtt: { username: string; password: string } };
    const device = await mqtt.connectAsync(mqttUrl!, { ...d.mqtt, clientId: d.deviceId, reconnectPeriod: 0 });
    try {
      const ring = new KeyRing([d.orgPublicKey]);
      const snapshots = new Set<string>();
      device.on('message', (_topic, payload) => {
        const opened = openMessage(payload, ring, { orgId: admin.orgId, deviceId: d.deviceId });
        if (opened.ok && opened.message.kind === 'snapshot') snapshots.add(opened.message.snapshotId);
      });
      await device.subscribeAsync(topics.downFilter(d.deviceId), { qos: 1 });
      for (let i = 1; i <= 6; i++) {
        await device.publishAsync(
          topics.syncRequest(d.deviceId),
          JSON.stringify({ v: 1, deviceId: d.deviceId, fromSeq: 0, full: true, ts: Date.now() }),
          { qos: 1 },
        );
        await until(() => snapshots.size >= i, `the snapshot for request ${i}`, 3000);
      }
      expect(snapshots.size).toBe(6);
    } finally {
      await device.endAsync(true);
    }
  });
});
