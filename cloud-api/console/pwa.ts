/**
 * The guest page as an installable PWA (issue 12 item 4): a web app manifest
 * (start_url and scope /guest, standalone) and a Workbox service worker
 * (vite-plugin-pwa, injectManifest: src/pwa/sw.ts) that precaches the app shell, so /guest opens
 * offline after one online visit and keeps drawing the pass's rotating QR from
 * what the page stored. API answers are never cached: /api/* is network-only
 * (the worker has no route for them, so they bypass it).
 *
 * The worker is registered by the guest page only, with scope /guest, so the
 * staff console never runs under it. The shell it serves for /guest is the
 * server's own /guest answer (precached under that URL instead of
 * index.html), so the page keeps the server's security headers (CSP) offline.
 *
 * Icons are drawn here at build time (PNG written with node:zlib), so the
 * build downloads nothing and the repository holds no binary files.
 */
import { crc32, deflateSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/** The console's colour (favicon.svg). */
const BRAND = [0x1f, 0x4e, 0x79] as const;
const WHITE = [0xff, 0xff, 0xff] as const;

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/**
 * The favicon's house shape, white on the brand colour, as an RGB PNG of
 * `size` pixels. `pad` is the share of each side left as background, so the
 * maskable variant keeps its drawing inside the safe zone a launcher may crop to.
 */
export function iconPng(size: number, pad = 0): Buffer {
  const raw = Buffer.alloc((size * 3 + 1) * size);
  const inner = size * (1 - 2 * pad);
  const x0 = size * pad;
  const y0 = size * pad;
  // favicon.svg's path in its 32-unit box: M8 26V12l8-6 8 6v14h-5v-8h-6v8z
  const inHouse = (u: number, v: number) => {
    if (u < 8 || u > 24 || v > 26 || v < 6) return false;
    const roof = 12 - (8 - Math.abs(u - 16)) * 0.75; // the roof line from (8,12) up to (16,6) and down to (24,12)
    if (v < roof) return false;
    const door = u > 13 && u < 19 && v > 18;
    return !door;
  };
  for (let y = 0; y < size; y++) {
    const row = y * (size * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const u = ((x + 0.5 - x0) / inner) * 32;
      const v = ((y + 0.5 - y0) / inner) * 32;
      const c = inHouse(u, v) ? WHITE : BRAND;
      raw.set(c, row + 1 + x * 3);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const ICONS = [
  { file: 'icons/icon-192.png', size: 192, pad: 0, purpose: 'any' },
  { file: 'icons/icon-512.png', size: 512, pad: 0, purpose: 'any' },
  // The house fills the middle half of its box: well inside the maskable safe zone (the middle 80 %).
  { file: 'icons/maskable-512.png', size: 512, pad: 0.05, purpose: 'maskable' },
] as const;

function icons(): Plugin {
  return {
    name: 'gatehouse:pwa-icons',
    apply: 'build',
    generateBundle() {
      for (const i of ICONS) this.emitFile({ type: 'asset', fileName: i.file, source: iconPng(i.size, i.pad) });
    },
  };
}

export function guestPwa(): Plugin[] {
  return [
    icons(),
    ...VitePWA({
      // The guest page registers the worker itself (scope /guest); the console never does.
      injectRegister: false,
      registerType: 'autoUpdate',
      // src/pwa/sw.ts, built to sw.js.
      filename: 'sw.ts',
      scope: '/guest',
      includeManifestIcons: false,
      manifestFilename: 'manifest.webmanifest',
      manifest: {
        id: '/guest',
        name: 'Gatehouse — visitor pass',
        short_name: 'Visitor pass',
        description: 'Your visit and your entry QR code, also offline.',
        start_url: '/guest',
        scope: '/guest',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#ffffff',
        theme_color: '#1f4e79',
        icons: [
          { src: '/favicon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
          ...ICONS.map((i) => ({ src: `/${i.file}`, sizes: `${i.size}x${i.size}`, type: 'image/png', purpose: i.purpose })),
        ],
      },
      // injectManifest: the worker (src/pwa/sw.ts, Workbox's precaching and routing) is built by Vite
      // itself, which takes a fraction of generateSW's Babel and Terser pass over the same runtime.
      strategies: 'injectManifest',
      srcDir: 'src/pwa',
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,png}'],
        // Source maps are for developers, and the hosts' push worker is no part of the guest page.
        globIgnores: ['**/*.map', 'push-sw.js', 'sw.js'],
        // index.html is precached as /guest: the server's answer for /guest, with its security headers.
        manifestTransforms: [
          async (entries) => ({
            manifest: entries.map((e) => (e.url === 'index.html' ? { ...e, url: '/guest' } : e)),
            warnings: [],
          }),
        ],
        sourcemap: false,
        minify: true,
      },
    }),
  ];
}
