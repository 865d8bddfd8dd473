/*
 * The host portal's Web Push worker: shows the arrival notices the cloud
 * pushes ({title, body, url}, encrypted for this browser) and opens the
 * portal when one is clicked. Registered by the console only
 * (screens/host/NotificationPrefs.tsx) under a scope of its own
 * (/host-push/), so it controls no page and caches nothing; the guest page
 * has its own worker under /guest.
 */
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  const title = typeof data.title === 'string' && data.title ? data.title : 'Gatehouse';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof data.body === 'string' ? data.body : '',
      icon: '/favicon.svg',
      data: { url: typeof data.url === 'string' ? data.url : '/' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  // Only a page of this origin opens: a pushed URL elsewhere falls back to the console's start.
  let url = new URL('/', self.location.origin);
  try {
    const given = new URL(event.notification.data?.url ?? '/', self.location.origin);
    if (given.origin === self.location.origin) url = given;
  } catch {}
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((w) => new URL(w.url).origin === url.origin);
      if (open) {
        await open.focus();
        if ('navigate' in open && open.url !== url.href) await open.navigate(url.href).catch(() => undefined);
        return;
      }
      await self.clients.openWindow(url.href);
    })(),
  );
});
