/**
 * The guard view in a real Chromium against a real cloud, fed by a gate
 * controller's MQTT batches (the ingest path every edge uses): a forced door
 * shows up as an alarm without a reload and beeps once sound is on (a low
 * alarm, from a soft anti-passback rule, is listed without a beep); it is
 * acknowledged with a note and cleared only with one, both audited; an
 * Operator may release a site for evacuation but not lock it down, and every
 * guard sees the banner come and go; a passback denial is forgiven from the
 * feed and the cloud's presence of the pass is reset.
 */
import { type CheckinEvent, KeyRing, openMessage, topics, uuidv7 } from '@gatehouse/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, createOrgWithUser, issuePass, type Login, onPostgres, seedTopology } from '../helpers.js';
import { ErrorLog, hasChromium, launchBrowser, newContext, type Stack, shot, signIn, startStack, stepsInOrder } from './harness.js';

interface Enrolled {
  deviceId: string;
  orgId: string;
  orgPublicKey: string;
  mqtt: { url: string; username: string; password: string };
}

/** Elements sticking out past the viewport's right edge (those inside a scrolling box excepted), as console.test.ts checks. */
async function sideways(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out: string[] = [];
    for (const el of document.querySelectorAll('body *')) {
      let scroller = el.parentElement;
      while (scroller && getComputedStyle(scroller).overflowX === 'visible') scroller = scroller.parentElement;
      if (scroller && scroller !== document.body && scroller !== document.documentElement) continue;
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > w + 0.5) out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
    }
    if (document.documentElement.scrollWidth > w) out.push(`scrollWidth=${document.documentElement.scrollWidth}`);
    return out;
  });
}

