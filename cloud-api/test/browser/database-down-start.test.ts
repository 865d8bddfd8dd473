/**
 * Issue 15, "start and serve degraded": a cloud started while its PostgreSQL is
 * not up yet (a cluster this test creates and starts only later) listens at once,
 * answers liveness, serves the console, reports the database unavailable in /ready,
 * answers API routes 503 + Retry-After (never a hang), and finishes its start by
 * itself when the database comes: migrations applied, job queue started, every
 * LISTEN of the instance (revocations, sessions, webhooks) established.
 */

import { rmSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { createOrgWithUser, testConfig, until } from '../helpers.js';
import { freePort, type OwnPostgres, ownPostgres, ownPostgresAvailable } from '../own-postgres.js';
import { buildConsole, hasChromium, launchBrowser, newContext } from './harness.js';

describe.skipIf(!ownPostgresAvailable)('chaos: the cloud started before its PostgreSQL', () => {
  let pg: OwnPostgres;
  let app: App;
  let base = '';
  // The console as this tree builds it, and a real browser to read the banner, where Debian's chromium is installed.
  let dist: string | null = null;
  let browser: Browser | null = null;

  beforeAll(async () => {
    pg = await ownPostgres('start');
    if (hasChromium) [dist, browser] = await Promise.all([buildConsole(), launchBrowser()]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    pg?.remove();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  const ready = async () => {
    const r = await fetch(`${base}/api/internal/ready`, { signal: AbortSignal.timeout(10_000) });
    return { code: r.status, body: (await r.json()) as { status: string; database: string; broker: string; jobs: string } };
  };

  it('serves liveness, the console and 503s while the database is down, and is ready by itself once it is up', async () => {
    const t0 = performance.now();
    app = await buildApp(testConfig({ databaseUrl: pg.url, mqttPort: await freePort(), ...(dist ? { consoleDir: dist } : {}) }), {
      logger: false,
      sync: true,
      waitForDatabase: true,
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    const listeningMs = performance.now() - t0;
    expect(app.ctx.startup.ready).toBe(false);

    expect((await fetch(`${base}/api/internal/health`)).status).toBe(200);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root"');
    if (browser) {
      // A guard opening the console sees why nothing works, not a blank page.
      const ctx = await newContext(browser);
      const tab = await ctx.newPage();
      await tab.goto(`${base}/#/guard`);
      await tab.getByTestId('dependency-banner').getByText('The database is unreachable').waitFor({ timeout: 15_000 });
      await ctx.close();
    }
    const notReady = await ready();
    expect(notReady.code).toBe(503);
    expect(notReady.body).toMatchObject({ status: 'not_ready', database: 'unavailable', jobs: 'stopped' });

    const t1 = performance.now();
    const api = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.test', password: 'whatever-it-is' }),
      signal: AbortSignal.timeout(10_000),
    });
    const downAnswerMs = performance.now() - t1;
    expect(api.status).toBe(503);
    expect(Number(api.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('database_unavailable');
    expect(downAnswerMs).toBeLessThan(3_000);

    pg.start();
    const started = performance.now();
    await until(async () => (await ready()).code === 200, 'ready once PostgreSQL is up', 30_000);
    const readyMs = performance.now() - started;
    expect((await ready()).body).toEqual({ status: 'ready', database: 'postgres', broker: 'ok', jobs: 'started' });

    // The API works: a user is created and signs in.
    const admin = await createOrgWithUser(app, `db-late-${Date.now()}`, ['OrgAdmin']);
    expect((await fetch(`${base}/api/admin/sites`, { headers: admin.auth })).status).toBe(200);
    // Every channel this instance listens on was joined once the database came, though it was not there at start.
    const listening = async () => {
      const r = (await app.ctx.db.execute(
        sql`select query from pg_stat_activity where query like 'LISTEN %' and datname = current_database()`,
      )) as unknown as { rows: { query: string }[] };
      return r.rows.map((x) => x.query).sort();
    };
    await until(async () => (await listening()).length >= 4, 'LISTEN connections established', 15_000);
    const channels = await listening();
    console.log(
      JSON.stringify({
        test: 'chaos-postgres-start',
        listeningMs: Math.round(listeningMs),
        downAnswerMs: Math.round(downAnswerMs),
        readyAfterPgStartMs: Math.round(readyMs),
        attempts: app.ctx.startup.attempts,
        channels,
      }),
    );
  }, 120_000);
});
