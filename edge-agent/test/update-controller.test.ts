/**
 * Issue 16, the controller side, in process: the updater against a local
 * release server (download, verify, install, switch) and the trial of the new
 * release (commit or roll back), boot-guard's crash-loop rollback. The
 * restarts themselves are the supervisor test's (update-restart.pty.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uuidv7 } from '@gatehouse/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootGuard } from '../src/update/boot-guard.js';
import { download, rangeStart, responsePlan } from '../src/update/download.js';
import { type HealthSample, HealthWatch } from '../src/update/health.js';
import { EXIT_RESTART_FOR_UPDATE, linkTarget, readState } from '../src/update/state.js';
import { type UpdateJob, Updater } from '../src/update/updater.js';
import { REPO, until } from './harness.js';
import {
  buildRelease,
  entryOf,
  installFirst,
  type ReleaseKey,
  type ReleaseServer,
  releaseKey,
  serveReleases,
  type TestRelease,
} from './release-fixture.js';
import { tempDir } from './tmp.js';

const AUTH = { username: 'dev-1', password: 'dev-pw' };
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('update: download, verify, install, switch', () => {
  let t: ReturnType<typeof tempDir>;
  let key: ReleaseKey;
  let installRoot: string;
  let dataDir: string;
  let old: TestRelease;
  let srv: ReleaseServer | null = null;
  let restarts: number[];
  let published: number;

  beforeEach(() => {
    t = tempDir('gh-update-');
    key = releaseKey();
    installRoot = join(t.dir, 'opt');
    dataDir = join(t.dir, 'data');
    old = buildRelease(t.dir, { version: '0.1.0', serial: 5, key });
    installFirst(installRoot, old);
    restarts = [];
    published = 0;
  });
  afterEach(async () => {
    await srv?.close();
    srv = null;
    t.cleanup();
  });

  const updater = (o: { entry?: string; sample?: () => Omit<HealthSample, 'at'> } = {}) =>
    new Updater({
      dataDir,
      installRoot,
      auth: AUTH,
      log: pino({ level: 'silent' }),
      publish: () => {
        published++;
      },
      sample: o.sample ?? (() => ({ linkOnline: true, cloudMessages: 0, statusAcks: 0, storageOk: true, scanErrors: 0, outboxDepth: 0 })),
      restart: (code) => restarts.push(code),
      entry: o.entry ?? entryOf(installRoot),
      download: { attempts: 4, backoffMs: 20, idleTimeoutMs: 2000 },
    });
  const job = (r: TestRelease, extra: Partial<UpdateJob> = {}): UpdateJob => ({
    jobId: uuidv7(),
    url: srv!.url(r),
    version: r.version,
    serial: r.serial,
    allowDowngrade: false,
    healthWindowS: 1,
    ...extra,
  });
  const expectUntouched = (refused: TestRelease) => {
    expect(linkTarget(installRoot, 'current')).toBe(old.version);
    expect(existsSync(join(installRoot, 'releases', refused.version))).toBe(false);
    expect(restarts).toEqual([]);
  };

  it('resumes a download the server cut mid-file with a Range request, installs side by side and switches current', async () => {
    const next = buildRelease(t.dir, { version: '0.2.0', serial: 6, key, payloadBytes: 1024 * 1024 });
    srv = await serveReleases([old, next], AUTH);
    srv.cutOnce.set('agent/payload.bin', 300 * 1024);
    const u = updater();
    expect(u.running).toMatchObject({ version: '0.1.0', serial: 5 });
    const t0 = Date.now();
    await u.handle(job(next));
    const ms = Date.now() - t0;
    const payload = srv.requests.filter((r) => r.path === 'agent/payload.bin');
    expect(payload.map((r) => r.status)).toEqual([200, 206]);
    expect(Number(/^bytes=(\d+)-$/.exec(payload[1]?.range ?? '')?.[1])).toBeGreaterThan(0);
    expect(u.state).toMatchObject({ phase: 'restarting', version: '0.2.0', to: { dir: '0.2.0' }, from: { dir: '0.1.0' } });
    expect(restarts).toEqual([EXIT_RESTART_FOR_UPDATE]);
    expect(linkTarget(installRoot, 'current')).toBe('0.2.0');
    expect(linkTarget(installRoot, 'previous')).toBe('0.1.0');
    for (const f of next.manifest.files) expect(sha(join(installRoot, 'releases/0.2.0', f.path))).toBe(f.sha256);
    expect(JSON.parse(readFileSync(join(installRoot, 'releases/0.2.0/release.json'), 'utf8'))).toEqual(next.signed);
    // The running release's files are the same bytes as before.
    for (const f of old.manifest.files) expect(sha(join(installRoot, 'releases/0.1.0', f.path))).toBe(f.sha256);
    expect(readState(dataDir)?.phase).toBe('restarting');
    expect(published).toBeGreaterThanOrEqual(4);
    expect(u.statusFields().update?.log.length).toBeLessThanOrEqual(20);
    console.log(JSON.stringify({ figure: 'update download+install (1 MiB, one cut)', ms, mibPerS: +(1 / (ms / 1000)).toFixed(1) }));
  });

  it('refuses a tampered file before anything is installed; current untouched', async () => {
    const next = buildRelease(t.dir, { version: '0.2.0', serial: 6, key });
    srv = await serveReleases([old, next], AUTH);
    srv.tamper.add('agent/entry.mjs');
    const u = updater();
    await u.handle(job(next));
    expect(u.state).toMatchObject({ phase: 'failed' });
    expect(u.state?.detail).toMatch(/checksum.*agent\/entry\.mjs/);
    expectUntouched(next);
  });

  it('refuses a replayed older manifest (rollback), an expired one and one signed by an unknown key', async () => {
    const older = buildRelease(t.dir, { version: '0.0.9', serial: 4, key });
    const expired = buildRelease(t.dir, { version: '0.2.0', serial: 6, key, createdAt: Date.now() - 10_000, expiresAt: Date.now() - 1000 });
    const forged = buildRelease(t.dir, { version: '0.3.0', serial: 7, key: releaseKey() });
    srv = await serveReleases([old, older, expired, forged], AUTH);
    for (const [r, reason] of [
      [older, 'rollback'],
      [expired, 'expired'],
      [forged, 'unknown_key'],
    ] as const) {
      const u = updater();
      await u.handle(job(r));
      expect(u.state).toMatchObject({ phase: 'failed' });
      expect(u.state?.detail).toContain(`refused (${reason})`);
      expectUntouched(r);
    }
    // Nothing but the signed release JSON was fetched: no file of a refused release.
    expect(srv.requests.filter((r) => r.path !== 'release.json' && !r.path.endsWith('release.json'))).toEqual([]);
  });

  it('installs an older release only when the signed job allows a downgrade to exactly its serial', async () => {
    const older = buildRelease(t.dir, { version: '0.0.9', serial: 4, key });
    srv = await serveReleases([old, older], AUTH);
    const wrongSerial = updater();
    await wrongSerial.handle({ ...job(older, { allowDowngrade: true }), serial: 3 });
    expect(wrongSerial.state?.detail).toMatch(/wrong_version|rollback/);
    expectUntouched(older);
    const u = updater();
    await u.handle(job(older, { allowDowngrade: true }));
    expect(u.state).toMatchObject({ phase: 'restarting' });
    expect(linkTarget(installRoot, 'current')).toBe('0.0.9');
  });

  it('bounds a file by the manifest size: a server sending more is cut off (endless data)', async () => {
    const next = buildRelease(t.dir, { version: '0.2.0', serial: 6, key });
    srv = await serveReleases([old, next], AUTH);
    srv.extraBytes = 5 * 1024 * 1024;
    const u = updater();
    await u.handle(job(next));
    expect(u.state?.phase).toBe('failed');
    expect(u.state?.detail).toMatch(/manifest/);
    expectUntouched(next);
  });

  it('restarts from zero when the server answers a Range with 200', async () => {
    const next = buildRelease(t.dir, { version: '0.2.0', serial: 6, key, payloadBytes: 512 * 1024 });
    srv = await serveReleases([old, next], AUTH);
    srv.cutOnce.set('agent/payload.bin', 100 * 1024);
    srv.ignoreRange = true;
    const u = updater();
    await u.handle(job(next));
    expect(srv.requests.filter((r) => r.path === 'agent/payload.bin').map((r) => r.status)).toEqual([200, 200]);
    expect(u.state?.phase).toBe('restarting');
    expect(sha(join(installRoot, 'releases/0.2.0/agent/payload.bin'))).toBe(
      next.manifest.files.find((f) => f.path === 'agent/payload.bin')?.sha256,
    );
  });

  it('refuses the update with a clear detail when the agent does not run from an installed release', async () => {
    const next = buildRelease(t.dir, { version: '0.2.0', serial: 6, key });
    srv = await serveReleases([old, next], AUTH);
    const u = updater({ entry: join(t.dir, 'checkout', 'edge-agent', 'src', 'cli.ts') });
    expect(u.running).toBeNull();
    expect(u.statusFields().release).toBeUndefined();
    await u.handle(job(next));
    expect(u.state).toMatchObject({ phase: 'failed' });
    expect(u.state?.detail).toMatch(/not running from an installed release/);
    expectUntouched(next);
  });

  describe('the trial of the new release', () => {
    const switched = async (): Promise<TestRelease> => {
      const next = buildRelease(t.dir, { version: '0.2.0', serial: 6, key });
      srv = await serveReleases([old, next], AUTH);
      await updater().handle(job(next));
      expect(linkTarget(installRoot, 'current')).toBe('0.2.0');
      restarts = [];
      return next;
    };

    it('commits after a healthy window: linked, the cloud answering, no failed decision, the outbox draining', async () => {
      await switched();
      let n = 0;
      const u = updater({
        sample: () => ({ linkOnline: true, cloudMessages: ++n, statusAcks: 0, storageOk: true, scanErrors: 0, outboxDepth: n % 3 }),
      });
      expect(u.running?.version).toBe('0.2.0');
      u.start();
      expect(u.state).toMatchObject({ phase: 'checking_health' });
      await until(() => u.state?.phase === 'done', 'committed', 5000);
      expect(u.statusFields()).toMatchObject({ release: { version: '0.2.0', serial: 6 }, update: { state: 'done', version: '0.2.0' } });
      expect(linkTarget(installRoot, 'current')).toBe('0.2.0');
      expect(restarts).toEqual([]);
      u.stop();
    });

    it('rolls back when the link never comes up in the window, and the old release reports rolled_back with the reason', async () => {
      await switched();
      const u = updater({
        sample: () => ({ linkOnline: false, cloudMessages: 0, statusAcks: 0, storageOk: true, scanErrors: 0, outboxDepth: 7 }),
      });
      u.start();
      await until(() => u.state?.phase === 'rolled_back', 'rolled back', 5000);
      expect(linkTarget(installRoot, 'current')).toBe('0.1.0');
      expect(linkTarget(installRoot, 'previous')).toBe('0.2.0');
      expect(restarts).toEqual([EXIT_RESTART_FOR_UPDATE]);
      const back = updater();
      back.start();
      expect(back.statusFields()).toMatchObject({
        release: { version: '0.1.0', serial: 5 },
        update: { state: 'rolled_back', version: '0.2.0', detail: expect.stringMatching(/no link to the cloud/) },
      });
    });

    it('rolls back when decisions fail or the outbox only grows while connected', async () => {
      await switched();
      let n = 0;
      const u = updater({
        sample: () => ({ linkOnline: true, cloudMessages: ++n, statusAcks: 0, storageOk: true, scanErrors: n > 3 ? 1 : 0, outboxDepth: n }),
      });
      u.start();
      await until(() => u.state?.phase === 'rolled_back', 'rolled back', 5000);
      expect(u.state?.detail).toMatch(/scans failed/);
      expect(u.state?.detail).toMatch(/outbox grew/);
    });

    it('boot-guard: a release that crashes at every start is switched back after the limit, with the reason', async () => {
      await switched();
      for (let i = 1; i <= 3; i++) expect(bootGuard(dataDir, 3)).toEqual({ action: 'counted', boots: i });
      expect(linkTarget(installRoot, 'current')).toBe('0.2.0');
      const r = bootGuard(dataDir, 3);
      expect(r.action).toBe('rolled_back');
      expect(linkTarget(installRoot, 'current')).toBe('0.1.0');
      expect(readState(dataDir)).toMatchObject({
        phase: 'rolled_back',
        detail: expect.stringMatching(/crash loop: 0\.2\.0 started 3 times/),
      });
      // Back on the old release nothing is counted any more.
      expect(bootGuard(dataDir, 3)).toEqual({ action: 'none' });
      const back = updater();
      back.start();
      expect(back.statusFields().update).toMatchObject({ state: 'rolled_back', detail: expect.stringMatching(/crash loop/) });
    });

    it('boot-guard runs as its own process (node boot-guard.ts --config F), as the launcher runs it', async () => {
      await switched();
      const configFile = join(t.dir, 'config.json');
      writeFileSync(configFile, JSON.stringify({ dataDir, update: { bootLimit: 1 } }));
      const run = () =>
        spawnSync(
          process.execPath,
          ['--conditions=source', '--import', 'tsx', join(REPO, 'edge-agent/src/update/boot-guard.ts'), '--config', configFile],
          {
            cwd: REPO,
            encoding: 'utf8',
          },
        );
      const first = run();
      expect(first.status).toBe(0);
      expect(first.stderr).toMatch(/start 1 of the release on trial/);
      const second = run();
      expect(second.stderr).toMatch(/crash loop.*switched back/);
      expect(linkTarget(installRoot, 'current')).toBe('0.1.0');
    });

    it('boot-guard does nothing without a trial, or when current was switched away from the release on trial', async () => {
      expect(bootGuard(dataDir, 3)).toEqual({ action: 'none' });
      await switched();
      writeFileSync(join(t.dir, 'x'), '');
      const { switchLink } = await import('../src/update/state.js');
      switchLink(installRoot, 'current', '0.1.0');
      expect(bootGuard(dataDir, 3)).toEqual({ action: 'none' });
    });
  });
});

describe('update: download planning (pure)', () => {
  it('asks from the partial length, restarts from zero when the file is bigger than the manifest allows', () => {
    expect(rangeStart(0, 10)).toEqual({ start: 0, truncate: false });
    expect(rangeStart(4, 10)).toEqual({ start: 4, truncate: false });
    expect(rangeStart(10, 10)).toBe('complete');
    expect(rangeStart(11, 10)).toEqual({ start: 0, truncate: true });
  });
  it('appends a 206 only from exactly the asked byte and for the manifest size; 200 restarts; 4xx are final', () => {
    expect(responsePlan(206, 'bytes 4-9/10', 4, 10)).toEqual({ mode: 'append' });
    expect(responsePlan(206, 'bytes 3-9/10', 4, 10)).toMatchObject({ retryable: true });
    expect(responsePlan(206, 'bytes 4-19/20', 4, 10)).toMatchObject({ retryable: false });
    expect(responsePlan(200, undefined, 4, 10)).toEqual({ mode: 'restart' });
    expect(responsePlan(404, undefined, 0, 10)).toMatchObject({ retryable: false });
    expect(responsePlan(503, undefined, 0, 10)).toMatchObject({ retryable: true });
  });
  it('gives up after bounded retries when the server is gone', async () => {
    const t = tempDir();
    try {
      await expect(
        download({ url: 'http://127.0.0.1:9/x', dest: join(t.dir, 'x'), size: 10, attempts: 3, backoffMs: 10, idleTimeoutMs: 500 }),
      ).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      t.cleanup();
    }
  });
});

describe('update: the health verdict (pure)', () => {
  const at = (i: number, o: Partial<HealthSample> = {}): HealthSample => ({
    at: i,
    linkOnline: true,
    cloudMessages: 0,
    statusAcks: 0,
    storageOk: true,
    scanErrors: 0,
    outboxDepth: 0,
    ...o,
  });
  it('an idle gate whose cache is current (no cloud message, statuses acknowledged) is healthy', () => {
    const w = new HealthWatch(at(0));
    for (let i = 1; i <= 10; i++) w.add(at(i, { statusAcks: 1 }));
    expect(w.verdict()).toEqual({ healthy: true, reasons: [] });
  });
  it('connected but nothing acknowledged either way is not; a store that failed once in the window is not', () => {
    const silent = new HealthWatch(at(0));
    silent.add(at(1));
    expect(silent.verdict().reasons).toEqual(['connected, but neither a verified message from the cloud nor an acknowledged status']);
    const store = new HealthWatch(at(0));
    store.add(at(1, { statusAcks: 1, storageOk: false }));
    store.add(at(2, { statusAcks: 2 }));
    expect(store.verdict().reasons).toEqual(['the store failed a write during the health window']);
  });
});

describe('update: the restart path of the daemon', () => {
  it('de-energises the relay before anything else, stops, and exits with the update code', async () => {
    const t = tempDir();
    try {
      const { Daemon } = await import('../src/daemon.js');
      const { parseConfig } = await import('../src/config.js');
      const d = new Daemon(
        parseConfig({
          dataDir: join(t.dir, 'data'),
          localPort: 0,
          readers: [{ type: 'simulated', name: 'sim', direction: 'in' }],
          relay: { type: 'simulated', pulseMs: 60_000 },
        }),
        pino({ level: 'silent' }),
      );
      await d.start();
      const exits: number[] = [];
      let activeAtExit: boolean | null = null;
      d.exit = (code) => {
        activeAtExit = d.relay.active;
        exits.push(code);
      };
      d.gate.manualOpen();
      expect(d.relay.active).toBe(true);
      const restarting = d.restartForUpdate(EXIT_RESTART_FOR_UPDATE);
      // Synchronously, before the stop has even begun to await anything.
      expect(d.relay.active).toBe(false);
      await restarting;
      expect(exits).toEqual([EXIT_RESTART_FOR_UPDATE]);
      expect(activeAtExit).toBe(false);
      expect(d.store.db.open).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});
