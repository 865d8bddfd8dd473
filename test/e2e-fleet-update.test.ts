/**
 * Issue 16 "done when": a fleet update end to end. A real cloud (buildApp with
 * sync, its broker; PostgreSQL + Mosquitto with DATABASE_URL / MQTT_URL) and
 * three controllers, each its own process under the test supervisor
 * (edge-agent/test/supervisor.ts: Restart=always, boot-guard before every
 * start, as the unit's ExecStartPre), with its own data directory and install
 * root holding release 1.0.0 (serial 1), each enrolled with the cloud.
 *  1. A good release 2.0.0 goes to the named canary first; the batch gets its
 *     command only once the canary is done; all three end on 2.0.0.
 *  2. Releases that fail their health check, each on the canary: 3.0.0 exits
 *     at every start (boot-guard switches back after 3 starts), 4.0.0 runs but
 *     never links to the cloud (its own health window ends in a switch back).
 *     Each time the canary is back on 2.0.0 by itself and reports rolled_back,
 *     the rollout halts, the other two are sent nothing and keep running 2.0.0.
 *  3. A release (5.0.0) whose file was altered on the cloud's disk after its upload, and
 *     a job replaying the older 1.0.0 without allowDowngrade: the controller
 *     refuses each (checksum, rollback) with its install root untouched.
 * The release's systemd unit passing `systemd-analyze verify` is
 * test/release-build.test.ts › the release unit › passes systemd-analyze verify
 * without a warning (not repeated here). Prints the figures as one JSON line.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { schema } from '@gatehouse/cloud-api';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import { enroll } from '@gatehouse/edge-agent';
import {
  agentBundle,
  buildRelease,
  installFirst,
  linkNodeModules,
  type ReleaseKey,
  releaseKey,
  Supervisor,
  type TestRelease,
  tempDir,
} from '@gatehouse/edge-agent/testing';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from './harness.js';

const { gateCommands, gates, updateJobGates } = schema;

interface Controller {
  name: string;
  gateId: string;
  installRoot: string;
  dataDir: string;
  sup: Supervisor;
}

interface JobView {
  id: string;
  state: string;
  stage: string;
  haltedReason: string | null;
  gateStates: Array<{ gateId: string; state: string; canary: boolean; batch: number; detail: string | null }>;
}

const DB = process.env.DATABASE_URL ? 'postgres' : 'pglite';
const BROKER = process.env.MQTT_URL ? 'mosquitto' : 'embedded';
/** The shortest health window the update command allows (protocol: 10..3600 s). */
const HEALTH_WINDOW_S = 10;
/** Put before the bundled agent: its config is rewritten to a closed broker port before the agent reads it. */
const NEVER_CONNECTS = `import * as __gh_fs from 'node:fs';
{
  const i = process.argv.indexOf('--config');
  if (i > 0) {
    const c = JSON.parse(__gh_fs.readFileSync(process.argv[i + 1], 'utf8'));
    if (c.mqtt) c.mqtt.url = 'mqtt://127.0.0.1:9';
    const f = process.argv[i + 1] + '.never-connects.json';
    __gh_fs.writeFileSync(f, JSON.stringify(c));
    process.argv[i + 1] = f;
  }
}
`;

