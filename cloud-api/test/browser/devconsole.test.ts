/**
 * The developer console in a real Chromium against a real cloud (issue 13):
 * an OrgAdmin creates an application and a key (shown once, then only its
 * prefix), the test uses the key against the API, revokes it in the console
 * (then 401); creates a webhook to a receiver the test runs, sends a test
 * event and sees it delivered and verified with the `standardwebhooks`
 * package; a failing receiver makes a delivery dead, and Redeliver delivers
 * it once the receiver is fixed. A Developer sees the console but not the
 * administration screens; a Host does not see it at all. The same screens in
 * Russian show none of the English texts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, createOrgWithUser, type Login } from '../helpers.js';
import { startWebhookReceiver, type WebhookReceiver } from '../stand-ins/webhook-receiver.js';
import {
  ErrorLog,
  hasChromium,
  launchBrowser,
  newContext,
  repoRoot,
  type Stack,
  shot,
  signIn,
  startStack,
  stepsInOrder,
} from './harness.js';

/** Every English text of the console's developer namespace (the part before any placeholder), with its Russian one. */
function englishTexts(): string[] {
  const dir = join(repoRoot, 'cloud-api/console/src/i18n/locales');
  type Tree = { [k: string]: string | Tree };
  const flat = (t: Tree, p = ''): Map<string, string> => {
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(t)) {
      const key = p ? `${p}.${k}` : k;
      if (typeof v === 'string') out.set(key, v);
      else for (const [kk, vv] of flat(v, key)) out.set(kk, vv);
    }
    return out;
  };
  const en = flat(JSON.parse(readFileSync(join(dir, 'en/devconsole.json'), 'utf8')) as Tree);
  const ru = flat(JSON.parse(readFileSync(join(dir, 'ru/devconsole.json'), 'utf8')) as Tree);
  const out: string[] = [];
  for (const [k, v] of en) {
    const head = (v.split('{{')[0] ?? '').trim();
    // Short words ("live", "Key") and lowercase single words ("visitors") are also parts of identifiers shown as
    // they are (scopes such as visitors:read, event types); "Webhooks" is in the specification's name, Standard Webhooks.
    if (head.length >= 8 && head !== ru.get(k) && !/^[a-z-]+$/.test(head) && head !== 'Webhooks') out.push(head);
  }
  return out;
}

