/**
 * The guest page in a real Chromium on a 360×740 phone screen, in English and
 * in Russian (the pass's language): the link shows the visit and no QR; the
 * visitor asks for a code, reads it in the development mailbox (through its
 * API, as the e-mail it stands for), a wrong code is refused with the
 * attempts left, the right one shows the rotating QR, which decodes to a code
 * the edge's decide() admits; nothing is wider than the screen; a reload keeps
 * the QR (the session is kept per pass); offline, a reload still opens the
 * page through its service worker and keeps drawing codes the edge admits.
 */
import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visitPasses } from '../../src/db/schema.js';
import { createOrgWithUser, issuePass, type Login, seedTopology } from '../helpers.js';
import { edgeDecides } from './edge-view.js';
import { decodeQrPng, ErrorLog, hasChromium, launchBrowser, newContext, type Stack, shot, startStack } from './harness.js';

const TEXT = {
  en: {
    name: 'Maria Ivanova',
    welcome: 'Welcome, Maria',
    visit: 'Your visit',
    send: 'Send me a code',
    codeLabel: 'Code from the message',
    confirm: 'Confirm',
    wrong: 'Wrong code. Attempts left: 4.',
    qr: 'Your entry QR code',
    offline: 'You are offline.',
  },
  ru: {
    name: 'Мария Иванова',
    welcome: 'Здравствуйте, Мария',
    visit: 'Ваш визит',
    send: 'Отправить код',
    codeLabel: 'Код из сообщения',
    confirm: 'Подтвердить',
    wrong: 'Неверный код. Осталось попыток: 4.',
    qr: 'Ваш QR-код для входа',
    offline: 'Нет подключения к интернету.',
  },
} as const;

