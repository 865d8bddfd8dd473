/**
 * Messages and organisation settings in a real Chromium against a real cloud
 * (issue 12, notifications): an OrgAdmin sends a test e-mail from the console,
 * sees it "sent" in the log, opens it in the development mailbox (the HTML in
 * a sandboxed frame), edits a template with the live preview, saves and
 * resets it, and changes the organisation's brand colour.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgWithUser, type Login } from '../helpers.js';
import { ErrorLog, hasChromium, launchBrowser, newContext, type Stack, shot, signIn, startStack, stepsInOrder } from './harness.js';

describe.skipIf(!hasChromium && !process.env.CI)('messages and settings in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let admin: Login;
  const errors = new ErrorLog();

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
    admin = await createOrgWithUser(stack.app, 'Messages Browser Org', ['OrgAdmin']);
    ctx = await newContext(browser);
    page = errors.attach(await ctx.newPage());
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  stepsInOrder();

  const main = () => page.locator('main');

  it('an admin signs in and opens Messages', async () => {
    await page.goto(stack.url);
    await signIn(page, admin);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Messages', exact: true }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Messages', level: 1 }).isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => main().getByText('No messages yet.').isVisible()).toBe(true);
  });

  it('sends a test e-mail and sees it sent in the log, the address masked', async () => {
    await main().getByText('Send a test message').click();
    await main().getByLabel('To', { exact: true }).fill('browser.test@example.org');
    await main().getByRole('button', { name: 'Send test' }).click();
    await expect.poll(() => main().getByText('Test message queued').isVisible()).toBe(true);
    const row = main().locator('tbody tr', { hasText: 'Test message' });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.textContent()).toContain('b***@e***.org');
    expect(await row.textContent()).not.toContain('browser.test');
    // The log does not refresh itself: a reload of the page shows the delivered state.
    await expect
      .poll(
        async () => {
          await page.reload();
          return main().locator('tbody tr[data-status="sent"]').count();
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toBe(1);
  });

  it('opens the message in the development mailbox, its HTML sandboxed', async () => {
    await main().getByRole('link', { name: 'Development mailbox' }).click();
    await main().getByRole('link', { name: 'Test message from Messages Browser Org' }).click();
    const frame = main().locator('iframe');
    await expect.poll(() => frame.count()).toBe(1);
    expect(await frame.getAttribute('sandbox')).toBe('');
    expect(await frame.getAttribute('srcdoc')).toContain('Messages Browser Org');
    expect(await main().locator('pre').textContent()).toContain('this channel works');
    await shot(page, 'messages-mailbox');
  });

  it('edits a template with a live preview, saves and resets it', async () => {
    await main().getByRole('link', { name: 'Back to the mailbox' }).click();
    await main().getByRole('link', { name: 'Templates' }).click();
    await main().getByLabel('Message', { exact: true }).selectOption('test');
    await main().getByLabel('Language', { exact: true }).selectOption('en');
    const subject = main().getByLabel('Subject');
    await expect.poll(() => subject.inputValue()).toBe('Test message from {{orgName}}');
    await subject.fill('Hello from {{orgName}}!');
    await expect.poll(() => main().locator('.preview strong').textContent(), { timeout: 10_000 }).toBe('Hello from Messages Browser Org!');
    await main().getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => main().getByText('Saved.').isVisible()).toBe(true);
    await expect.poll(() => main().getByText('Customised').isVisible()).toBe(true);
    // An unknown placeholder: the preview says which.
    await subject.fill('Hi {{nobody}}');
    await expect.poll(() => main().getByRole('alert').textContent(), { timeout: 10_000 }).toContain('nobody');
    errors.take((e) => e.includes('422') || e.includes('Unprocessable'));
    await main().getByRole('button', { name: 'Reset to default' }).click();
    await expect.poll(() => subject.inputValue()).toBe('Test message from {{orgName}}');
    await shot(page, 'messages-templates');
  });

  it('changes the brand colour in the organisation settings', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Organisation settings' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Organisation settings', level: 1 }).isVisible()).toBe(true);
    await main().getByLabel('Brand colour').fill('red');
    await main().getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => main().getByText('Must look like #1f6feb').isVisible()).toBe(true);
    await main().getByLabel('Brand colour').fill('#aa3300');
    await main().getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => main().getByText('Settings saved.').isVisible()).toBe(true);
    const s = (await stack.app.inject({ method: 'GET', url: '/api/admin/org-settings', headers: admin.auth })).json() as {
      brandColor: string;
    };
    expect(s.brandColor).toBe('#aa3300');
    await shot(page, 'org-settings');
  });

  it('logged no errors', () => {
    expect(errors.entries).toEqual([]);
  });
});
