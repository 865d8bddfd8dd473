/**
 * Issue 16 (fleet health): a guard opens Premises → Fleet health and sees each
 * controller's version and release, its cache seq beside its site's with the
 * lag flagged, a hardware fault, a growing outbox, and the gates never
 * enrolled; the site filter narrows the table. An admin opens a rollout from
 * the fleet's update column and sees each gate's state and the log.
 */
import { uuidv7 } from '@gatehouse/protocol';
import { eq, sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gates, updateJobGates, updateJobs, updateLogs, updatePackages } from '../../src/db/schema.js';
import { stampSite } from '../../src/sync/sequencer.js';
import { addUser, createOrgWithUser, onPostgres, seedTopology } from '../helpers.js';
import { ErrorLog, hasChromium, launchBrowser, newContext, type Stack, shot, signIn, startStack } from './harness.js';

describe.skipIf(!hasChromium && !process.env.CI)(`console: fleet health (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  let stack: Stack;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof createOrgWithUser>>;
  let topo: Awaited<ReturnType<typeof seedTopology>>;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("shows each controller's version, its seq beside the site's with the lag, hardware and outbox badges; filters by site", async () => {
    admin = await createOrgWithUser(stack.app, `fleet-ui-${Date.now()}`, ['OrgAdmin']);
    const guard = await addUser(stack.app, admin.orgId, ['Operator']);
    topo = await seedTopology(stack.app, admin);
    const db = stack.app.ctx.db;
    // The site's changes so far, stamped; the newest written 45 s ago and not yet applied by the turnstile.
    const head = await stampSite(db, topo.site.id);
    expect(head).toBeGreaterThan(1);
    await db.execute(
      sql`update sync_changes set created_at = now() - interval '45 seconds' where site_id = ${topo.site.id} and seq = ${head}`,
    );
    // As its last status left the row (the status ingestion itself is fleet.test.ts's).
    await db
      .update(gates)
      .set({
        deviceId: `dev-${topo.gate.id.slice(-8)}`,
        online: true,
        lastSeenAt: new Date(),
        version: '0.2.0',
        releaseSerial: 7,
        cacheSeq: head - 1,
        outboxDepth: 42,
        outboxAlarmAt: new Date(),
        clockSkewMs: -300,
        hardware: [
          { name: 'qr-1', type: 'serial-qr', healthy: true },
          { name: 'wiegand-1', type: 'wiegand', healthy: false, detail: 'no frames for 60 s' },
        ],
      })
      .where(eq(gates.id, topo.gate.id));
    const post = async (url: string, payload: object) =>
      (await stack.app.inject({ method: 'POST', url, headers: admin.auth, payload })).json() as { id: string };
    const depot = await post('/api/admin/sites', { name: 'Depot', timezone: 'UTC' });
    const dock = await post('/api/admin/zones', { siteId: depot.id, name: 'Dock' });
    await post('/api/admin/gates', { siteId: depot.id, zoneId: dock.id, name: 'Dock door', direction: 'both' });

    const ctx = await newContext(browser);
    const errors = new ErrorLog();
    const page = errors.attach(await ctx.newPage());
    await page.goto(`${stack.url}/#/fleet`);
    await signIn(page, guard);
    await page.getByRole('heading', { name: 'Fleet health' }).waitFor();
    const row = (gateId: string) => page.locator(`tr[data-gate-id="${gateId}"]`);
    const turnstile = row(topo.gate.id);
    await turnstile.waitFor();
    expect(await turnstile.locator('[data-col="version"]').textContent()).toContain('0.2.0');
    expect(await turnstile.locator('[data-col="version"]').textContent()).toContain('release #7');
    const sync = turnstile.locator('[data-col="sync"]');
    expect(await sync.textContent()).toContain(`${head - 1} / ${head}`);
    // 45 s behind, past the 30 s a revocation may take: flagged.
    const behind = /^1 change behind · ([0-9]+) s$/.exec((await sync.locator('.badge.warn').textContent()) ?? '');
    expect(Number(behind?.[1])).toBeGreaterThanOrEqual(45);
    expect(await turnstile.locator('[data-col="link"]').textContent()).toContain('online');
    expect(await turnstile.locator('[data-col="outbox"]').textContent()).toBe('42growing');
    expect(await turnstile.locator('[data-col="hardware"] .badge.deny').textContent()).toBe('wiegand-1');
    expect(await turnstile.locator('[data-col="clock"]').textContent()).toBe('-0.3 s');
    expect(await turnstile.getAttribute('class')).toBe('attention');
    // Never enrolled: no lag, no verdict, no attention.
    const server = row(topo.serverGate.id);
    expect(await server.locator('[data-col="link"]').textContent()).toContain('not enrolled');
    expect(await server.getAttribute('class')).toBeNull();
    await shot(page, 'fleet-health');

    await page.getByLabel('Site').selectOption({ label: 'Depot' });
    await expect.poll(() => page.locator('tr[data-gate-id]').count()).toBe(1);
    expect(await page.locator('tr[data-gate-id]').textContent()).toContain('Dock door');
    expect(errors.entries).toEqual([]);
    await ctx.close();
  }, 90_000);

  it("opens a rollout from the fleet's update column: each gate's stage and state, and the log; pause, cancel, a new rollout with a canary", async () => {
    const db = stack.app.ctx.db;
    // A rollout as the Update Manager leaves it mid-way (its engine and API are tested in updates-rollout.test.ts):
    // the canary checking its health after the restart, the other gate waiting for the canary.
    const packageId = uuidv7();
    const jobId = uuidv7();
    await db.insert(updatePackages).values({
      id: packageId,
      version: '0.3.0',
      serial: 3,
      channel: 'stable',
      kid: '0123abcd',
      signed: { kid: '0123abcd', payload: 'e30=', sig: 'AA==' },
      manifest: { version: '0.3.0', minCloudVersion: '0.1.0' },
      notes: 'faster sync',
      status: 'ready',
      totalBytes: 1000,
      expiresAt: new Date(Date.now() + 30 * 86_400_000),
      publishedAt: new Date(),
    });
    await db.insert(updateJobs).values({
      id: jobId,
      orgId: admin.orgId,
      packageId,
      scope: { fleet: false, siteIds: [topo.site.id] },
      strategy: {
        canaryGateIds: [topo.gate.id],
        canaryPercent: 0,
        batchSize: null,
        batchPercent: 100,
        healthWindowS: 60,
        failureThreshold: 0,
        deliveryTtlS: 3600,
        installTimeoutS: 900,
      },
      state: 'running',
      stage: 'canary',
      startAt: new Date(),
    });
    await db.insert(updateJobGates).values([
      {
        id: uuidv7(),
        orgId: admin.orgId,
        jobId,
        gateId: topo.gate.id,
        siteId: topo.site.id,
        canary: true,
        batch: 0,
        state: 'checking_health',
        fromVersion: '0.2.0',
        reportedAt: new Date(),
      },
      {
        id: uuidv7(),
        orgId: admin.orgId,
        jobId,
        gateId: topo.serverGate.id,
        siteId: topo.site.id,
        canary: false,
        batch: 1,
        state: 'pending',
      },
    ]);
    await db.insert(updateLogs).values([
      { orgId: admin.orgId, jobId, message: 'canary stage: 1 gate' },
      { orgId: admin.orgId, jobId, gateId: topo.gate.id, message: 'edge: verified 2 files, sha256 ok' },
    ]);

    const ctx = await newContext(browser);
    const errors = new ErrorLog();
    const page = errors.attach(await ctx.newPage());
    await page.goto(`${stack.url}/#/fleet`);
    await signIn(page, admin);
    const update = page.locator(`tr[data-gate-id="${topo.gate.id}"] [data-col="update"]`);
    await expect.poll(() => update.textContent()).toContain('checking health');
    expect(await update.textContent()).toContain('0.3.0');
    await update.getByRole('link', { name: '0.3.0' }).click();

    await page.getByRole('heading', { name: 'Rollout of 0.3.0' }).waitFor();
    const gateRow = (id: string) => page.getByTestId('job-gates').locator(`tr[data-gate-id="${id}"]`);
    await gateRow(topo.gate.id).waitFor();
    expect(await gateRow(topo.gate.id).textContent()).toContain('canary');
    expect(await gateRow(topo.gate.id).locator('[data-col="state"]').textContent()).toBe('checking health');
    expect(await gateRow(topo.serverGate.id).locator('[data-col="state"]').textContent()).toBe('pending');
    expect(await gateRow(topo.serverGate.id).textContent()).toContain('batch 1');
    expect(await page.getByTestId('job-state').textContent()).toContain('running');
    await expect.poll(() => page.getByTestId('job-log').textContent()).toContain('[Turnstile 1] edge: verified 2 files, sha256 ok');
    for (const name of ['Pause', 'Postpone', 'Cancel rollout']) expect(await page.getByRole('button', { name }).count()).toBe(1);
    await shot(page, 'update-rollout');

    // Paused from the page: the rollout says so, and Resume replaces Pause.
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.getByTestId('job-state').textContent()).toContain('paused');
    await page.getByRole('button', { name: 'Resume' }).waitFor();

    // Cancelled, then a new rollout of the release from the updates screen, the turnstile as its canary.
    await page.getByRole('button', { name: 'Cancel rollout' }).click();
    await expect.poll(() => page.getByTestId('job-state').textContent()).toContain('cancelled');
    await page.getByRole('link', { name: '← All rollouts' }).click();
    await page.getByRole('heading', { name: 'Controller updates' }).waitFor();
    await page.getByTestId('releases').getByRole('button', { name: 'Roll out…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Gates', { exact: true }).selectOption({ label: 'HQ' });
    await dialog.getByLabel('Canary gate', { exact: true }).selectOption({ label: 'Turnstile 1' });
    await dialog.getByRole('button', { name: 'Start rollout' }).click();
    await page.getByRole('heading', { name: 'Rollout of 0.3.0' }).waitFor();
    await expect.poll(() => page.url()).not.toContain(jobId);
    const canary = page.getByTestId('job-gates').locator(`tr[data-gate-id="${topo.gate.id}"]`);
    await canary.waitFor();
    expect(await canary.textContent()).toContain('canary');
    // Only enrolled gates are in a rollout: the server room's door has no controller.
    expect(await page.getByTestId('job-gates').locator('tr[data-gate-id]').count()).toBe(1);
    expect(errors.entries).toEqual([]);
    await ctx.close();
  }, 120_000);
});
