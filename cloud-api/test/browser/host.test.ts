/**
 * The host portal in a real Chromium against a real cloud (issue 12 item 5):
 * a Host signs in (in English) and lands on "My visits", invites a guest
 * through the dialog (an empty name is refused at its field first), sees them
 * listed "Invited"; the badge moves to "Link opened" by itself once the guest
 * opens the link (the list refreshes every 5 s); in Russian the labels and
 * the state read «Приглашён»; keyboard only, the dialog keeps focus inside and
 * Escape closes it, focus going back to the button that opened it.
 */
import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSettings, visitPasses } from '../../src/db/schema.js';
import { addUser, createOrgWithUser, type Login, seedTopology } from '../helpers.js';
import { ErrorLog, hasChromium, launchBrowser, newContext, type Stack, shot, signIn, startStack, stepsInOrder } from './harness.js';

describe.skipIf(!hasChromium && !process.env.CI)('host portal in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let host: Login;
  const errors = new ErrorLog();

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
    const admin = await createOrgWithUser(stack.app, 'Host Browser Org', ['OrgAdmin']);
    const topo = await seedTopology(stack.app, admin);
    await stack.app.ctx.db.insert(orgSettings).values({ orgId: admin.orgId, hostInviteRuleId: topo.rule.id });
    host = await addUser(stack.app, admin.orgId, ['Host']);
    ctx = await newContext(browser);
    page = errors.attach(await ctx.newPage());
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  stepsInOrder();

  const dialog = () => page.getByRole('dialog');
  const row = (text: string) => page.locator('tbody tr', { hasText: text });
  const stateIn = (text: string) => row(text).locator('[data-state]');
  /** Whether focus is inside the open dialog right now. */
  const focusInDialog = () => page.evaluate(() => !!document.querySelector('[role=dialog]')?.contains(document.activeElement));

  it('a Host signs in and lands on My visits', async () => {
    await page.goto(stack.url);
    await signIn(page, host);
    await expect.poll(() => page.getByRole('heading', { name: 'My visits', level: 1 }).isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.getByText('No visits yet.').isVisible()).toBe(true);
    const navLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My visits', exact: true });
    expect(await navLink.getAttribute('aria-current')).toBe('page');
    // A Host has no dashboard of the organisation's traffic.
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).count()).toBe(0);
  });

  it('invites a guest through the dialog and sees them listed "Invited"', async () => {
    await page.getByRole('button', { name: 'Invite guests' }).click();
    await expect.poll(() => dialog().isVisible()).toBe(true);
    expect(await dialog().getByRole('heading', { name: 'Invite guests' }).isVisible()).toBe(true);
    expect(await dialog().getByLabel('Site').locator('option:checked').textContent()).toBe('HQ');
    // Times on the site's clock, said next to the date.
    expect(await dialog().getByText('Europe/Moscow').isVisible()).toBe(true);
    // Refused before sending: no name, no address.
    await dialog().getByRole('button', { name: 'Send invitations' }).click();
    await expect.poll(() => dialog().getByText('Required.').isVisible()).toBe(true);
    expect(await dialog().getByText('An e-mail or a phone, so the invitation reaches them.').isVisible()).toBe(true);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-invalid'))).toBe('true');
    // Two rows, then one removed.
    await dialog().getByRole('button', { name: 'Add a guest' }).click();
    expect(await dialog().getByRole('group', { name: 'Guest 2' }).isVisible()).toBe(true);
    await dialog().getByRole('button', { name: 'Remove guest 2' }).click();
    expect(await dialog().getByRole('group', { name: 'Guest 2' }).count()).toBe(0);
    const g1 = dialog().getByRole('group', { name: 'Guest 1' });
    await g1.getByLabel('Full name *').fill('Anna Smirnova');
    await g1.getByLabel('E-mail').fill('anna@northwind.example');
    await g1.getByLabel('Company').fill('Northwind');
    await dialog().getByLabel('Room').fill('4.12');
    await shot(page, 'host-01-invite-dialog', false);
    await dialog().getByRole('button', { name: 'Send invitations' }).click();
    await expect.poll(() => dialog().isVisible()).toBe(false);
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Invitation sent to 1 guest.');
    await expect.poll(() => stateIn('Anna Smirnova').textContent()).toBe('Invited');
    expect(await row('Anna Smirnova').textContent()).toContain('a***@n***.example');
    expect(await page.getByRole('heading', { level: 2, name: /Room 4\.12/ }).isVisible()).toBe(true);
    await shot(page, 'host-02-visits-invited');
  });

  it('the badge follows the guest: "Link opened" without a reload once they open their link', async () => {
    const [pass] = await stack.app.ctx.db.select().from(visitPasses);
    const token = await stack.app.ctx.tokens.signGuest({ sub: pass!.id, org: pass!.orgId }, pass!.validTo);
    const opened = await fetch(`${stack.url}/api/guest/pass?token=${token}`);
    expect(opened.status).toBe(200);
    await expect.poll(() => stateIn('Anna Smirnova').textContent(), { timeout: 12_000 }).toBe('Link opened');
    // And back to a state set by the arrival, to be sure it is the server's answer that is shown.
    await stack.app.ctx.db.update(visitPasses).set({ arrivedAt: new Date() }).where(eq(visitPasses.id, pass!.id));
    await expect.poll(() => stateIn('Anna Smirnova').textContent(), { timeout: 12_000 }).toBe('Arrived');
    await stack.app.ctx.db.update(visitPasses).set({ arrivedAt: null, linkOpenedAt: null }).where(eq(visitPasses.id, pass!.id));
    await expect.poll(() => stateIn('Anna Smirnova').textContent(), { timeout: 12_000 }).toBe('Invited');
  });

  it('in Russian: the labels and the state «Приглашён»', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'RU' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Мои визиты', level: 1 }).isVisible()).toBe(true);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ru');
    await expect.poll(() => stateIn('Anna Smirnova').textContent()).toBe('Приглашён');
    // The last action's notice is said again in the new language.
    expect(await page.getByRole('status').textContent()).toBe('Приглашение отправлено 1 гостю.');
    expect(await page.getByRole('columnheader', { name: 'Состояние' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Пригласить гостей' }).isVisible()).toBe(true);
    expect(await page.getByRole('navigation', { name: 'Главное меню' }).getByRole('link', { name: 'Мои визиты' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Пригласить гостей' }).click();
    const g1 = dialog().getByRole('group', { name: 'Гость 1' });
    expect(await g1.getByLabel('ФИО *').isVisible()).toBe(true);
    expect(await g1.getByLabel('Телефон').isVisible()).toBe(true);
    expect(await dialog().getByLabel('Язык приглашения').inputValue()).toBe('ru');
    await shot(page, 'host-03-ru-dialog', false);
    await dialog().getByRole('button', { name: 'Отмена' }).click();
    await expect.poll(() => dialog().isVisible()).toBe(false);
    await shot(page, 'host-04-ru-visits');
  });

  it('keyboard only: the dialog keeps focus inside and Escape closes it', async () => {
    const opener = page.getByRole('button', { name: 'Пригласить гостей' });
    await opener.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => dialog().isVisible()).toBe(true);
    expect(await focusInDialog()).toBe(true);
    // Round the whole dialog more than once, both ways: focus never reaches the page behind it.
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      expect(await focusInDialog(), `Tab ${i + 1}`).toBe(true);
      seen.add(await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 60) ?? ''));
    }
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Shift+Tab');
      expect(await focusInDialog(), `Shift+Tab ${i + 1}`).toBe(true);
    }
    expect(seen.size).toBeGreaterThan(5);
    // Typing works from the keyboard too.
    await dialog().getByRole('group', { name: 'Гость 1' }).getByLabel('ФИО *').focus();
    await page.keyboard.type('Борис');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog().isVisible()).toBe(false);
    // Focus goes back to the opener once the dialog has unmounted, a frame or so after it is hidden (later on a busy box).
    await expect.poll(() => opener.evaluate((el) => el === document.activeElement), { timeout: 2_000 }).toBe(true);
    // Nothing was sent: still one guest.
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(errors.entries).toEqual([]);
  });
});
