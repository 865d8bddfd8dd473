/**
 * The part of the cloud an updating controller talks to, for the update
 * tests and bench: an MQTT broker on a free TCP port (aedes), a client that
 * acks every event batch with a signed ack (as the cloud's ingest does),
 * keeps the statuses and events it receives, and sends signed `update`
 * commands. The release files are release-fixture.ts's server.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { type CheckinEvent, type DownMessage, type SigningKey, type Status, sealMessage, topics, uuidv7 } from '@gatehouse/protocol';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import type { UpdateJob } from '../src/update/updater.js';

export interface MiniCloud {
  url: string;
  statuses: { at: number; status: Status }[];
  events: { at: number; event: CheckinEvent }[];
  sendUpdate(job: UpdateJob): Promise<void>;
  close(): Promise<void>;
}

export async function startMiniCloud(o: { deviceId: string; orgId: string; key: SigningKey }): Promise<MiniCloud> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: 'cloud', reconnectPeriod: 200 });
  const statuses: MiniCloud['statuses'] = [];
  const events: MiniCloud['events'] = [];
  const seen = new Set<string>();
  let seq = 0;
  const header = () => ({ v: 1 as const, orgId: o.orgId, deviceId: o.deviceId, seq: ++seq, issuedAt: Date.now() });
  client.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString('utf8')) as { batchId?: string; events?: CheckinEvent[] } & Status;
    if (topic === topics.status(o.deviceId)) statuses.push({ at: Date.now(), status: body });
    else if (topic === topics.events(o.deviceId) && body.batchId && body.events) {
      for (const e of body.events) {
        if (seen.has(e.id)) continue;
        seen.add(e.id);
        events.push({ at: Date.now(), event: e });
      }
      const ack = { ...header(), kind: 'ack', batchId: body.batchId, ids: body.events.map((e) => e.id) } as DownMessage;
      client.publish(topics.ack(o.deviceId), sealMessage(ack, o.key), { qos: 1 });
    }
  });
  await client.subscribeAsync([topics.status(o.deviceId), topics.events(o.deviceId)], { qos: 1 });
  return {
    url,
    statuses,
    events,
    async sendUpdate(job) {
      const cmd = { ...header(), kind: 'cmd', id: uuidv7(), type: 'update', expiresAt: Date.now() + 60_000, update: job } as DownMessage;
      await client.publishAsync(topics.cmd(o.deviceId), sealMessage(cmd, o.key), { qos: 1 });
    },
    async close() {
      await client.endAsync(true);
      await new Promise<void>((r) => aedes.close(() => r()));
      server.close();
    },
  };
}
