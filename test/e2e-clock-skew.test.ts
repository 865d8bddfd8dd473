/**
 * An edge whose clock is minutes off (SYNC-5): the daemon runs as a child
 * process under `faketime`, enrolled to a cloud on the true clock. It must
 * still admit a valid dynamic QR (TOTP is time-based), refuse a command that
 * expired by the cloud's clock though not by its own, run a fresh one its own
 * clock calls expired, and report its skew, which the admin API shows.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from '@gatehouse/cloud-api/testing';
import { readLocalToken } from '@gatehouse/edge-agent';
import { tempDir } from '@gatehouse/edge-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from './harness.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

function hasFaketime(): boolean {
  try {
    execFileSync('faketime', ['-f', '+0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

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

describe.skipIf(!hasFaketime())(`SYNC-5: an edge under faketime (${process.env.MQTT_URL ? 'external broker' : 'embedded broker'})`, () => {
  let t: TestApp;
  let admin: Login;
  let base: string;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const children: ChildProcess[] = [];
  const dir = tempDir('gh-skew-');
  let cmdSeq = 2_000_000_000;

  const api = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    const r = await t.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as Record<string, unknown>;
  };

  beforeAll(async () => {
    t = await startApp({ mqttPort: 0, ...(process.env.MQTT_URL ? { mqttUrl: process.env.MQTT_URL } : {}) }, { sync: true });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    admin = await createOrgWithUser(t.app, `skew-${Date.now()}`, ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
  }, 60_000);

  afterAll(async () => {
    for (const c of children) {
      // The process group: faketime forks the daemon as its child.
      if (c.pid && c.exitCode === null) {
        try {
          process.kill(-c.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await t?.close();
    dir.cleanup();
  });

  for (const [offset, skew] of [
    ['+5m', 300_000],
    ['-5m', -300_000],
  ] as const) {
    it(`SYNC-5, CMD-2: an edge ${offset} off admits a valid dynamic QR, refuses a command expired by the cloud's clock, runs a fresh one, reports its skew`, async () => {
      const gate = await api('POST', '/api/admin/gates', {
        siteId: topo.site.id,
        zoneId: topo.zone.id,
        name: `Skewed ${offset}`,
        direction: 'in',
      });
      const gateId = gate.id as string;
      // Issued before the controller enrolls: its snapshot carries it.
      const pass = (await api('POST', '/api/admin/passes', {
        visitorId: topo.visitor.id,
        accessRuleId: topo.rule.id,
        type: 'multi',
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        validTo: new Date(Date.now() + 3_600_000).toISOString(),
      })) as { id: string };
      const { code } = (await api('POST', `/api/admin/gates/${gateId}/enrollment`)) as { code: string };
      const dataDir = join(dir.dir, offset);
      mkdirSync(dataDir, { recursive: true });
      const cfg = join(dataDir, 'edge.json');
      const localPort = await freePort();
      writeFileSync(
        cfg,
        JSON.stringify({
          dataDir,
          localPort,
          readers: [{ type: 'simulated', name: 'sim', direction: 'in' }],
          relay: { type: 'simulated' },
        }),
      );
      const enrolled = await cli(['enroll', '--cloud', base, '--code', code, '--config', cfg]);
      expect(enrolled.code, enrolled.stderr).toBe(0);

      const child = spawn(
        'faketime',
        [
          '-f',
          offset,
          process.execPath,
          '--conditions=source',
          '--import',
          'tsx',
          join(REPO, 'edge-agent/src/cli.ts'),
          'run',
          '--config',
          cfg,
        ],
        { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(child);
      let stderr = '';
      // The daemon logs (pino) to stdout: kept for a failure message.
      const keep = (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const local = async (method: 'GET' | 'POST', path: string, body?: object) => {
        const token = readLocalToken(dataDir);
        const res = await fetch(`http://127.0.0.1:${localPort}${path}`, {
          method,
          headers: { ...('token' in token ? { authorization: `Bearer ${token.token}` } : {}), 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
          signal: AbortSignal.timeout(5000),
        });
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
        return (await res.json()) as Record<string, unknown>;
      };
      const pulses = async () => (await local('GET', '/relay/pulses')).count as number;

      // The skew reaches the cloud once the edge has applied its snapshot (signed, timestamped) and reported.
      const reported = await until(
        async () => {
          const g = await api('GET', `/api/admin/gates/${gateId}`);
          return typeof g.clockSkewMs === 'number' ? g.clockSkewMs : undefined;
        },
        `clockSkewMs of the gate ${offset} (daemon stderr: ${stderr.slice(-500)})`,
        40_000,
      );
      const error = Math.abs(reported - skew);
      console.log(JSON.stringify({ test: 'e2e-clock-skew', offset, clockSkewMs: reported, errorMs: error }));
      expect(error).toBeLessThan(5_000);

      const { payload } = (await api('GET', `/api/admin/passes/${pass.id}/credential?kind=dynamic`)) as { payload: string };
      const scanned = await until(
        async () => {
          const r = (await local('POST', '/scan', { text: payload })) as { event?: { allow: boolean; reason: string } };
          // The snapshot may still be on its way.
          return r.event?.reason === 'unknown' ? undefined : r.event;
        },
        'the pass at the edge',
        20_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}; daemon log: ${stderr}`);
      });
      expect(scanned).toMatchObject({ allow: true, reason: 'ok' });

      const link = t.app.ctx.sync?.link;
      if (!link) throw new Error('no cloud link');
      const before = await pulses();
      const send = (expiresAt: number) =>
        link.sendCommand({ id: crypto.randomUUID(), seq: ++cmdSeq, orgId: admin.orgId, gateId, type: 'open', expiresAt });
      // Expired 10 s ago by the cloud's clock: an edge 5 min behind would still call it valid.
      expect(await send(Date.now() - 10_000)).toBe(true);
      // Valid for 60 s by the cloud's clock: an edge 5 min ahead would call it expired.
      expect(await send(Date.now() + 60_000)).toBe(true);
      await until(async () => ((await pulses()) > before ? true : undefined), 'the fresh command opened the door', 20_000);
      // Commands run in order: the expired one came first and opened nothing.
      expect(await pulses()).toBe(before + 1);
    }, 90_000);
  }
});