describe.skipIf(!hasChromium && !process.env.CI)('guest page in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const errors = new ErrorLog();

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
    admin = await createOrgWithUser(stack.app, 'Guest Browser Org', ['OrgAdmin']);
    topo = await seedTopology(stack.app, admin);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** A visitor with an e-mail and an active pass for the next hours, in `language`; answers the guest link. */
  async function invite(language: 'en' | 'ru', email: string) {
    const v = await stack.app.inject({
      method: 'POST',
      url: '/api/admin/visitors',
      headers: admin.auth,
      payload: { fullName: TEXT[language].name, email },
    });
    expect(v.statusCode, v.body).toBe(201);
    const pass = await issuePass(stack.app, admin, {
      visitorId: v.json().id,
      accessRuleId: topo.rule.id,
      validFrom: new Date(Date.now() - 60_000),
      validTo: new Date(Date.now() + 4 * 3600_000),
    });
    // The invitation's language, as the invitations module stores it on the pass.
    if (language === 'ru') await stack.app.ctx.db.update(visitPasses).set({ language }).where(eq(visitPasses.id, pass.id));
    return { passId: pass.id, url: `${stack.url}/guest#token=${pass.guestToken}` };
  }

  /** The code as the visitor reads it: the newest message to `email` in the development mailbox that holds six digits. */
  async function mailedCode(email: string): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const list = await stack.app.inject({ method: 'GET', url: '/api/admin/mailbox', headers: admin.auth });
      expect(list.statusCode, list.body).toBe(200);
      for (const m of (list.json().items as { id: string; to: string }[]).filter((x) => x.to.includes(email))) {
        const one = await stack.app.inject({ method: 'GET', url: `/api/admin/mailbox/${m.id}`, headers: admin.auth });
        const code = /\b(\d{6})\b/.exec(one.json().text as string)?.[1];
        if (code) return code;
      }
      if (Date.now() > deadline) throw new Error(`no code mailed to ${email}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  const scrollWidth = (p: Page) => p.evaluate(() => document.scrollingElement!.scrollWidth);

  async function admits(page: Page, passId: string, label: string) {
    const qr = page.getByRole('img', { name: label });
    await qr.waitFor({ timeout: 10_000 });
    const text = await decodeQrPng(browser, await qr.screenshot());
    expect(text, 'the QR decodes').toBeTruthy();
    const at = await page.evaluate(() => Date.now());
    expect(await edgeDecides(stack.app, admin.orgId, topo.gate.id, text!, at)).toMatchObject({ allow: true, reason: 'ok', passId });
  }

  for (const language of ['en', 'ru'] as const) {
    it(`${language}: link → code from the mailbox → QR the edge admits; 360 px; reload and offline keep it`, async () => {
      const T = TEXT[language];
      const email = `maria-${language}-${Date.now()}@example.test`;
      const { passId, url } = await invite(language, email);
      const phone: BrowserContext = await newContext(browser, { width: 360, height: 740 });
      try {
        const g = errors.attach(await phone.newPage());
        await g.goto(url);
        // The visit, in the pass's language, and no QR from the link alone.
        await g.getByRole('heading', { name: T.visit }).waitFor();
        expect(await g.getByRole('heading', { name: T.welcome }).isVisible()).toBe(true);
        expect(await g.evaluate(() => document.documentElement.lang)).toBe(language);
        expect(await g.getByRole('img', { name: T.qr }).count()).toBe(0);
        // The token leaves the address bar once read.
        expect(g.url()).not.toContain('token=');
        expect(await scrollWidth(g)).toBeLessThanOrEqual(360);
        const [row] = await stack.app.ctx.db.select().from(visitPasses).where(eq(visitPasses.id, passId));
        expect(row!.linkOpenedAt).toBeInstanceOf(Date);

        await g.getByRole('button', { name: T.send }).click();
        const input = g.getByLabel(T.codeLabel);
        await input.waitFor();
        expect(await input.getAttribute('inputmode')).toBe('numeric');
        expect(await input.getAttribute('autocomplete')).toBe('one-time-code');
        const code = await mailedCode(email);
        // A wrong code first: refused, and the page says how many attempts are left.
        await input.fill(String((Number(code) + 1) % 1_000_000).padStart(6, '0'));
        await g.getByRole('button', { name: T.confirm }).click();
        await expect.poll(() => g.getByRole('alert').filter({ hasText: T.wrong }).isVisible()).toBe(true);
        errors.take((e) => e.includes('422'));
        await shot(g, `30-guest-code-${language}`);
        await input.fill(code);
        await g.getByRole('button', { name: T.confirm }).click();
        await admits(g, passId, T.qr);
        expect(await scrollWidth(g)).toBeLessThanOrEqual(360);
        await shot(g, `31-guest-qr-${language}`);

        // A reload keeps the QR: the session is kept on this device for this pass.
        await g.reload();
        await admits(g, passId, T.qr);
        // The service worker controls the page by now (it claims its clients when it activates).
        await expect
          .poll(
            () =>
              g.evaluate(async () => {
                await navigator.serviceWorker.ready;
                return !!navigator.serviceWorker.controller;
              }),
            {
              timeout: 10_000,
            },
          )
          .toBe(true);

        // Offline: the page still opens (from the worker's precache) and draws codes from the pass's secret.
        // Page time is a fake clock from here, so a whole TOTP step passes in an instant: the code must
        // change and still be admitted, which no code kept from the last online answer could do.
        await g.clock.install();
        await phone.setOffline(true);
        await g.reload();
        await g.getByRole('heading', { name: T.visit }).waitFor();
        await expect.poll(() => g.getByText(T.offline).isVisible()).toBe(true);
        await admits(g, passId, T.qr);
        const qr = g.getByRole('img', { name: T.qr });
        const before = await decodeQrPng(browser, await qr.screenshot());
        await g.clock.fastForward(30_000);
        await expect.poll(async () => decodeQrPng(browser, await qr.screenshot()), { timeout: 5_000 }).not.toBe(before);
        await admits(g, passId, T.qr);
        expect(await scrollWidth(g)).toBeLessThanOrEqual(360);
        await shot(g, `32-guest-offline-${language}`);
        // Only the API calls the page made while offline failed.
        errors.take((e) => e.includes('/api/guest/pass') || /ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e));
        const [after] = await stack.app.ctx.db.select().from(visitPasses).where(eq(visitPasses.id, passId));
        expect(after!.signedInAt).toBeInstanceOf(Date);
      } finally {
        await phone.close();
      }
      expect(errors.entries).toEqual([]);
    }, 90_000);
  }

  it('the visitor can switch the language; the manifest makes /guest installable', async () => {
    const { url } = await invite('en', `switch-${Date.now()}@example.test`);
    const phone = await newContext(browser, { width: 360, height: 740 });
    try {
      const g = errors.attach(await phone.newPage());
      await g.goto(url);
      await g.getByRole('heading', { name: TEXT.en.visit }).waitFor();
      await g.getByRole('button', { name: 'RU' }).click();
      await g.getByRole('heading', { name: TEXT.ru.visit }).waitFor();
      expect(await g.getByRole('button', { name: 'RU' }).getAttribute('aria-pressed')).toBe('true');
      // The choice stays on a reload.
      await g.reload();
      await g.getByRole('heading', { name: TEXT.ru.visit }).waitFor();
      const manifest = await g.evaluate(async () => {
        const href = document.querySelector('link[rel="manifest"]')?.getAttribute('href');
        return href ? ((await (await fetch(href)).json()) as Record<string, unknown>) : null;
      });
      expect(manifest).toMatchObject({ start_url: '/guest', scope: '/guest', display: 'standalone' });
      const icons = (manifest!.icons as { src: string; type: string }[]).filter((i) => i.type === 'image/png');
      expect(icons.length).toBeGreaterThan(0);
      for (const i of icons) {
        const r = await stack.app.inject({ url: i.src });
        expect(r.statusCode, i.src).toBe(200);
        expect(r.rawPayload.subarray(1, 4).toString()).toBe('PNG');
      }
    } finally {
      await phone.close();
    }
    expect(errors.entries).toEqual([]);
  });
});
