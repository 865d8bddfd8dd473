/**
 * The cloud's side of edge→cloud messages, seen from a device on the broker:
 * what it stores and acks, and what it drops. An enrolled device publishes
 * with its own broker credentials, as a controller would.
 */
import { type CheckinEvent, KeyRing, openMessage, topics, uuidv7 } from '@gatehouse/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp, until } from './helpers.js';

interface Enrolled {
  deviceId: string;
  orgId: string;
  orgPublicKey: string;
  mqtt: { url: string; username: string; password: string };
}

describe(`cloud ingestion of edge messages (${process.env.MQTT_URL ? 'external broker' : 'embedded broker'})`, () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let a: Enrolled;
  let b: Enrolled;
  let device: MqttClient;
  const acks: unknown[] = [];

  const enrollGate = async (gateId: string): Promise<Enrolled> => {
    const e = await t.app.inject({ method: 'POST', url: `/api/admin/gates/${gateId}/enrollment`, headers: admin.auth });
    const r = await t.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: (e.json() as { code: string }).code } });
    if (r.statusCode !== 200) throw new Error(`enroll: ${r.statusCode} ${r.body}`);
    return r.json() as Enrolled;
  };
  const event = (): CheckinEvent => ({
    id: uuidv7(),
    type: 'attempt',
    gateId: topo.gate.id,
    passId: null,
    credentialKind: 'none',
    direction: 'in',
    allow: false,
    reason: 'malformed',
    occurredAt: Date.now(),
  });
  const stored = async (id: string) => {
    const r = await t.app.inject({ method: 'GET', url: `/api/admin/checkins?gateId=${topo.gate.id}`, headers: admin.auth });
    return (r.json() as { items: { id: string }[] }).items.some((i) => i.id === id);
  };
  beforeAll(async () => {
    t = await startApp({ mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) }, { sync: true });
    admin = await createOrgWithUser(t.app, `ingest-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    a = await enrollGate(topo.gate.id);
    b = await enrollGate(topo.serverGate.id);
    const url = process.env.MQTT_URL ? `mqtt://${new URL(process.env.MQTT_URL).host}` : a.mqtt.url;
    device = await mqtt.connectAsync(url, {
      username: a.mqtt.username,
      password: a.mqtt.password,
      clientId: a.deviceId,
      reconnectPeriod: 0,
    });
    await device.subscribeAsync(topics.ack(a.deviceId), { qos: 1 });
    device.on('message', (_topic, payload) =>
      acks.push(openMessage(payload, new KeyRing([a.orgPublicKey]), { orgId: a.orgId, deviceId: a.deviceId })),
    );
  });

  afterAll(async () => {
    await device?.endAsync();
    await t?.close();
  });

  it('SIGN-6, MSG-1, MSG-2, MSG-8: stores and acks a device’s batch only when its payload names the device of its topic and is valid', async () => {
    type Opened = { ok: boolean; message?: { batchId?: string; ids?: string[] } };
    const publish = (body: object) => device.publishAsync(topics.events(a.deviceId), JSON.stringify(body), { qos: 1 });
    /** Publishes a batch again until its signed ack comes, as an edge does (at-least-once). */
    const delivered = async (events: CheckinEvent[]) => {
      const batchId = uuidv7();
      const end = Date.now() + 10_000;
      for (;;) {
        await publish({ v: 1, deviceId: a.deviceId, batchId, events });
        const ack = await until(() => acks.find((x) => (x as Opened).message?.batchId === batchId), 'the signed ack', 1000).catch(
          () => null,
        );
        if (ack) return { batchId, ack };
        if (Date.now() > end) throw new Error('no ack for a valid batch');
      }
    };
    // A valid batch first: the cloud knows the device and acks what it stored.
    const first = event();
    const one = await delivered([first]);
    expect(one.ack).toMatchObject({
      ok: true,
      message: { kind: 'ack', orgId: a.orgId, deviceId: a.deviceId, batchId: one.batchId, ids: [first.id] },
    });
    expect(await stored(first.id)).toBe(true);

    // On A's own topic (the broker lets it publish there), a payload that claims to come from B.
    const foreign = event();
    await publish({ v: 1, deviceId: b.deviceId, batchId: uuidv7(), events: [foreign] });
    // The right device, but a field the schema does not have: the whole batch is rejected, not partly stored.
    const extra = event();
    await publish({ v: 1, deviceId: a.deviceId, batchId: uuidv7(), events: [extra], extra: true });
    const last = event();
    await delivered([last]);
    await until(() => stored(last.id), 'the last check-in');
    await new Promise((r) => setTimeout(r, 300));
    const ackedIds = acks.flatMap((x) => (x as Opened).message?.ids ?? []);
    expect(ackedIds).not.toContain(foreign.id);
    expect(ackedIds).not.toContain(extra.id);
    expect(await stored(foreign.id)).toBe(false);
    expect(await stored(extra.id)).toBe(false);
  });
});
