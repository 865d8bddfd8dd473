/// <reference lib="webworker" />
/**
 * The guest page's service worker (console/pwa.ts builds it and injects the
 * precache list): the app shell is precached, so /guest opens offline after
 * one online visit; a navigation under /guest is answered with the precached
 * /guest page (the server's answer, with its security headers). There is no
 * route for /api/*: API requests never pass through this worker and never
 * come from a cache (a revoked pass must not come back from one).
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Parameters<typeof precacheAndRoute>[0] };

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/guest'), {
    allowlist: [/^\/guest(?:[/?]|$)/],
    denylist: [/^\/api\//],
  }),
);
// A new version takes over at once: the guest page has no state the old worker must finish.
void self.skipWaiting();
clientsClaim();
