/**
 * MQTT over TLS (issue 11 item 4; DESIGN trust model: someone on the LAN reads
 * nothing on the wire): the embedded broker listens with TLS when given a
 * certificate (MQTT_TLS_CERT / MQTT_TLS_KEY), the cloud's link connects to it
 * by mqtts://, enrollment hands controllers an mqtts:// URL, and a controller
 * with the CA in its config (`caFile`) syncs over it. The certificate is a
 * self-signed one made here with the openssl CLI.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOrgWithUser, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const openssl = hasOpenssl();
if (!openssl) console.warn('e2e-mqtt-tls: skipped, the openssl CLI is missing (apt-get install openssl)');

describe.skipIf(!openssl)('MQTT over TLS on the embedded broker', () => {
  let t: TestApp;
  let daemon: Daemon | undefined;
  let port: number;
  const dir = tempDir('gh-tls-');
  const cert = join(dir.dir, 'broker.crt');
  const key = join(dir.dir, 'broker.key');

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    t = await startApp({ mqttPort: 0, mqttTls: { certFile: cert, keyFile: key } }, { sync: true });
    port = t.app.ctx.sync?.broker?.port ?? 0;
  });

  afterAll(async () => {
    await daemon?.stop();
    await t?.close();
    dir.cleanup();
  });

  /** 'connected', or why not: the error, or 'closed' when the connection just ended (no MQTT spoken). */
  const tryConnect = (url: string, opts: mqtt.IClientOptions = {}) =>
    new Promise<string>((resolve) => {
      const c = mqtt.connect(url, { username: 'nobody', password: 'x', reconnectPeriod: 0, connectTimeout: 3000, ...opts });
      const done = (what: string) => {
        c.end(true);
        resolve(what);
      };
      c.once('connect', () => done('connected'));
      c.once('error', (err) => done(err.message));
      c.once('close', () => done('closed'));
    });

  it('listens with TLS only: plain MQTT is not spoken, and an unknown certificate is refused by a client that checks', async () => {
    expect(t.app.ctx.sync?.broker?.tls).toBe(true);
    expect(await tryConnect(`mqtt://127.0.0.1:${port}`)).not.toBe('connected');
    expect(await tryConnect(`mqtts://localhost:${port}`)).toMatch(/self[- ]signed|certificate/i);
    // With the CA the TLS handshake succeeds; the broker then judges the login (here: refused).
    expect(await tryConnect(`mqtts://localhost:${port}`, { ca: readFileSync(cert) })).toMatch(/Not authorized|Bad username|bad user/i);
    // The cloud's own link is connected over it.
    await until(() => t.app.ctx.sync?.link.connected, 'cloud link connected');
  });

  it('a controller enrolled with the CA in its config (caFile) gets an mqtts:// broker URL and syncs over TLS', async () => {
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const admin = await createOrgWithUser(t.app, `tls-${Date.now()}`, ['OrgAdmin']);
    const topo = await seedTopology(t.app, admin);
    const edge = await enrolledEdge(t.app, base, admin, topo.gate.id, dir.dir, { caFile: cert });
    daemon = edge.daemon;
    const cfg = JSON.parse(readFileSync(edge.configPath, 'utf8')) as { mqtt: { url: string } };
    expect(cfg.mqtt.url).toMatch(/^mqtts:\/\//);
    await until(() => daemon?.store.seq, 'snapshot over TLS', 20_000);
    expect(daemon.store.context('in').zoneId).toBe(topo.zone.id);
  });
});