describe(`fleet update of three controllers, each its own process (${DB}, ${BROKER} broker)`, () => {
  const tmp = tempDir('gh-e2e-fleet-');
  let t: TestApp;
  let platform: Login;
  let admin: Login;
  let siteId: string;
  let key: ReleaseKey;
  const rel: Record<'v1' | 'v2' | 'v3' | 'v4' | 'v5', TestRelease> = {} as never;
  const relId: Record<string, string> = {};
  const edges: Controller[] = [];
  const figures: Record<string, number | string> = { test: 'e2e-fleet-update', db: DB, broker: BROKER };
  const releasesDir = join(tmp.dir, 'cloud-releases');

  const api = async (who: Login, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object | Buffer) => {
    const r = await t.app.inject({
      method,
      url,
      headers: Buffer.isBuffer(payload) ? { ...who.auth, 'content-type': 'application/octet-stream' } : who.auth,
      ...(payload ? { payload } : {}),
    });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as Record<string, unknown>;
  };
  /** Publish the signed manifest, then upload every file it lists (the cloud checks each against its SHA-256). */
  const publish = async (r: TestRelease) => {
    const { id } = (await api(platform, 'POST', '/api/admin/releases', { release: r.signed })) as { id: string };
    for (const f of r.manifest.files)
      await api(platform, 'PUT', `/api/admin/releases/${id}/files/${f.path}`, readFileSync(join(r.dir, f.path)));
    relId[r.version] = id;
    return id;
  };
  const job = async (id: string) => (await api(admin, 'GET', `/api/admin/updates/jobs/${id}`)) as unknown as JobView;
  const gateState = (j: JobView, gateId: string) => j.gateStates.find((g) => g.gateId === gateId)?.state;
  const rollout = async (version: string, canary: Controller, extra: object = {}) =>
    (
      (await api(admin, 'POST', '/api/admin/updates/jobs', {
        releaseId: relId[version],
        scope: [siteId],
        strategy: { canaryGateIds: [canary.gateId], batchSize: 2, healthWindowS: HEALTH_WINDOW_S },
        ...extra,
      })) as { id: string }
    ).id;
  const gateRow = async (gateId: string) => (await t.app.ctx.db.select().from(gates).where(eq(gates.id, gateId)))[0]!;
  const jobRows = (jobId: string) => t.app.ctx.db.select().from(updateJobGates).where(eq(updateJobGates.jobId, jobId));
  const updateCommands = (gateIds: string[]) =>
    t.app.ctx.db
      .select({ id: gateCommands.id, gateId: gateCommands.gateId })
      .from(gateCommands)
      .where(and(eq(gateCommands.type, 'update'), inArray(gateCommands.gateId, gateIds)))
      .orderBy(asc(gateCommands.id));
  /** What is installed: the links and the releases directory. */
  const installed = (c: Controller) => ({
    current: linkOf(c.installRoot, 'current'),
    releases: readdirSync(join(c.installRoot, 'releases')).sort(),
  });
  const linkOf = (root: string, name: string) => {
    try {
      return readlinkSync(join(root, name));
    } catch {
      return null;
    }
  };
  const dump = () => edges.map((c) => `--- ${c.name}\n${c.sup.logs.slice(-40).join('\n')}`).join('\n');

  beforeAll(async () => {
    key = releaseKey();
    const port = await freePort();
    t = await startApp(
      {
        mqttPort: 0,
        ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}),
        // The URL an update command names is the cloud's public one: this listener.
        publicUrl: `http://127.0.0.1:${port}`,
        updates: { releaseKeys: [key.publicKey], releasesDir, tickS: 1 },
      },
      { sync: true },
    );
    const base = await t.app.listen({ port, host: '127.0.0.1' });
    platform = await createOrgWithUser(t.app, `Platform ${Date.now()}`, ['PlatformAdmin']);
    admin = await createOrgWithUser(t.app, `Fleet ${Date.now()}`, ['OrgAdmin']);
    const topo = await seedTopology(t.app, admin);
    siteId = topo.site.id;

    // Releases: the bundled agent (as a release ships it) for the good ones, an entry that exits for the bad one.
    linkNodeModules(tmp.dir);
    const bundle = await agentBundle();
    rel.v1 = buildRelease(tmp.dir, { version: '1.0.0', serial: 1, key, entryCode: bundle });
    rel.v2 = buildRelease(tmp.dir, { version: '2.0.0', serial: 2, key, entryCode: bundle });
    rel.v3 = buildRelease(tmp.dir, {
      version: '3.0.0',
      serial: 3,
      key,
      entryCode: '// exits at every start: never reaches its health check\nprocess.exit(3);\n',
    });
    // The agent, but with its broker URL pointed at a closed port: it runs and decides, and never links to the cloud.
    rel.v4 = buildRelease(tmp.dir, { version: '4.0.0', serial: 4, key, entryCode: NEVER_CONNECTS + bundle.replace(/^#!.*\n/, '') });
    rel.v5 = buildRelease(tmp.dir, { version: '5.0.0', serial: 5, key, entryCode: bundle });
    await publish(rel.v1);

    for (const name of ['Door A', 'Door B', 'Door C']) {
      const gate = (await api(admin, 'POST', '/api/admin/gates', { siteId, zoneId: topo.zone.id, name, direction: 'in' })) as {
        id: string;
      };
      const dir = join(tmp.dir, name.replace(' ', '-').toLowerCase());
      const dataDir = join(dir, 'data');
      const installRoot = join(dir, 'opt');
      installFirst(installRoot, rel.v1);
      const configPath = join(dir, 'edge.json');
      writeFileSync(
        configPath,
        JSON.stringify({
          dataDir,
          localPort: 0,
          readers: [{ type: 'simulated', name: 'sim', direction: 'in' }],
          relay: { type: 'simulated', pulseMs: 20 },
          update: { installRoot, bootLimit: 3 },
        }),
      );
      const { code } = (await api(admin, 'POST', `/api/admin/gates/${gate.id}/enrollment`)) as { code: string };
      await enroll({ cloud: base, code, configPath });
      const sup = new Supervisor({ installRoot, configFile: configPath, dataDir, bootLimit: 3, nodeArgs: [] });
      edges.push({ name, gateId: gate.id, installRoot, dataDir, sup });
    }
    const started = Date.now();
    for (const c of edges) c.sup.start();
    for (const c of edges)
      await until(
        async () => {
          const g = await gateRow(c.gateId);
          return g.releaseSerial === 1 && g.online;
        },
        `${c.name} online on 1.0.0`,
        60_000,
      ).catch((e: unknown) => {
        throw new Error(`${(e as Error).message}\n${dump()}`);
      });
    figures.fleetOnlineMs = Date.now() - started;
  }, 180_000);

  afterAll(async () => {
    console.log(JSON.stringify(figures));
    await Promise.all(edges.map((c) => c.sup.stop()));
    await t?.close();
    tmp.cleanup();
  });

  it('a good release goes to the canary first, then to the batch; all three run it and the rollout completes', {
    timeout: 150_000,
  }, async () => {
    const [canary, ...rest] = edges as [Controller, ...Controller[]];
    await publish(rel.v2);
    const completed: Array<Record<string, unknown>> = [];
    const off = t.app.ctx.events.subscribe(admin.orgId, (e) => {
      if (e.type === 'update.completed') completed.push(e.data);
    });
    const t0 = Date.now();
    const id = await rollout('2.0.0', canary);
    await until(async () => gateState(await job(id), canary.gateId) === 'done', 'the canary done', 60_000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${dump()}`);
    });
    figures.canaryDoneMs = Date.now() - t0;
    const j = await until(
      async () => {
        const v = await job(id);
        return v.state === 'done' ? v : null;
      },
      'the rollout done',
      90_000,
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${dump()}`);
    });
    figures.allDoneMs = Date.now() - t0;
    off();
    expect(j.gateStates.map((g) => g.state)).toEqual(['done', 'done', 'done']);
    // Canary first: the batch's commands went out after the canary was done, not before.
    const rows = await jobRows(id);
    const canaryRow = rows.find((r) => r.gateId === canary.gateId)!;
    expect(canaryRow.canary).toBe(true);
    for (const c of rest) {
      const r = rows.find((x) => x.gateId === c.gateId)!;
      expect(r.batch).toBe(1);
      expect(r.dispatchedAt!.getTime()).toBeGreaterThanOrEqual(canaryRow.finishedAt!.getTime());
    }
    for (const c of edges) {
      // Reported in the controller's own status (release), and what its install root and process run.
      expect(await gateRow(c.gateId)).toMatchObject({ releaseSerial: 2, version: '2.0.0' });
      expect(installed(c).current).toBe('releases/2.0.0');
      expect(c.sup.current?.release).toBe('2.0.0');
      expect(c.sup.current?.exit).toBeUndefined();
    }
    await until(() => completed.find((d) => d.jobId === id), 'update.completed', 10_000);
    expect(completed.find((d) => d.jobId === id)).toMatchObject({ outcome: 'done', version: '2.0.0' });
  });

  /**
   * A rollout of a release that fails on the canary: it halts with the canary rolled back to 2.0.0 by itself,
   * and the other two are sent nothing, not restarted, still on 2.0.0 (the job's rows, gate_commands, their logs).
   */
  const rolloutRollsBack = async (r: TestRelease, reason: RegExp) => {
    const [canary, ...rest] = edges as [Controller, ...Controller[]];
    await publish(r);
    const before = await updateCommands(rest.map((c) => c.gateId));
    const startsBefore = rest.map((c) => c.sup.starts.length);
    const canaryStarts = canary.sup.starts.length;
    const t0 = Date.now();
    const id = await rollout(r.version, canary);
    const j = await until(
      async () => {
        const v = await job(id);
        return v.state === 'halted' ? v : null;
      },
      'the rollout halted',
      90_000,
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${dump()}`);
    });
    const ms = Date.now() - t0;
    expect(gateState(j, canary.gateId)).toBe('rolled_back');
    expect(j.haltedReason).toMatch(reason);
    // The canary runs 2.0.0 again, by itself, and says so.
    await until(async () => (await gateRow(canary.gateId)).releaseSerial === 2, 'the canary reporting 2.0.0 again', 30_000);
    expect(installed(canary).current).toBe('releases/2.0.0');
    expect(linkOf(canary.installRoot, 'previous')).toBe(`releases/${r.version}`);
    expect(canary.sup.current?.release).toBe('2.0.0');
    // The others: never sent the command, never restarted, still on 2.0.0.
    for (const c of rest) expect(gateState(j, c.gateId)).toBe('pending');
    expect((await jobRows(id)).filter((x) => !x.canary).every((x) => x.commandId === null)).toBe(true);
    expect(await updateCommands(rest.map((c) => c.gateId))).toEqual(before);
    expect(rest.map((c) => c.sup.starts.length)).toEqual(startsBefore);
    for (const c of rest) {
      expect(installed(c)).toEqual({ current: 'releases/2.0.0', releases: expect.not.arrayContaining([r.version]) });
      expect(await gateRow(c.gateId)).toMatchObject({ releaseSerial: 2 });
      expect(c.sup.logs.some((l) => l.includes(r.version))).toBe(false);
    }
    return { ms, startsOnRelease: canary.sup.starts.slice(canaryStarts).filter((s) => s.release === r.version) };
  };

  it('a release that exits at every start: boot-guard rolls the canary back after 3 starts; the rollout halts, the others untouched', {
    timeout: 120_000,
  }, async () => {
    const { ms, startsOnRelease } = await rolloutRollsBack(rel.v3, /canary gate .* rolled back: crash loop: 3\.0\.0 started 3 times/);
    figures.crashLoopRollbackMs = ms;
    expect(startsOnRelease).toHaveLength(3);
    expect(edges[0]?.sup.current?.guard.action).toBe('rolled_back');
  });

  it('a release that never links to the cloud fails its health window: the canary rolls itself back; the rollout halts, the others untouched', {
    timeout: 120_000,
  }, async () => {
    const { ms, startsOnRelease } = await rolloutRollsBack(rel.v4, /canary gate .* rolled back: unhealthy: no link to the cloud/);
    figures.healthWindowRollbackMs = ms;
    figures.healthWindowS = HEALTH_WINDOW_S;
    // One start: it ran through its window and switched back itself (not boot-guard's crash loop).
    expect(startsOnRelease).toHaveLength(1);
    expect(ms).toBeGreaterThanOrEqual(HEALTH_WINDOW_S * 1000);
  });

  it('a file altered on the cloud after its upload is refused before anything is installed', { timeout: 90_000 }, async () => {
    const c = edges[1]!;
    const id5 = await publish(rel.v5);
    // The cloud checked the file at upload; now it changes on the cloud's disk (same size, one byte flipped).
    const f = rel.v5.manifest.files.find((x) => x.path === 'agent/payload.bin')!;
    const stored = join(releasesDir, id5, f.sha256);
    const bytes = readFileSync(stored);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    writeFileSync(stored, bytes);
    const was = installed(c);
    const starts = c.sup.starts.length;
    const t0 = Date.now();
    const id = await rollout('5.0.0', c);
    const j = await until(
      async () => {
        const v = await job(id);
        return v.state === 'halted' ? v : null;
      },
      'the rollout halted on the tampered file',
      60_000,
    );
    figures.tamperRefusedMs = Date.now() - t0;
    expect(gateState(j, c.gateId)).toBe('failed');
    expect(j.gateStates.find((g) => g.gateId === c.gateId)?.detail).toMatch(/refused \(checksum\)/);
    expect(installed(c)).toEqual(was);
    expect(c.sup.starts.length).toBe(starts);
    expect(await gateRow(c.gateId)).toMatchObject({ releaseSerial: 2 });
  });

  it('a replayed older release (1.0.0, serial 1) without allowDowngrade is refused `rollback`, nothing installed', {
    timeout: 90_000,
  }, async () => {
    const c = edges[2]!;
    const was = installed(c);
    const starts = c.sup.starts.length;
    const t0 = Date.now();
    const id = await rollout('1.0.0', c);
    const j = await until(
      async () => {
        const v = await job(id);
        return v.state === 'halted' ? v : null;
      },
      'the rollout halted on the older release',
      60_000,
    );
    figures.rollbackRefusedMs = Date.now() - t0;
    expect(gateState(j, c.gateId)).toBe('failed');
    expect(j.gateStates.find((g) => g.gateId === c.gateId)?.detail).toMatch(/refused \(rollback\)/);
    expect(installed(c)).toEqual(was);
    expect(c.sup.starts.length).toBe(starts);
    expect(await gateRow(c.gateId)).toMatchObject({ releaseSerial: 2 });
  });
});
