import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';
import { guestPwa } from './pwa.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

// The console is served by the cloud's Fastify from console/dist; `vite` (dev) proxies the API to a local cloud.
export default defineConfig({
  root: here,
  base: '/',
  // The guest page's manifest and service worker (pwa.ts).
  plugins: [react(), ...guestPwa()],
  // Workspace packages (@gatehouse/protocol/reasons, @gatehouse/cloud-api/rbac…) bundle from their TypeScript sources, as in the tests.
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline scripts or data: modules, so a CSP of script-src 'self' holds.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target: process.env.GATEHOUSE_API ?? 'http://127.0.0.1:8080', ws: true },
    },
  },
});
