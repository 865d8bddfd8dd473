/**
 * Issue 15: a guard whose cloud reports a dependency down sees a banner that
 * says which and what still works, over the screen they were on (not a
 * blank page); it goes away when /api/internal/ready is ready again.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, createOrgWithUser, onPostgres } from '../helpers.js';
import { ErrorLog, hasChromium, launchBrowser, newContext, type Stack, signIn, startStack } from './harness.js';

describe.skipIf(!hasChromium && !process.env.CI)(`console: the dependency banner (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('a broker reported down shows the banner on the guard view; ready again, it is gone', async () => {
    const admin = await createOrgWithUser(stack.app, `banner-${Date.now()}`, ['OrgAdmin']);
    const guard = await addUser(stack.app, admin.orgId, ['Operator']);
    const ctx = await newContext(browser);
    const errors = new ErrorLog();
    const page = errors.attach(await ctx.newPage());
    // The real cloud is ready (its embedded broker is up): it answers as a cloud whose broker went away would.
    let degraded = true;
    await page.route('**/api/internal/ready', async (route) => {
      if (!degraded) return route.fallback();
      await route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ status: 'not_ready', database: 'postgres', broker: 'unavailable', jobs: 'started' }),
      });
    });
    await page.goto(`${stack.url}/#/guard`);
    await signIn(page, guard);
    const banner = page.getByTestId('dependency-banner');
    await banner.getByText('The link to the gates is down').waitFor({ timeout: 15_000 });
    expect(await banner.getByText('The database is unreachable').count()).toBe(0);
    // The screen under it still renders.
    await page.locator('main h1').first().waitFor();
    degraded = false;
    const ready = page.waitForResponse((r) => r.url().endsWith('/api/internal/ready') && r.status() === 200, { timeout: 15_000 });
    await page.reload();
    await ready;
    await page.locator('main h1').first().waitFor();
    await banner.waitFor({ state: 'detached', timeout: 5_000 });
    // The browser itself logs the 503 it was given; nothing else went wrong.
    expect(errors.take((e) => e.includes('status of 503')).length).toBeGreaterThan(0);
    expect(errors.entries).toEqual([]);
    await ctx.close();
  }, 60_000);
});
