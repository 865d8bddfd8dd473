/**
 * A failing SMTP server seen from the console (issue 12, "done when"): the
 * cloud sends through a real `smtp-server` on a free port that answers 451 to
 * every recipient. An OrgAdmin in Chromium sends a test e-mail from Messages
 * and watches its log row go "failed, will retry" with the attempts growing,
 * then "dead" with the server's error; Background jobs shows no dead job for
 * it (the sender ends its last attempt without throwing). The server is
 * fixed, the admin clicks Retry on the row, the row turns "sent" and the
 * server has received exactly one copy, parsed with `mailparser`.
 */
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { createOrgWithUser, freshDatabase, type Login, type TestDb, testConfig } from '../helpers.js';
import { type SmtpStandIn, startSmtpServer } from '../stand-ins/smtp.js';
import { buildConsole, ErrorLog, hasChromium, launchBrowser, newContext, shot, signIn, stepsInOrder } from './harness.js';

const TO = 'retry.me@example.org';
const ORG = 'Failing Mail Org';

interface RowState {
  status: string | null;
  attempts: number;
  error: string;
}

describe.skipIf(!hasChromium && !process.env.CI)('a failing SMTP server, retried from the console in Chromium', () => {
  /** Refuses (451) every recipient until the last test fixes it; counts what it was offered. */
  let smtp: SmtpStandIn;

  let app: App;
  let db: TestDb;
  let dist: string;
  let url: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let admin: Login;
  const errors = new ErrorLog();
  /** URLs that answered 404: with SMTP configured the console's mailbox query gets one, and nothing else may. */
  const notFound: string[] = [];

  beforeAll(async () => {
    // Plain text on loopback, no authentication: what is under test is the refusal, not the login.
    smtp = await startSmtpServer({ refuse: true });

    // The harness's startStack with this test's SMTP server and quick retries (1 s, then 2 s).
    const [built, fresh, b] = await Promise.all([buildConsole(), freshDatabase(), launchBrowser()]);
    dist = built;
    db = fresh;
    browser = b;
    const base = testConfig();
    const overrides: Partial<Config> = {
      consoleDir: dist,
      notify: { ...base.notify, smtpUrl: smtp.url, mailFrom: 'Failing Mail <visits@failing.test>' },
      jobs: { retryLimit: 2, retryDelayS: 1, pollIntervalS: 0.5, work: true },
    };
    app = await buildApp(testConfig(overrides), { database: db.database, migrate: false, logger: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    url = `http://127.0.0.1:${addr.port}`;

    admin = await createOrgWithUser(app, ORG, ['OrgAdmin']);
    ctx = await newContext(browser);
    page = errors.attach(await ctx.newPage());
    page.on('response', (r) => {
      if (r.status() === 404) notFound.push(new URL(r.url()).pathname);
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await db?.drop();
    if (dist) rmSync(dist, { recursive: true, force: true });
    await smtp?.close();
  });

  stepsInOrder();

  const main = () => page.locator('main');
  const row = () => main().locator('tbody tr', { hasText: 'Test message' });
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const toUs = () => smtp.received.filter((m) => m.to.includes(TO)).map((m) => m.mail);

  /** The row as the console shows it after a reload (the log does not refresh itself). */
  async function reloadRow(): Promise<RowState> {
    await page.reload();
    await row().waitFor();
    const cells = row().locator('td');
    return {
      status: await row().getAttribute('data-status'),
      attempts: Number(await cells.nth(5).textContent()),
      error: (await cells.nth(6).textContent()) ?? '',
    };
  }

  /** Reloads until the row is in `status`; every state seen on the way is kept in `seen`. */
  async function watchUntil(status: string, seen: RowState[], ms: number): Promise<RowState> {
    const end = Date.now() + ms;
    for (;;) {
      const s = await reloadRow();
      const last = seen.at(-1);
      if (!last || last.status !== s.status || last.attempts !== s.attempts) seen.push(s);
      if (s.status === status) return s;
      if (Date.now() > end) throw new Error(`row never became ${status}; seen ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  it('an admin signs in and opens Messages', async () => {
    await page.goto(url);
    await signIn(page, admin);
    await nav('Messages').click();
    await expect.poll(() => page.getByRole('heading', { name: 'Messages', level: 1 }).isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => main().getByText('No messages yet.').isVisible()).toBe(true);
    // SMTP is configured: no development mailbox tab.
    expect(await main().getByRole('link', { name: 'Development mailbox' }).count()).toBe(0);
  });

  it('a test e-mail to a refusing server goes failed (attempts growing), then dead with the server’s error', async () => {
    await main().getByText('Send a test message').click();
    await main().getByLabel('To', { exact: true }).fill(TO);
    await main().getByRole('button', { name: 'Send test' }).click();
    await expect.poll(() => main().getByText('Test message queued').isVisible()).toBe(true);
    await expect.poll(() => row().count(), { timeout: 10_000 }).toBe(1);

    const seen: RowState[] = [];
    const failed = await watchUntil('failed', seen, 15_000);
    expect(failed.attempts).toBeGreaterThanOrEqual(1);
    expect(failed.error).toContain('451');
    await expect.poll(() => row().getByText('failed, will retry').isVisible()).toBe(true);
    await shot(page, 'smtp-retry-failed');

    const dead = await watchUntil('dead', seen, 25_000);
    // The first attempt and both retries.
    expect(dead.attempts, JSON.stringify(seen)).toBe(3);
    expect(dead.error).toContain('451');
    expect(dead.error).toContain('Mailbox temporarily unavailable');
    // The kept error never holds the address.
    expect(dead.error).not.toContain('retry.me');
    // Attempts only grow, and nothing but queued/failed came before dead.
    const attempts = seen.map((s) => s.attempts);
    expect(attempts, JSON.stringify(seen)).toEqual([...attempts].sort((a, b) => a - b));
    expect(
      seen.slice(0, -1).every((s) => s.status === 'queued' || s.status === 'failed'),
      JSON.stringify(seen),
    ).toBe(true);
    expect(seen.some((s) => s.status === 'failed' && s.attempts >= 1)).toBe(true);
    await expect.poll(() => row().getByText('dead', { exact: true }).isVisible()).toBe(true);
    expect(await row().getByRole('button', { name: 'Retry' }).isVisible()).toBe(true);
    // Three attempts reached the server and all were refused.
    expect(smtp.offered.filter((a) => a === TO)).toHaveLength(3);
    expect(toUs()).toHaveLength(0);
    await shot(page, 'smtp-retry-dead');
  });

  it('Background jobs shows no dead job for it: the last attempt ends without throwing', async () => {
    await nav('Background jobs').click();
    await expect.poll(() => page.getByRole('heading', { name: 'Background jobs', level: 1 }).isVisible()).toBe(true);
    await expect.poll(() => main().getByText('No dead jobs.').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await main().locator('tr[data-job]').count()).toBe(0);
    // If the queue is listed, its dead count is 0 and nothing waits.
    const q = main().locator('tr[data-queue="notify.send"] td');
    if ((await q.count()) > 0) {
      expect(await q.nth(1).textContent()).toBe('0');
      expect(await q.nth(4).textContent()).toBe('0');
    }
    const dead = await app.inject({ method: 'GET', url: '/api/admin/jobs/dead', headers: admin.auth });
    expect(dead.statusCode).toBe(200);
    expect((dead.json() as { items: unknown[] }).items).toEqual([]);
  });

  it('once the server is fixed, Retry on the row sends it, and the server gets exactly one copy', async () => {
    smtp.refuse = false;
    await nav('Messages').click();
    await expect.poll(() => row().getAttribute('data-status'), { timeout: 10_000 }).toBe('dead');
    await row().getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => main().getByText('Queued again.').isVisible()).toBe(true);

    const seen: RowState[] = [];
    const sent = await watchUntil('sent', seen, 15_000);
    expect(sent.attempts, JSON.stringify(seen)).toBe(4);
    expect(sent.error).toBe('—');
    expect(await row().getByRole('button', { name: 'Retry' }).count()).toBe(0);

    await expect.poll(() => toUs().length, { timeout: 5_000 }).toBe(1);
    // A moment more for a duplicate (a second job, a late retry) to show up if there were one.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(toUs()).toHaveLength(1);
    expect(smtp.received).toHaveLength(1);
    const mail = toUs()[0]!;
    expect(mail.subject).toBe(`Test message from ${ORG}`);
    expect(mail.from?.text).toContain('visits@failing.test');
    expect(mail.text).toContain('this channel works');
    expect(mail.html).toContain(ORG);
    // Still sent after the wait, four attempts in all.
    const again = await reloadRow();
    expect(again).toMatchObject({ status: 'sent', attempts: 4 });

    // The retry is in the audit log as the admin's action.
    const audit = await app.inject({ method: 'GET', url: '/api/admin/audit-logs?limit=50', headers: admin.auth });
    expect(audit.statusCode, audit.body).toBe(200);
    expect(audit.body).toContain('notification.retry');
    await shot(page, 'smtp-retry-sent');
  });

  it('Background jobs still has no dead job', async () => {
    await nav('Background jobs').click();
    await expect.poll(() => main().getByText('No dead jobs.').isVisible(), { timeout: 10_000 }).toBe(true);
  });

  it('logged no errors but the mailbox’s expected 404s', () => {
    expect(
      notFound.every((p) => p === '/api/admin/mailbox'),
      JSON.stringify(notFound),
    ).toBe(true);
    errors.take((e) => e.includes('status of 404'));
    expect(errors.entries).toEqual([]);
  });
});
