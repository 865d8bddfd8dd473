/**
 * OSDP reader keys end to end (SPEC CMD-5): an enrolled controller with an OSDP reader in install mode on a
 * socat pty, the project's PD simulator on the other end. The operator asks the cloud for a new key; the PD
 * ends up holding exactly the key the cloud keeps sealed, the cloud's row turns `active` from the controller's
 * status, a keyset that cannot be set turns it `failed` and a resend sets it after all; the key is in no
 * database column in the clear and in no log line of either side; another organisation gets 404 and a Host 403.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Daemon } from '@gatehouse/edge-agent';
import { enrolledEdge, SimBus, tempDir } from '@gatehouse/edge-agent/testing';
import { osdpKeyId } from '@gatehouse/protocol';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/app.js';
import { auditLogs, gateCommands, gates, osdpReaderKeys } from '../src/db/schema.js';
import { addUser, createOrgWithUser, freshDatabase, type Login, seedTopology, type TestDb, testConfig, until } from './helpers.js';

const hasSocat = spawnSync('socat', ['-V']).status === 0;

interface KeyItem {
  reader: string;
  status: 'pending' | 'active' | 'failed';
  keyId: string;
  updatedAt: string;
}

/** Every log line of one side, as text: the test reads them all for the key. */
function logSink(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe.skipIf(!hasSocat)('OSDP reader keys made in the cloud, set on the reader by a signed command (CMD-5)', () => {
  const dir = tempDir('gh-osdp-keys-');
  const cloudLog = logSink();
  const edgeLog = logSink();
  let db: TestDb;
  let app: App;
  let socat: ChildProcess;
  let sim: SimBus;
  let daemon: Daemon;
  let admin: Login;
  let host: Login;
  let stranger: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  /** Every key the cloud made in this test, to look for in the logs. */
  const keys: Buffer[] = [];

  const req = (who: Login, method: 'GET' | 'POST', url: string, payload?: object) =>
    app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
  const list = async (gateId = topo.gate.id) => {
    const r = await req(admin, 'GET', `/api/admin/gates/${gateId}/osdp-keys`);
    expect(r.statusCode, r.body).toBe(200);
    return (r.json() as { items: KeyItem[] }).items;
  };
  const statusOf = async (reader: string) => (await list()).find((k) => k.reader === reader)?.status;
  /** The key as the cloud keeps it, opened with the master key. */
  const storedKey = async (reader: string) => {
    const [row] = await app.ctx.db
      .select()
      .from(osdpReaderKeys)
      .where(and(eq(osdpReaderKeys.gateId, topo.gate.id), eq(osdpReaderKeys.reader, reader)));
    return { row: row!, key: Buffer.from(app.ctx.sealer.open(row!.scbkEnc, `osdp_reader_keys.scbk:${topo.gate.id}:${reader}`), 'hex') };
  };
  const door = () => daemon.hardware().find((h) => h.name === 'door');

  beforeAll(async () => {
    db = await freshDatabase();
    const config = testConfig({ logLevel: 'debug', mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) });
    app = await buildApp(config, { database: db.database, migrate: false, logStream: cloudLog.stream, sync: true });
    await app.ready();
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(app, `osdp-keys-${Date.now()}`, ['OrgAdmin']);
    host = await addUser(app, admin.orgId, ['Host']);
    stranger = await createOrgWithUser(app, `osdp-keys-other-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(app, admin);

    // The RS-485 line: a pty pair; the simulated PD waits in install mode (it takes SCBK-D until given a key).
    const cp = join(dir.dir, 'rs485');
    const pd = join(dir.dir, 'pd');
    socat = spawn('socat', [`pty,raw,echo=0,link=${cp}`, `pty,raw,echo=0,link=${pd}`], { stdio: 'ignore' });
    await until(() => existsSync(cp) && existsSync(pd), 'socat ptys');
    sim = new SimBus(pd, 9600, [{ address: 0, install: true }]);
    await sim.start();

    mkdirSync(join(dir.dir, 'edge'));
    ({ daemon } = await enrolledEdge(
      app,
      base,
      admin,
      topo.gate.id,
      join(dir.dir, 'edge'),
      {
        readers: [{ type: 'osdp', name: 'door', path: cp, baudRate: 9600, address: 0, secureChannel: { install: true }, direction: 'in' }],
      },
      { log: pino({ level: 'debug' }, edgeLog.stream) },
    ));
    // Install mode: SCBK-D once, then a random key of the controller's own, and a session under it.
    await until(
      () => {
        const scbk = sim.pd(0).scbk;
        return scbk && door()?.keyId === osdpKeyId(scbk);
      },
      'the reader installed with a local key',
      20_000,
    );
    await until(
      async () => ((await req(admin, 'GET', `/api/admin/gates/${topo.gate.id}`)).json() as { online: boolean }).online,
      'the gate online',
    );
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    await sim?.stop();
    socat?.kill('SIGTERM');
    await app?.close();
    await db?.drop();
    dir.cleanup();
  });

  it('the PD ends up with the key the cloud made and keeps sealed; the row turns active from the status', async () => {
    const localKey = Buffer.from(sim.pd(0).scbk!);
    const r = await req(admin, 'POST', `/api/admin/gates/${topo.gate.id}/osdp-keys`, { reader: 'door' });
    expect(r.statusCode, r.body).toBe(201);
    const sent = r.json() as KeyItem & { command: { id: string; status: string } };
    expect(sent).toMatchObject({ reader: 'door', status: 'pending', command: { status: 'sent' } });

    const { row, key } = await storedKey('door');
    keys.push(key);
    expect(key).toHaveLength(16);
    expect(sent.keyId).toBe(osdpKeyId(key));
    expect(key.equals(localKey)).toBe(false);

    await until(() => sim.pd(0).scbk?.equals(key), "the PD holding the cloud's key", 20_000);
    expect(sim.pd(0).keysets.at(-1)?.equals(key)).toBe(true);
    await until(async () => (await statusOf('door')) === 'active', 'the key active in the cloud', 20_000);
    expect(door()).toMatchObject({ healthy: true, keyId: sent.keyId });
    expect(door()?.keyFailed).toBeUndefined();

    // Sealed at rest: the column is the master key's ciphertext, neither the key nor any encoding of it.
    expect(row.scbkEnc).toMatch(/^v2-[0-9a-f]{8}\./);
    for (const text of [key.toString('hex'), key.toString('hex').toUpperCase(), key.toString('base64'), key.toString('base64url')])
      expect(row.scbkEnc).not.toContain(text);

    // Audited, by key id only.
    const audit = await app.ctx.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.orgId, admin.orgId), eq(auditLogs.action, 'gate.osdp_key.set')));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: admin.userId, entityId: topo.gate.id });
    expect(audit[0]?.data).toMatchObject({ reader: 'door', keyId: sent.keyId, commandId: sent.command.id });
    expect(JSON.stringify(audit[0])).not.toContain(key.toString('hex'));
    // Queued like any gate command: its row orders and expires it, and holds neither the key nor its sealed form.
    const [cmd] = await app.ctx.db.select().from(gateCommands).where(eq(gateCommands.id, sent.command.id));
    expect(cmd).toMatchObject({ type: 'osdp_keyset', status: 'sent', reason: null, gateId: topo.gate.id });
    expect(cmd!.expiresAt.getTime() - cmd!.createdAt.getTime()).toBeGreaterThan(60_000);
    expect(JSON.stringify(cmd)).not.toMatch(/secret|epk/);
    expect(JSON.stringify(cmd)).not.toContain(key.toString('hex'));
  }, 60_000);

  it('a keyset the reader cannot take turns the row failed; the same key resent once the reader is back turns it active', async () => {
    const pd = sim.pd(0);
    const before = Buffer.from(pd.scbk!);
    pd.silent = true;
    await until(() => door()?.healthy === false, 'the reader offline', 15_000);

    const r = await req(admin, 'POST', `/api/admin/gates/${topo.gate.id}/osdp-keys`, { reader: 'door' });
    expect(r.statusCode, r.body).toBe(201);
    const { key } = await storedKey('door');
    keys.push(key);
    await until(async () => (await statusOf('door')) === 'failed', 'the key failed in the cloud', 20_000);
    expect(door()?.keyFailed).toMatchObject({ keyId: osdpKeyId(key) });
    expect(pd.scbk?.equals(before)).toBe(true);

    pd.silent = false;
    await until(() => door()?.healthy && door()?.keyId === osdpKeyId(before), 'the reader back with its old key', 30_000);
    const again = await req(admin, 'POST', `/api/admin/gates/${topo.gate.id}/osdp-keys/door/resend`);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ reader: 'door', status: 'pending', keyId: osdpKeyId(key), command: { status: 'sent' } });
    await until(() => pd.scbk?.equals(key), 'the PD holding the resent key', 20_000);
    await until(async () => (await statusOf('door')) === 'active', 'the resent key active', 20_000);
    expect(door()?.keyFailed).toBeUndefined();
  }, 90_000);

  it('a key for a reader the controller does not have is dropped and logged; the controller carries on', async () => {
    const r = await req(admin, 'POST', `/api/admin/gates/${topo.gate.id}/osdp-keys`, { reader: 'ghost' });
    expect(r.statusCode, r.body).toBe(201);
    keys.push((await storedKey('ghost')).key);
    const line = await until(
      () => edgeLog.lines.find((l) => l.includes('osdp reader key not set') && l.includes('ghost')),
      'the edge logging the dropped key',
    );
    expect(line).toContain('no OSDP reader named ghost');
    expect(await statusOf('ghost')).toBe('pending');
    expect(door()).toMatchObject({ healthy: true });
  }, 30_000);

  it('refuses with 409 a gate without a controller, or whose controller enrolled without a seal key; 404 for a resend of no key', async () => {
    const none = await req(admin, 'POST', `/api/admin/gates/${topo.serverGate.id}/osdp-keys`, { reader: 'door' });
    expect(none.statusCode, none.body).toBe(409);
    expect(none.json().error.code).toBe('conflict');
    await app.ctx.db.update(gates).set({ deviceId: 'old-controller', deviceSealKey: null }).where(eq(gates.id, topo.serverGate.id));
    const unsealed = await req(admin, 'POST', `/api/admin/gates/${topo.serverGate.id}/osdp-keys`, { reader: 'door' });
    expect(unsealed.statusCode, unsealed.body).toBe(409);
    expect(unsealed.json().error.message).toMatch(/seal key/);
    expect(await list(topo.serverGate.id)).toEqual([]);
    const resend = await req(admin, 'POST', `/api/admin/gates/${topo.gate.id}/osdp-keys/nope/resend`);
    expect(resend.statusCode, resend.body).toBe(404);
    const bad = await req(admin, 'POST', `/api/admin/gates/${topo.gate.id}/osdp-keys`, { reader: 'a b' });
    expect(bad.statusCode).toBe(400);
  });

  it("another organisation's admin gets 404, a Host 403, and the list shows no key", async () => {
    for (const [method, url, payload] of [
      ['POST', `/api/admin/gates/${topo.gate.id}/osdp-keys`, { reader: 'door' }],
      ['POST', `/api/admin/gates/${topo.gate.id}/osdp-keys/door/resend`, undefined],
      ['GET', `/api/admin/gates/${topo.gate.id}/osdp-keys`, undefined],
    ] as const) {
      const other = await req(stranger, method, url, payload);
      expect(other.statusCode, `${method} ${url}`).toBe(404);
      const hosted = await req(host, method, url, payload);
      expect(hosted.statusCode, `${method} ${url}`).toBe(403);
    }
    const items = await list();
    expect(items.map((k) => k.reader).sort()).toEqual(['door', 'ghost']);
    const body = JSON.stringify(items);
    for (const k of keys) expect(body).not.toContain(k.toString('hex'));
  });

  it('no key appears in any log line of the cloud or the controller', () => {
    expect(keys.length).toBeGreaterThanOrEqual(3);
    expect(cloudLog.lines.length).toBeGreaterThan(10);
    expect(edgeLog.lines.some((l) => l.includes('osdp reader key set'))).toBe(true);
    const all = [...cloudLog.lines, ...edgeLog.lines].join('\n');
    for (const k of keys)
      for (const text of [k.toString('hex'), k.toString('hex').toUpperCase(), k.toString('base64'), k.toString('base64url')])
        expect(all).not.toContain(text);
  });
});
