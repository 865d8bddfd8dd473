/**
 * A real cloud (in-process, fresh database, listening on a free port) with the
 * freshly built console, and Debian's Chromium driven by playwright-core.
 * Never downloads a browser: CI installs the `chromium` apt package.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterEach, beforeEach } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { freshDatabase, type TestDb, testConfig } from '../helpers.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
const here = fileURLToPath(new URL('.', import.meta.url));
export const repoRoot = resolve(here, '../../..');
export const shotsDir = join(repoRoot, 'test-results');

/** Builds the console once per test file into a temp dir (the checked-in tree has no dist). */
export async function buildConsole(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'gh-console-'));
  // A child process: the test worker's NODE_ENV=test would otherwise give React's development build.
  const vite = join(repoRoot, 'node_modules/vite/bin/vite.js');
  const r = spawnSync(
    process.execPath,
    [
      vite,
      'build',
      '--config',
      resolve(here, '../../console/vite.config.ts'),
      '--outDir',
      outDir,
      '--emptyOutDir',
      '--logLevel',
      'warn',
      '--sourcemap',
      'false',
    ],
    { cwd: repoRoot, env: { ...process.env, NODE_ENV: 'production' }, encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`console build failed: ${r.stderr || r.stdout}`);
  return outDir;
}

export interface Stack {
  app: App;
  db: TestDb;
  url: string;
  dist: string;
  /** Parent origins allowed to frame the console; tests change it. */
  frameAncestors: string[];
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const dist = await buildConsole();
  const db = await freshDatabase();
  const frameAncestors: string[] = [];
  // The server reads frameAncestors per request, so a test can change the list it passed in.
  // mqttPort 0: the embedded broker on a free port, so a real edge can enroll and scan.
  const overrides = { loginRateLimit: 50, consoleDir: dist, frameAncestors, mqttPort: 0 } as Partial<Config>;
  const app = await buildApp(testConfig(overrides), { database: db.database, migrate: false, logger: false, sync: true });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return {
    app,
    db,
    url: `http://127.0.0.1:${addr.port}`,
    dist,
    frameAncestors,
    close: async () => {
      await app.close();
      await db.drop();
      rmSync(dist, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // launch() gives every run its own fresh temporary profile (user-data-dir).
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
}

/** Console errors, uncaught exceptions and failed requests of every page in the context, for the no-errors assertions. */
export class ErrorLog {
  readonly entries: string[] = [];
  attach(page: Page): Page {
    page.on('console', (m) => {
      if (m.type() === 'error') this.entries.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => this.entries.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => {
      // A download or a navigation away cancels requests; those are not errors.
      if (r.failure()?.errorText !== 'net::ERR_ABORTED') this.entries.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
    });
    return page;
  }
  /** Drops (and returns) the entries `match` accepts, e.g. an expected 401 from a wrong password. */
  take(match: (e: string) => boolean): string[] {
    const hit = this.entries.filter(match);
    for (const h of hit) this.entries.splice(this.entries.indexOf(h), 1);
    return hit;
  }
}

/**
 * A fresh browser profile. Its language is pinned (en-US unless `locale` says
 * otherwise): the console follows navigator.languages, and the flows select
 * by English text whatever the machine's own locale.
 */
export async function newContext(browser: Browser, viewport = { width: 1280, height: 860 }, locale = 'en-US'): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1, acceptDownloads: true, reducedMotion: 'reduce', locale });
  // Fail in seconds, not at the test's timeout, when something never shows.
  ctx.setDefaultTimeout(8_000);
  return ctx;
}

export async function shot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(shotsDir, { recursive: true });
  const path = join(shotsDir, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

const decoderPages = new WeakMap<Browser, Promise<Page>>();

type JsQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
/** jsqr is a CommonJS bundle whose typings declare an ES default; take the function whichever way it arrives. */
async function loadJsQr(): Promise<JsQr> {
  const mod = (await import('jsqr')) as unknown as { default: JsQr | { default: JsQr } };
  return typeof mod.default === 'function' ? mod.default : mod.default.default;
}

/**
 * Decodes a QR from a screenshot (PNG bytes): a blank page turns the PNG into
 * pixels, jsQR reads them, so what is checked is what a camera would see.
 */
export async function decodeQrPng(browser: Browser, png: Buffer): Promise<string | null> {
  let pagePromise = decoderPages.get(browser);
  if (!pagePromise) {
    pagePromise = browser.newContext().then((c) => c.newPage());
    decoderPages.set(browser, pagePromise);
  }
  const page = await pagePromise;
  const pixels = await page.evaluate(async (b64: string) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bmp.width, bmp.height);
    const g = canvas.getContext('2d')!;
    g.drawImage(bmp, 0, 0);
    const data = g.getImageData(0, 0, bmp.width, bmp.height).data;
    // Base64 crosses the protocol far faster than a JSON array of numbers.
    let bin = '';
    for (let i = 0; i < data.length; i += 0x8000) bin += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return { width: bmp.width, height: bmp.height, rgba: btoa(bin) };
  }, png.toString('base64'));
  const jsQR = await loadJsQr();
  const rgba = new Uint8ClampedArray(Buffer.from(pixels.rgba, 'base64'));
  return jsQR(rgba, pixels.width, pixels.height)?.data ?? null;
}

/**
 * The steps of a browser flow build on each other: after the first failure the
 * rest would only time out, so they are skipped. Call once inside the describe.
 */
export function stepsInOrder(): void {
  let broken = false;
  beforeEach((c) => {
    if (broken) c.skip();
  });
  afterEach((c) => {
    if (c.task.result?.state === 'fail') broken = true;
  });
}

/** Fills the sign-in form of the page already open at the console and submits it. */
export async function signIn(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