describe.skipIf(!hasChromium && !process.env.CI)(
  `guard view: alarms, site modes, forgiveness (${onPostgres ? 'PostgreSQL' : 'PGlite'})`,
  () => {
    let stack: Stack;
    let browser: Browser;
    let ctx: BrowserContext;
    let page: Page;
    let admin: Login;
    let officer: Login;
    let operator: Login;
    let topo: Awaited<ReturnType<typeof seedTopology>>;
    let device: Enrolled;
    let client: MqttClient;
    const acked = new Set<string>();
    const errors = new ErrorLog();
    const state: { alarmId?: string } = {};

    const api = async <T>(method: 'GET' | 'POST', url: string, as: Login = admin, payload?: object): Promise<T> => {
      const r = await stack.app.inject({ method, url, headers: as.auth, ...(payload ? { payload } : {}) });
      if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.json() as T;
    };

    const event = (o: Partial<CheckinEvent>): CheckinEvent => ({
      id: uuidv7(),
      type: 'attempt',
      gateId: String(topo.gate.id),
      passId: null,
      credentialKind: 'dynamic',
      direction: 'in',
      allow: true,
      reason: 'ok',
      occurredAt: Date.now(),
      ...o,
    });

    /** A batch as the controller publishes it; resolves once the cloud's signed ack says it is stored. */
    const publish = async (events: CheckinEvent[]) => {
      const batchId = uuidv7();
      await client.publishAsync(topics.events(device.deviceId), JSON.stringify({ v: 1, deviceId: device.deviceId, batchId, events }), {
        qos: 1,
      });
      await expect.poll(() => acked.has(batchId), { timeout: 10_000 }).toBe(true);
    };

    const dialog = (p: Page = page) => p.getByRole('dialog');
    const panel = (p: Page = page) => p.getByTestId('alarm-panel');
    const openGuard = async (p: Page) => {
      await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Guard view', exact: true }).click();
      await expect.poll(() => p.getByTestId('link-state').getAttribute('data-state'), { timeout: 10_000 }).toBe('online');
    };

    beforeAll(async () => {
      [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
      admin = await createOrgWithUser(stack.app, `guard-alarms-${Date.now()}`, ['OrgAdmin']);
      officer = await addUser(stack.app, admin.orgId, ['SecurityOfficer']);
      operator = await addUser(stack.app, admin.orgId, ['Operator']);
      topo = await seedTopology(stack.app, admin);
      const code = await api<{ code: string }>('POST', `/api/admin/gates/${topo.gate.id}/enrollment`);
      const r = await stack.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: code.code } });
      if (r.statusCode !== 200) throw new Error(`enroll: ${r.statusCode} ${r.body}`);
      device = r.json() as Enrolled;
      client = await mqtt.connectAsync(device.mqtt.url, {
        username: device.mqtt.username,
        password: device.mqtt.password,
        clientId: device.deviceId,
        reconnectPeriod: 0,
      });
      await client.subscribeAsync(topics.ack(device.deviceId), { qos: 1 });
      client.on('message', (_topic, payload) => {
        const o = openMessage(payload, new KeyRing([device.orgPublicKey]), { orgId: device.orgId, deviceId: device.deviceId });
        const batchId = o.ok ? (o.message as { batchId?: string }).batchId : undefined;
        if (batchId) acked.add(batchId);
      });
      ctx = await newContext(browser);
      page = errors.attach(await ctx.newPage());
    }, 120_000);

    afterAll(async () => {
      await client?.endAsync();
      await browser?.close();
      await stack?.close();
    });
    stepsInOrder();

    it('a security officer signs in and opens the guard view, live', async () => {
      await page.goto(stack.url);
      await signIn(page, officer);
      await openGuard(page);
    });

    it('a forced door arrives as an alarm without a reload, flashes, and beeps once sound is on', async () => {
      await expect.poll(() => panel().getByText('No alarms.').isVisible()).toBe(true);
      const toggle = panel().getByRole('button', { name: /Sound off/ });
      await toggle.click();
      await expect
        .poll(() =>
          panel()
            .getByRole('button', { name: /Sound on/ })
            .getAttribute('aria-pressed'),
        )
        .toBe('true');
      expect(await page.evaluate(() => localStorage.getItem('gatehouse.alarmSound'))).toBe('on');
      expect(await panel().getAttribute('data-alarm-sounds')).toBe('0');
      // Marks this document: a reload would lose it.
      await page.evaluate(() => {
        (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
      });

      const forced = event({ type: 'forced', allow: false, reason: 'unknown', credentialKind: 'none', reader: 'door-1' });
      const t0 = Date.now();
      await publish([forced]);
      await expect.poll(() => panel().getAttribute('data-alarm-sounds')).toBe('1');
      const item = panel().locator('li[data-status="raised"]');
      await expect.poll(() => item.count(), { timeout: 5_000 }).toBe(1);
      console.log(`alarm shown ${Date.now() - t0} ms after the controller published it`);
      const text = await item.textContent();
      expect(text).toContain('Door forced open');
      expect(text).toContain('Turnstile 1');
      expect(text).toContain('HQ');
      expect(text).toMatch(/high/i);
      expect(text).toContain('condition still present');
      expect(await panel().getByTestId('alarm-badge').textContent()).toBe('1 new alarm');
      expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
      // In the entries the forced passage reads as an alarm, not as somebody denied.
      const line = page.getByTestId('feed').locator(`li[data-key="${forced.id}"]`);
      await expect.poll(() => line.getAttribute('data-condition')).toBe('forced');
      expect(await line.textContent()).toMatch(/ALARM\s*Door forced open/);
      state.alarmId = (await item.getAttribute('data-alarm-id')) ?? undefined;
      const listed = await api<{ items: { id: string; kind: string; status: string }[] }>('GET', '/api/admin/alarms?status=open');
      expect(listed.items).toEqual([expect.objectContaining({ id: state.alarmId, kind: 'forced', status: 'raised' })]);
      await shot(page, 'guard-alarm-raised');
      // A guard's phone: the alarm, its buttons and the site actions fit 360 px without sideways scrolling.
      await page.setViewportSize({ width: 360, height: 740 });
      try {
        await page.getByRole('button', { name: 'Menu' }).waitFor();
        expect(await sideways(page)).toEqual([]);
        expect(await item.getByRole('button', { name: 'Acknowledge' }).isVisible()).toBe(true);
        await shot(page, 'guard-alarm-phone');
      } finally {
        await page.setViewportSize({ width: 1280, height: 860 });
      }
    });

    it('acknowledges with a note; clearing is refused without one, then closes the alarm; both are audited', async () => {
      const item = panel().locator(`li[data-alarm-id="${state.alarmId}"]`);
      await item.getByRole('button', { name: 'Acknowledge' }).click();
      await dialog().getByLabel('Note (optional)').fill('Going to the east door');
      await dialog().getByRole('button', { name: 'Acknowledge' }).click();
      await expect.poll(() => item.getAttribute('data-status')).toBe('acknowledged');
      await expect.poll(() => item.getByTestId('acknowledged').textContent()).toContain('Going to the east door');
      expect(await item.getByTestId('acknowledged').textContent()).toContain('Test SecurityOfficer');
      expect(await panel().getByTestId('alarm-badge').count()).toBe(0);
      expect(await dialog().count()).toBe(0);

      await item.getByRole('button', { name: 'Clear' }).click();
      await dialog().getByRole('button', { name: 'Clear alarm' }).click();
      await expect.poll(() => dialog().getByText('A note is required to clear an alarm.').isVisible()).toBe(true);
      expect(await dialog().getByLabel('Note *').getAttribute('aria-invalid')).toBe('true');
      // Refused in the dialog: nothing reached the server.
      expect((await api<{ status: string }>('GET', `/api/admin/alarms/${state.alarmId}`)).status).toBe('acknowledged');
      await shot(page, 'guard-alarm-clear-needs-note', false);
      await dialog().getByLabel('Note *').fill('Courier held the door; closed it');
      await dialog().getByRole('button', { name: 'Clear alarm' }).click();
      await expect.poll(() => item.count()).toBe(0);
      await expect.poll(() => panel().getByText('No alarms.').isVisible()).toBe(true);

      const one = await api<{ status: string; acknowledgeNote: string; clearNote: string; clearedBy: { id: string } }>(
        'GET',
        `/api/admin/alarms/${state.alarmId}`,
      );
      expect(one).toMatchObject({
        status: 'cleared',
        acknowledgeNote: 'Going to the east door',
        clearNote: 'Courier held the door; closed it',
        clearedBy: { id: officer.userId },
      });
      const audit = await api<{ items: { action: string; actorId: string }[] }>('GET', `/api/admin/audit-logs?entityId=${state.alarmId}`);
      const actions = audit.items.map((a) => a.action).sort();
      expect(actions).toEqual(['alarm.acknowledged', 'alarm.cleared']);
      expect(audit.items.every((a) => a.actorId === officer.userId)).toBe(true);
    });

    it('a low alarm (an entry a soft anti-passback rule admitted) is listed without a beep; a tamper alarm after it beeps', async () => {
      const sounds = await panel().getAttribute('data-alarm-sounds');
      expect(sounds).toBe('1');
      const pass = await issuePass(stack.app, admin, { visitorId: String(topo.visitor.id), accessRuleId: String(topo.rule.id) });
      await publish([event({ passId: pass.id, counted: true, alert: 'passback' })]);
      const low = panel().locator('li.sev-low[data-status="raised"]');
      await expect.poll(() => low.count(), { timeout: 5_000 }).toBe(1);
      expect(await low.textContent()).toMatch(/low/i);
      // Events arrive in order: had the low alarm beeped, the tamper alarm's beep would make the count 3.
      await publish([
        event({ type: 'alarm', allow: false, reason: 'unknown', credentialKind: 'none', alarm: { kind: 'tamper', state: 'raised' } }),
      ]);
      await expect.poll(() => panel().locator('li.sev-high[data-status="raised"]').count(), { timeout: 5_000 }).toBe(1);
      await expect.poll(() => panel().getAttribute('data-alarm-sounds')).toBe('2');
      const open = await api<{ items: { id: string; kind: string; severity: string }[] }>('GET', '/api/admin/alarms?status=open');
      expect(open.items.map((a) => `${a.kind}:${a.severity}`).sort()).toEqual(['passback:low', 'tamper:high']);
      for (const a of open.items) await api('POST', `/api/admin/alarms/${a.id}/clear`, admin, { note: 'Seen on the camera' });
      await expect.poll(() => panel().getByText('No alarms.').isVisible()).toBe(true);
      expect(await panel().getAttribute('data-alarm-sounds')).toBe('2');
    });

    it('an Operator sees emergency release but not lockdown; the release shows a banner to every guard until back to normal', async () => {
      const opCtx = await newContext(browser);
      try {
        const op = errors.attach(await opCtx.newPage());
        await op.goto(stack.url);
        await signIn(op, operator);
        await openGuard(op);
        const actions = op.getByTestId('site-mode-actions');
        await expect.poll(() => actions.getByRole('button', { name: 'Emergency release' }).isVisible()).toBe(true);
        expect(await op.getByRole('button', { name: 'Lockdown site' }).count()).toBe(0);
        // The officer may do both.
        expect(await page.getByRole('button', { name: 'Lockdown site' }).count()).toBe(1);

        await actions.getByRole('button', { name: 'Emergency release' }).click();
        await dialog(op).getByRole('button', { name: 'Continue' }).click();
        await expect
          .poll(() =>
            dialog(op)
              .getByText(/A reason is required/)
              .isVisible(),
          )
          .toBe(true);
        await dialog(op).getByLabel('Reason *').fill('Fire alarm in block B');
        await dialog(op).getByRole('button', { name: 'Continue' }).click();
        // The second step says what will happen before anything does.
        expect(await dialog(op).getByTestId('mode-confirm').textContent()).toContain('Unlock every gate of HQ now?');
        expect((await api<{ items: { mode?: string }[] }>('GET', '/api/admin/sites')).items[0]?.mode).toBe('normal');
        await dialog(op).getByRole('button', { name: 'Yes, release all gates' }).click();

        const banner = op.getByTestId('site-mode-banner');
        await expect.poll(() => banner.getAttribute('data-mode')).toBe('emergency');
        expect(await banner.textContent()).toContain('Emergency release: HQ');
        expect(await banner.textContent()).toContain('Reason: Fire alarm in block B');
        // Who did it, named by the server (modeChangedBy).
        expect(await banner.textContent()).toMatch(/, by Test Operator\./);
        const sites = await api<{ items: { mode: string; modeReason: string }[] }>('GET', '/api/admin/sites');
        expect(sites.items[0]).toMatchObject({ mode: 'emergency', modeReason: 'Fire alarm in block B' });
        // The other guard's screen follows without a reload (site.mode_changed).
        await expect.poll(() => page.getByTestId('site-mode-banner').getAttribute('data-mode'), { timeout: 5_000 }).toBe('emergency');
        await shot(op, 'guard-emergency-banner');

        await op.getByRole('button', { name: 'Back to normal' }).click();
        await dialog(op).getByLabel('Reason *').fill('All clear from the fire brigade');
        await dialog(op).getByRole('button', { name: 'Continue' }).click();
        await dialog(op).getByRole('button', { name: 'Yes, back to normal' }).click();
        await expect.poll(() => banner.count()).toBe(0);
        await expect.poll(() => op.getByText('HQ is back to normal.').isVisible()).toBe(true);
        await expect.poll(() => page.getByTestId('site-mode-banner').count(), { timeout: 5_000 }).toBe(0);
        expect((await api<{ items: { mode: string }[] }>('GET', '/api/admin/sites')).items[0]?.mode).toBe('normal');
      } finally {
        await opCtx.close();
      }
    });

    it('a passback denial in the feed is forgiven; the cloud then has the pass outside', async () => {
      const pass = await issuePass(stack.app, admin, { visitorId: String(topo.visitor.id), accessRuleId: String(topo.rule.id) });
      const entry = event({ passId: pass.id, counted: true });
      const denial = event({ passId: pass.id, allow: false, reason: 'passback', occurredAt: Date.now() + 1 });
      await publish([entry, denial]);
      const row = page.getByTestId('feed').locator(`li[data-key="${denial.id}"]`);
      await expect.poll(() => row.textContent(), { timeout: 5_000 }).toContain('Already inside (anti-passback)');
      const inside = await api<{ items: { passId: string }[] }>('GET', `/api/admin/muster?siteId=${topo.site.id}`);
      expect(inside.items.map((i) => i.passId)).toContain(pass.id);

      await row.getByRole('button', { name: 'Forgive' }).click();
      await dialog().getByLabel('Reason (optional)').fill('Left through the emergency exit');
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith(`/api/admin/passes/${pass.id}/forgive`)),
        dialog().getByRole('button', { name: 'Forgive' }).click(),
      ]);
      expect(res.status()).toBe(200);
      const body = (await res.json()) as { passId: string; items: { siteId: string; lastDirection: string | null; insideCount: number }[] };
      expect(body.items).toEqual([expect.objectContaining({ siteId: topo.site.id, lastDirection: null, insideCount: 0 })]);
      await expect.poll(() => page.getByTestId('forgiven').textContent()).toContain('Anti-passback forgiven for Ivan Petrov');
      // The row is answered: no second forgiveness offered.
      expect(await row.getByRole('button', { name: 'Forgive' }).count()).toBe(0);
      expect(await row.getByText('forgiven').isVisible()).toBe(true);
      const after = await api<{ items: { passId: string }[] }>('GET', `/api/admin/muster?siteId=${topo.site.id}`);
      expect(after.items.map((i) => i.passId)).not.toContain(pass.id);
      await shot(page, 'guard-forgiven');
    });

    it('in Russian, the alarm panel, the site-mode actions and the Alarms page say nothing in English', async () => {
      await page.getByRole('button', { name: 'RU' }).click();
      await expect.poll(() => page.getByRole('heading', { name: 'Тревоги' }).isVisible()).toBe(true);
      const texts = async () => `${await panel().textContent()} ${await page.getByTestId('site-mode-actions').textContent()}`;
      expect(await texts()).toMatch(/Звук (включён|выключен)/);
      expect(await texts()).toContain('Заблокировать объект');
      // The names are the organisation's own (a gate called Turnstile 1); every word around them must be Russian.
      expect((await texts()).replaceAll('Turnstile 1', '')).not.toMatch(/[A-Za-z]{3,}/);
      await page.getByRole('navigation', { name: 'Главное меню' }).getByRole('link', { name: 'Тревоги', exact: true }).click();
      const history = page.getByTestId('alarm-history');
      // The forced door of the first steps, and the two cleared in the low-alarm step.
      await expect.poll(() => history.locator('tbody tr').count()).toBe(3);
      const row = (await history.locator(`tbody tr[data-alarm-id="${state.alarmId}"]`).textContent()) ?? '';
      expect(row).toContain('Дверь взломана');
      expect(row).toContain('закрыта');
      expect(row).toContain('Courier held the door; closed it');
      await shot(page, 'alarms-page-ru');
      await page.getByRole('button', { name: 'EN' }).click();
    });

    it('nothing went wrong in the browser', () => {
      expect(errors.entries).toEqual([]);
    });
  },
);
