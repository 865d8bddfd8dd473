/**
 * Secrets sealed end to end (SPEC SEAL-*): what crosses the broker toward a
 * controller carries no TOTP secret in the clear, only sealed to that
 * controller's own key; the controller opens it and still admits the
 * visitor's dynamic QR. The payloads are captured on the broker itself: the
 * embedded broker's publish hook, or a subscriber with the cloud's own login
 * on the external broker (MQTT_URL).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { passRecord, schema } from '@gatehouse/cloud-api';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, tempDir } from '@gatehouse/edge-agent/testing';
import {
  devicePublicKey,
  generateDeviceKeyPair,
  openPassRecord,
  type SealedPassRecord,
  type SyncMessage,
  secretOpener,
} from '@gatehouse/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** `gatehouse-edge` as an operator runs it, from the sources. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(REPO, 'edge-agent/src/cli.ts'), ...args], {
      cwd: REPO,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe(`TOTP secrets sealed to the controller on the wire (${process.env.MQTT_URL ? 'external broker' : 'embedded broker'})`, () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let daemon: Daemon;
  let configPath: string;
  let base: string;
  /** Issued before the controller enrolls: its snapshot carries it. */
  let before: { id: string };
  let stopCapture: () => Promise<void> = async () => undefined;
  const dir = tempDir('gh-sealed-');
  /** Every down/sync payload the broker carried, as published. */
  const wire: Buffer[] = [];
  const api = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    const r = await t.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as Record<string, unknown>;
  };
  const issue = async () =>
    (await api('POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'multi',
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 3_600_000).toISOString(),
    })) as { id: string };
  /** The pass's TOTP secret as the cloud holds it. */
  const secretOf = async (passId: string) => {
    const rows = await t.app.ctx.db.select().from(schema.visitPasses);
    const row = rows.find((r) => r.id === passId);
    if (!row) throw new Error(`no pass ${passId}`);
    const secret = passRecord(t.app.ctx, row).totpSecret;
    if (!secret) throw new Error('the pass has no TOTP secret');
    return secret;
  };
  /** The sync messages captured on the wire, their signed payload decoded. */
  const messages = (): { raw: string; message: SyncMessage }[] =>
    wire.map((p) => {
      const env = JSON.parse(p.toString('utf8')) as { payload: string };
      return { raw: p.toString('utf8'), message: JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as SyncMessage };
    });
  const sealedPasses = (m: SyncMessage): SealedPassRecord[] =>
    m.kind === 'snapshot' ? m.passes : m.changes.flatMap((c) => (c.entity === 'pass' && c.data ? [c.data] : []));

  beforeAll(async () => {
    t = await startApp({ mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) }, { sync: true });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const embedded = t.app.ctx.sync?.broker;
    if (embedded) {
      const onPublish = (packet: { topic: string; payload: Buffer | string }) => {
        if (packet.topic.endsWith('/down/sync')) wire.push(Buffer.from(packet.payload));
      };
      embedded.aedes.on('publish', onPublish);
      stopCapture = async () => void embedded.aedes.removeListener('publish', onPublish);
    } else {
      // Someone holding the cloud's own broker login reads the wire too.
      const u = new URL(process.env.MQTT_URL ?? '');
      const spy = await mqtt.connectAsync(`${u.protocol}//${u.host}`, {
        username: decodeURIComponent(u.username) || 'gatehouse-cloud',
        password: decodeURIComponent(u.password),
        clientId: `spy-${Date.now()}`,
        reconnectPeriod: 0,
      });
      await spy.subscribeAsync('gh/v1/dev/+/down/sync', { qos: 1 });
      spy.on('message', (_topic, payload) => wire.push(payload));
      stopCapture = () => spy.endAsync();
    }
    admin = await createOrgWithUser(t.app, `sealed-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    before = await issue();
  });

  afterAll(async () => {
    await stopCapture();
    await daemon?.stop();
    await t?.close();
    dir.cleanup();
  });

  it('SEAL-1: enrollment makes a key pair on the controller: the private half stays in its 0600 config, the cloud holds the public half', async () => {
    const edge = await enrolledEdge(t.app, base, admin, topo.gate.id, dir.dir);
    daemon = edge.daemon;
    configPath = edge.configPath;
    const cfg = JSON.parse(readFileSync(configPath, 'utf8')) as { sealKey?: string };
    expect(cfg.sealKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    const gates = await t.app.ctx.db.select().from(schema.gates);
    const gate = gates.find((g) => g.id === topo.gate.id);
    expect(gate?.deviceSealKey).toBe(devicePublicKey(cfg.sealKey ?? ''));
  });

  it('SEAL-2, SEAL-3: snapshot and delta carry no secret in the clear, and the controller admits the dynamic QR of each pass', async () => {
    // One pass the snapshot carries (issued before the controller enrolled), one a delta carries.
    await until(() => daemon.store.findByPassId(before.id).pass, 'pass of the snapshot at the edge');
    const after = await issue();
    await until(() => daemon.store.findByPassId(after.id).pass, 'pass of the delta at the edge');
    const secrets = [await secretOf(before.id), await secretOf(after.id)];

    const captured = messages();
    expect(captured.some((c) => c.message.kind === 'snapshot' && sealedPasses(c.message).some((p) => p.id === before.id))).toBe(true);
    expect(captured.some((c) => c.message.kind === 'delta' && sealedPasses(c.message).some((p) => p.id === after.id))).toBe(true);
    for (const { raw, message } of captured) {
      const text = JSON.stringify(message);
      for (const s of secrets) {
        expect(raw).not.toContain(s);
        expect(text).not.toContain(s);
      }
      expect(text).not.toContain('totpSecret');
    }
    for (const p of [before, after]) {
      const { payload } = (await api('GET', `/api/admin/passes/${p.id}/credential?kind=dynamic`)) as { payload: string };
      const event = daemon.gate.handle({ reader: 'sim', direction: 'in', data: payload, receivedAt: performance.now() }).event;
      expect(event).toMatchObject({ allow: true, reason: 'ok', passId: p.id });
      expect(daemon.store.findByPassId(p.id).pass?.totpSecret).toBe(secrets[p === before ? 0 : 1]);
    }
  });

  it('SIGN-7: the fingerprint `gatehouse-edge enroll` and `status` print is the one the console is given with the code', async () => {
    const r = await t.app.inject({ method: 'POST', url: `/api/admin/gates/${topo.serverGate.id}/enrollment`, headers: admin.auth });
    expect(r.statusCode).toBe(201);
    const { code, orgKeyFingerprint } = r.json() as { code: string; orgKeyFingerprint: string };
    expect(orgKeyFingerprint).toMatch(/^[0-9A-F]{4}(-[0-9A-F]{4}){15}$/);
    const cfg = join(dir.dir, 'cli', 'edge.json');
    mkdirSync(dirname(cfg), { recursive: true });
    writeFileSync(
      cfg,
      JSON.stringify({
        dataDir: dirname(cfg),
        localPort: 0,
        readers: [{ type: 'simulated', name: 'sim', direction: 'in' }],
        relay: { type: 'simulated' },
      }),
    );
    const enrolled = await cli(['enroll', '--cloud', base, '--code', code, '--config', cfg]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toContain(`organisation key fingerprint: ${orgKeyFingerprint}`);
    const status = await cli(['status', '--config', cfg]);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { orgKeyFingerprint: string }).orgKeyFingerprint).toBe(orgKeyFingerprint);
  });

  it('SEAL-6: what was sealed to this controller opens with its key, and not with another controller key', () => {
    const own = (JSON.parse(readFileSync(configPath, 'utf8')) as { sealKey: string }).sealKey;
    const other = generateDeviceKeyPair();
    let sealed = 0;
    for (const { message } of messages()) {
      for (const p of sealedPasses(message)) {
        if (!p.totpSealed || !message.epk) continue;
        sealed++;
        expect(openPassRecord(p, secretOpener(own, message.epk)).opened).toBe(true);
        expect(openPassRecord(p, secretOpener(other.privateKey, message.epk))).toMatchObject({ opened: false, pass: { totpSecret: null } });
      }
    }
    expect(sealed).toBeGreaterThanOrEqual(2);
  });
});