describe.skipIf(!hasChromium && !process.env.CI)('developer console in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let admin: Login;
  let receiver: WebhookReceiver;
  let appId = '';
  let key = '';
  let secret = '';
  const errors = new ErrorLog();

  beforeAll(async () => {
    [stack, browser, receiver] = await Promise.all([startStack(), launchBrowser(), startWebhookReceiver()]);
    admin = await createOrgWithUser(stack.app, 'Devconsole Browser Org', ['OrgAdmin']);
    ctx = await newContext(browser);
    page = errors.attach(await ctx.newPage());
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await receiver?.close();
  });

  stepsInOrder();

  const main = () => page.locator('main');
  const dialog = () => page.locator('dialog[open]');
  const withKey = (k: string, path: string) => fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${k}` } });

  it('an admin opens the developer console from the navigation and creates an application', async () => {
    await page.goto(stack.url);
    await signIn(page, admin);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Developer console', exact: true }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Developer console', level: 1 }).isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => main().getByText('No applications yet.').isVisible()).toBe(true);
    await main().getByRole('button', { name: 'New application' }).click();
    await dialog().getByLabel('Name *').fill('Building CRM');
    await dialog().getByLabel('Description').fill('Books visits from the CRM');
    await dialog().getByRole('button', { name: 'Create application' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Building CRM', level: 1 }).isVisible()).toBe(true);
    appId = /#\/devconsole\/apps\/([0-9a-f-]{36})/.exec(page.url())?.[1] ?? '';
    expect(appId).not.toBe('');
    expect(await main().getByText('live', { exact: true }).isVisible()).toBe(true);
    await main().getByRole('button', { name: 'Edit' }).click();
    await dialog().getByLabel('Description').fill('Books visits from the building CRM');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => main().getByText('Books visits from the building CRM').isVisible()).toBe(true);
  });

  it('creates a key: shown once with a warning, then only its prefix', async () => {
    await main().getByRole('button', { name: 'New key' }).click();
    const d = dialog();
    await d.getByRole('checkbox', { name: 'passes:read' }).check();
    await d.getByRole('checkbox', { name: 'visitors:read' }).check();
    await d.getByLabel('Requests per minute').fill('120');
    // Scopes are grouped by area.
    expect(await d.getByRole('group', { name: 'Passes' }).getByRole('checkbox').count()).toBeGreaterThanOrEqual(4);
    await d.getByRole('button', { name: 'Create key' }).click();
    const shown = page.locator('dialog[open] input[data-secret]');
    await expect.poll(() => shown.count()).toBe(1);
    key = await shown.inputValue();
    expect(key).toMatch(/^ghk_live_[0-9A-Za-z]{38}$/);
    expect(await dialog().getByText('shown only once').isVisible()).toBe(true);
    await shot(page, 'devconsole-key-shown');
    await dialog().getByRole('button', { name: 'I have copied it' }).click();
    const row = main().locator('tbody tr[data-status="active"]');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain(key.slice(0, 13));
    expect(await row.textContent()).toContain('120');
    // Once closed, the key is nowhere on the page, not even after a reload.
    expect(await page.content()).not.toContain(key);
    await page.reload();
    await expect.poll(() => main().locator('tbody tr[data-status="active"]').count()).toBe(1);
    expect(await page.content()).not.toContain(key);
  });

  it('the key works against the API, within its scopes', async () => {
    const ok = await withKey(key, '/api/admin/passes');
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { items: unknown[] }).items).toEqual([]);
    // No scope for sites.
    expect((await withKey(key, '/api/admin/sites')).status).toBe(403);
  });

  it('revoking the key in the console makes it answer 401', async () => {
    const row = main().locator('tbody tr[data-status="active"]');
    await row.getByRole('button', { name: 'Revoke' }).click();
    expect(
      await dialog()
        .getByText(`Revoke ${key.slice(0, 13)}`)
        .isVisible(),
    ).toBe(true);
    await dialog().getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => main().getByText('Key revoked.').isVisible()).toBe(true);
    await expect.poll(() => main().locator('tbody tr[data-status="revoked"]').count()).toBe(1);
    expect((await withKey(key, '/api/admin/passes')).status).toBe(401);
  });

  it('rotating a key shows the new one once; the old one keeps working through the grace period', async () => {
    await main().getByRole('button', { name: 'New key' }).click();
    await dialog().getByRole('checkbox', { name: 'passes:read' }).check();
    await dialog().getByRole('button', { name: 'Create key' }).click();
    const shown = page.locator('dialog[open] input[data-secret]');
    await expect.poll(() => shown.count()).toBe(1);
    const old = await shown.inputValue();
    await dialog().getByRole('button', { name: 'I have copied it' }).click();
    await main().locator('tbody tr[data-status="active"]').getByRole('button', { name: 'Rotate' }).click();
    await dialog().getByLabel('Grace period').selectOption({ label: '1 hour' });
    await dialog().getByRole('button', { name: 'Rotate' }).click();
    await expect.poll(() => shown.count()).toBe(1);
    const fresh = await shown.inputValue();
    expect(fresh).toMatch(/^ghk_live_/);
    expect(fresh).not.toBe(old);
    await dialog().getByRole('button', { name: 'I have copied it' }).click();
    const expiring = main().locator('tbody tr[data-status="expiring"]');
    await expect.poll(() => expiring.count()).toBe(1);
    expect(await expiring.textContent()).toContain(old.slice(0, 13));
    expect(await main().locator('tbody tr[data-status="active"]').textContent()).toContain(fresh.slice(0, 13));
    expect((await withKey(old, '/api/admin/passes')).status).toBe(200);
    expect((await withKey(fresh, '/api/admin/passes')).status).toBe(200);
  });

  it('shows the key’s calls in the usage tab', async () => {
    await main().getByRole('link', { name: 'Usage' }).click();
    await expect
      .poll(
        async () => {
          await page.reload();
          return Number((await main().locator('[data-usage="calls"]').textContent({ timeout: 5_000 })) ?? 0);
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toBeGreaterThanOrEqual(2);
    expect(Number(await main().locator('[data-usage="errors"]').textContent())).toBeGreaterThanOrEqual(1);
    await shot(page, 'devconsole-usage');
  });

  it('creates a webhook to the test receiver: the secret shown once', async () => {
    await main().getByRole('link', { name: 'Webhooks' }).click();
    await main().getByRole('button', { name: 'New webhook' }).click();
    const d = dialog();
    await d.getByLabel('Endpoint URL *').fill(receiver.url());
    await d.getByLabel('Description').fill('CRM receiver');
    // The events come from the server's catalogue.
    await d.getByRole('checkbox', { name: /visitpass\.issued/ }).check();
    await d.getByRole('checkbox', { name: /visitpass\.checked_in/ }).check();
    await d.getByRole('button', { name: 'Create webhook' }).click();
    const shown = page.locator('dialog[open] input[data-secret]');
    await expect.poll(() => shown.count()).toBe(1);
    secret = await shown.inputValue();
    receiver.secrets.set('/hook', secret);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    await dialog().getByRole('button', { name: 'I have copied it' }).click();
    const row = main().locator('tbody tr[data-status="active"]');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain(receiver.url());
    expect(await page.content()).not.toContain(secret);
  });

  it('sends a test event: delivered, and the receiver verifies it with standardwebhooks', async () => {
    await main().getByRole('link', { name: 'Deliveries' }).click();
    await expect.poll(() => main().getByText('No deliveries yet.').isVisible()).toBe(true);
    await main().getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => main().getByText('Test event queued').isVisible()).toBe(true);
    // The log looks again by itself while a delivery is in flight.
    await expect.poll(() => main().locator('tbody tr[data-status="delivered"]').count(), { timeout: 20_000 }).toBe(1);
    const row = main().locator('tbody tr[data-status="delivered"]');
    expect(await row.textContent()).toContain('webhook.test');
    expect(await row.textContent()).toContain('204');
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.verified).toMatchObject({ ok: true, payload: { type: 'webhook.test' } });
    // Its payload opens in a dialog.
    await row.getByRole('button', { name: 'View' }).click();
    await expect.poll(() => dialog().locator('[data-payload]').count()).toBe(1);
    expect(await dialog().locator('[data-payload]').textContent()).toContain('"webhook.test"');
    await dialog().getByRole('button', { name: 'Close' }).click();
  });

  it('a failing receiver makes a delivery dead; fixed, Redeliver delivers it', async () => {
    receiver.answer = () => 500;
    const before = receiver.received.length;
    await main().getByRole('button', { name: 'Send test event' }).click();
    // testConfig: 2 retries a second or two apart, then dead.
    await expect.poll(() => main().locator('tbody tr[data-status="dead"]').count(), { timeout: 30_000, interval: 500 }).toBe(1);
    const dead = main().locator('tbody tr[data-status="dead"]');
    expect(await dead.textContent()).toContain('500');
    expect(receiver.received.length - before).toBe(3);
    await expect.poll(() => main().getByText('Every delivery has failed since').isVisible(), { timeout: 15_000 }).toBe(true);
    // The filter shows only the dead one.
    await main().getByLabel('Status').selectOption('dead');
    await expect.poll(() => main().locator('tbody tr').count()).toBe(1);
    await main().getByLabel('Status').selectOption('');
    await shot(page, 'devconsole-deliveries-dead');

    receiver.answer = () => 204;
    const id = await dead.getAttribute('data-delivery');
    await dead.getByRole('button', { name: 'Redeliver' }).click();
    await expect.poll(() => main().getByText('Queued for delivery again.').isVisible()).toBe(true);
    await expect
      .poll(() => main().locator(`tbody tr[data-delivery="${id}"]`).getAttribute('data-status'), { timeout: 20_000 })
      .toBe('delivered');
    const last = receiver.received.at(-1)!;
    // The same webhook-id on the redelivery as on the failed attempts: receivers deduplicate on it.
    expect(last.headers['webhook-id']).toBe(receiver.received[before]!.headers['webhook-id']);
    expect(last.verified).toMatchObject({ ok: true, payload: { type: 'webhook.test' } });
    await shot(page, 'devconsole-deliveries');
  });

  it('disables the endpoint and enables it again', async () => {
    await main().getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => main().getByText('Webhook disabled.').isVisible()).toBe(true);
    await expect.poll(() => main().locator('.page-head').getByText('disabled', { exact: true }).isVisible()).toBe(true);
    // A disabled endpoint gets no test event.
    await expect.poll(() => main().getByRole('button', { name: 'Send test event' }).isDisabled()).toBe(true);
    await main().getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => main().getByText('Webhook enabled.').isVisible()).toBe(true);
    await expect.poll(() => main().getByRole('button', { name: 'Send test event' }).isEnabled()).toBe(true);
  });

  it('a sandbox application shows how to simulate a scan with its key', async () => {
    await page.goto(`${stack.url}/#/devconsole`);
    await main().getByRole('button', { name: 'New application' }).click();
    await dialog().getByLabel('Name *').fill('Try-out');
    await dialog().getByLabel('Sandbox').check();
    await dialog().getByRole('button', { name: 'Create application' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Try-out', level: 1 }).isVisible(), { timeout: 15_000 }).toBe(true);
    await main().getByRole('link', { name: 'Sandbox' }).click();
    const scan = main().locator('[data-snippet="scan"]');
    await expect.poll(() => scan.count()).toBe(1);
    expect(await scan.textContent()).toContain(`${stack.url}/api/admin/sandbox/scan`);
    // A sandbox key may have any scope: none is greyed out.
    await main().getByRole('link', { name: 'API keys' }).click();
    await main().getByRole('button', { name: 'New key' }).click();
    expect(await dialog().locator('input[type="checkbox"]:disabled').count()).toBe(0);
    await dialog().getByRole('button', { name: 'Cancel' }).click();
  });

  it('a Developer sees the developer console but not the administration screens', async () => {
    const dev = await addUser(stack.app, admin.orgId, ['Developer']);
    const c = await newContext(browser);
    try {
      const p = errors.attach(await c.newPage());
      await p.goto(stack.url);
      await signIn(p, dev);
      const nav = p.getByRole('navigation', { name: 'Main' });
      await expect
        .poll(() => nav.getByRole('link', { name: 'Developer console', exact: true }).isVisible(), { timeout: 10_000 })
        .toBe(true);
      for (const hidden of ['Users and roles', 'Audit log', 'Background jobs', 'Messages', 'Organisation settings', 'Passes'])
        expect(await nav.getByRole('link', { name: hidden, exact: true }).count(), hidden).toBe(0);
      await nav.getByRole('link', { name: 'Developer console', exact: true }).click();
      await p.getByRole('link', { name: 'Building CRM' }).click();
      await p.getByRole('button', { name: 'New key' }).click();
      // A live application's key can do no more than its maker: what a Developer lacks is greyed out.
      const d = p.locator('dialog[open]');
      expect(await d.getByRole('checkbox', { name: 'gates:read' }).isEnabled()).toBe(true);
      expect(await d.getByRole('checkbox', { name: 'passes:issue' }).isDisabled()).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('a Host does not see the developer console, nor reach it by its address', async () => {
    const host = await addUser(stack.app, admin.orgId, ['Host']);
    const c = await newContext(browser);
    try {
      const p = errors.attach(await c.newPage());
      await p.goto(stack.url);
      await signIn(p, host);
      const nav = p.getByRole('navigation', { name: 'Main' });
      await expect.poll(() => nav.getByRole('link', { name: 'My visits', exact: true }).isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await nav.getByRole('link', { name: 'Developer console', exact: true }).count()).toBe(0);
      await p.goto(`${stack.url}/#/devconsole`);
      await expect.poll(() => p.getByText('No such page.').isVisible()).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('in Russian, none of the developer console’s English texts remain', async () => {
    const english = englishTexts();
    expect(english.length).toBeGreaterThan(50);
    const leftovers = async (where: string) => {
      const text = (await page.locator('body').textContent()) ?? '';
      return english.filter((e) => text.includes(e)).map((e) => `${where}: ${e}`);
    };
    await page.goto(`${stack.url}/#/devconsole`);
    await page.getByRole('group', { name: 'Language' }).getByRole('button', { name: 'RU' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Консоль разработчика', level: 1 }).isVisible()).toBe(true);
    const found: string[] = [...(await leftovers('list'))];
    const base = `${stack.url}/#/devconsole/apps/${appId}`;
    for (const tab of ['keys', 'webhooks', 'usage', 'sandbox', 'docs']) {
      await page.goto(`${base}/${tab}`);
      await main().locator('.tabs').waitFor();
      await page.waitForLoadState('networkidle');
      found.push(...(await leftovers(tab)));
    }
    await page.goto(`${base}/keys`);
    await main().getByRole('button', { name: 'Новый ключ' }).click();
    found.push(...(await leftovers('new key')));
    await page.keyboard.press('Escape');
    await page.goto(`${base}/webhooks`);
    await main().getByRole('link', { name: 'Доставки' }).click();
    await expect.poll(() => main().locator('tbody tr').count()).toBeGreaterThanOrEqual(2);
    found.push(...(await leftovers('deliveries')));
    await main().locator('tbody tr').first().getByRole('button', { name: 'Открыть' }).click();
    await expect.poll(() => dialog().locator('[data-payload]').count()).toBe(1);
    found.push(...(await leftovers('delivery')));
    await shot(page, 'devconsole-ru');
    expect(found).toEqual([]);
  });

  it('deletes the webhook: no longer listed', async () => {
    await page.goto(`${stack.url}/#/devconsole/apps/${appId}/webhooks`);
    await main().getByRole('link', { name: 'Доставки' }).click();
    await main().getByRole('button', { name: 'Удалить вебхук' }).click();
    await dialog().getByRole('button', { name: 'Удалить вебхук' }).click();
    await expect.poll(() => main().getByText('Вебхуков пока нет.').isVisible()).toBe(true);
  });

  it('logged no errors', () => {
    // The revoked key's 401 and the missing scope's 403 came from fetch in the test, not the page.
    expect(errors.entries).toEqual([]);
  });
});
