/**
 * Issue 16 with real processes: an installed release under the supervisor
 * (test/supervisor.ts: Restart=always, boot-guard before each start), a real
 * pty, a signed update command over MQTT. The figures are bench:update-gap's;
 * here only what must hold: every scan read is decided and reaches the
 * cloud, the switch happens and the new release commits, within generous
 * bounds; and a release that crashes at every start is switched back by
 * boot-guard, the old release reporting why.
 */
import { join } from 'node:path';
import { signingKey, uuidv7 } from '@gatehouse/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { linkTarget } from '../src/update/state.js';
import { makeFixture } from './fixtures.js';
import { hasSocat, until, writeConfig } from './harness.js';
import { agentBundle, buildRelease, installFirst, linkNodeModules, releaseKey, serveReleases } from './release-fixture.js';
import { Supervisor } from './supervisor.js';
import { tempDir } from './tmp.js';
import { startMiniCloud } from './update-cloud.js';
import { runUpdateGap } from './update-gap.js';

describe.skipIf(!hasSocat)('update under a supervisor (real processes, real pty)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  it('switches to the new release with no decided scan lost; scans are unread only during the restart', { timeout: 180_000 }, async () => {
    const r = await runUpdateGap({ intervalMs: 40, healthWindowS: 10, payloadBytes: 1024 * 1024 });
    console.log(JSON.stringify({ figure: 'update scan gap (test, generous bound)', ...r }));
    expect(r.updateStates.slice(-3, -1)).toEqual(['checking_health', 'done']);
    expect(r.updateStates).toContain('restarting');
    expect(r.lostWhileReading).toBe(0);
    // boot-guard ran once for the new release (the supervisor's); the guard inlined in the agent's bundle did not.
    expect(r.trialBoots).toBe(1);
    expect(r.pulsesWithoutEvent).toBe(0);
    expect(r.decided).toBeGreaterThan(r.scans / 3);
    // Generous: the target (< 5 s) is the bench's; a loaded CI machine must not fail on it.
    expect(r.readerDownMs).toBeGreaterThan(0);
    expect(r.readerDownMs).toBeLessThan(30_000);
  });

  it('boot-guard switches a release that crashes at every start back after 3 starts; the old release reports rolled_back', {
    timeout: 180_000,
  }, async () => {
    const t = tempDir('gh-update-crash-');
    cleanup.push(() => t.cleanup());
    const fx = makeFixture();
    const DEV = 'dev-crash';
    const AUTH = { username: DEV, password: 'dev-pw' };
    const key = releaseKey();
    const installRoot = join(t.dir, 'opt');
    const dataDir = join(t.dir, 'data');
    linkNodeModules(t.dir);
    const old = buildRelease(t.dir, { version: '0.1.0', serial: 5, key, entryCode: await agentBundle() });
    const bad = buildRelease(t.dir, { version: '0.2.0', serial: 6, key, entryCode: "throw new Error('release 0.2.0 is broken');\n" });
    installFirst(installRoot, old);
    const cloud = await startMiniCloud({ deviceId: DEV, orgId: 'org-1', key: signingKey(fx.key.privateKey) });
    cleanup.push(() => cloud.close());
    const srv = await serveReleases([old, bad], AUTH);
    cleanup.push(() => srv.close());
    const config = writeConfig(t.dir, {
      dataDir,
      localPort: 0,
      readers: [{ type: 'simulated', direction: 'in' }],
      relay: { type: 'simulated' },
      deviceId: DEV,
      orgId: 'org-1',
      gateId: 'gate-1',
      orgPublicKey: fx.key.publicKey,
      mqtt: { url: cloud.url, ...AUTH },
      update: { installRoot, bootLimit: 3 },
    });
    const sup = new Supervisor({ installRoot, configFile: config, dataDir, bootLimit: 3, nodeArgs: [] });
    cleanup.push(() => sup.stop());
    sup.start();
    await until(() => cloud.statuses.some((s) => s.status.state === 'online'), 'the old release online', 30_000);
    const jobId = uuidv7();
    await cloud.sendUpdate({ jobId, url: srv.url(bad), version: '0.2.0', serial: 6, allowDowngrade: false, healthWindowS: 10 });
    const back = await until(
      () =>
        cloud.statuses.find(
          (s) => s.status.update?.jobId === jobId && s.status.update.state === 'rolled_back' && s.status.state === 'online',
        ),
      'rolled_back reported by the old release',
      90_000,
    );
    expect(back.status.release).toEqual({ version: '0.1.0', serial: 5 });
    expect(back.status.update?.detail).toMatch(/crash loop: 0\.2\.0 started 3 times/);
    expect(linkTarget(installRoot, 'current')).toBe('0.1.0');
    expect(linkTarget(installRoot, 'previous')).toBe('0.2.0');
    const onBad = sup.starts.filter((s) => s.release === '0.2.0');
    expect(onBad).toHaveLength(3);
    expect(onBad.every((s) => s.exit && s.exit.code !== 0)).toBe(true);
    expect(sup.starts.at(-1)).toMatchObject({ release: '0.1.0', guard: { action: 'rolled_back' } });
  });
});
