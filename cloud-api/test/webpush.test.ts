/**
 * Web Push end to end against a stand-in push service (stand-ins/push-service.ts):
 * a host's browser subscription (keys made here with node's ECDH, as a browser
 * would) is registered through the host routes, a message to it arrives as a
 * POST whose VAPID JWT verifies under the key of /api/host/push/key with `aud`
 * the endpoint's origin, and whose aes128gcm body decrypts (RFC 8291, by hand)
 * with the subscription's private key to {title, body, url}. A 410 deletes the
 * subscription and the message is dead at once.
 */
import { createDecipheriv, createECDH, createPublicKey, type ECDH, hkdfSync, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications, pushSubscriptions } from '../src/db/schema.js';
import { hostRecipients } from '../src/modules/host/preferences.js';
import { vapidKeys } from '../src/modules/notifications/channels/webpush.js';
import { notify } from '../src/modules/notifications/outbox.js';
import { addUser, createOrgWithUser, type Login, startApp, type TestApp, testConfig, until } from './helpers.js';
import { hasOpenssl, type PushServiceStandIn, startPushService } from './stand-ins/push-service.js';

const openssl = hasOpenssl();
if (!openssl) console.warn('webpush.test: skipped, the openssl CLI is missing (apt-get install openssl)');

/** A browser's side of a subscription: its P-256 key pair and auth secret. */
function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, p256dh: ecdh.getPublicKey().toString('base64url'), authB64: auth.toString('base64url') };
}

/** RFC 8291 + RFC 8188 (aes128gcm), one record: what the browser does with a push body. */
function decrypt(body: Buffer, ua: ECDH, authSecret: Buffer): string {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] as number;
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  expect(idlen).toBe(65);
  expect(record.length).toBeLessThanOrEqual(rs);
  const ecdhSecret = ua.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ua.getPublicKey(), asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([d.update(record.subarray(0, record.length - 16)), d.final()]);
  // The last record ends with the delimiter 0x02, then zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  expect(padded[end]).toBe(2);
  return padded.subarray(0, end).toString('utf8');
}

/** The VAPID public key (uncompressed point, base64url) as a verification key. */
function vapidVerifyKey(publicKey: string) {
  const pt = Buffer.from(publicKey, 'base64url');
  expect(pt.length).toBe(65);
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: pt.subarray(1, 33).toString('base64url'), y: pt.subarray(33).toString('base64url') },
    format: 'jwk',
  });
}

describe.skipIf(!openssl)('Web Push: host subscriptions and delivery', () => {
  let push: PushServiceStandIn;
  let t: TestApp;
  let admin: Login;
  let host: Login;
  let other: Login;
  const browser = browserKeys();
  let subId = '';

  // Starting the app (migrations, the job queue) on PGlite can take a minute on a busy machine.
  beforeAll(async () => {
    push = await startPushService();
    push.trust();
    const base = testConfig();
    t = await startApp({
      notify: { ...base.notify, vapidSubject: 'mailto:security@gatehouse.test' },
      jobs: { ...base.jobs, retryLimit: 3, retryDelayS: 1 },
    });
    admin = await createOrgWithUser(t.app, 'Push Org', ['OrgAdmin']);
    host = await addUser(t.app, admin.orgId, ['Host']);
    other = await addUser(t.app, admin.orgId, ['Host']);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await push?.close();
  });

  const req = (who: Login, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });

  const send = async (to: string, visitorName: string) => {
    const id = await t.app.ctx.db.transaction((tx) =>
      notify(t.app.ctx, tx, {
        orgId: admin.orgId,
        channel: 'webpush',
        to,
        template: 'arrival',
        language: 'en',
        vars: { visitorName, gateName: 'Turnstile 1', when: '10:00' },
      }),
    );
    return until(
      async () => {
        const [row] = await t.app.ctx.db.select().from(notifications).where(eq(notifications.id, id));
        return row && (row.status === 'sent' || row.status === 'dead') ? row : null;
      },
      `push ${visitorName} to be sent or dead`,
      20_000,
    );
  };

  it('answers the VAPID public key, the same for every instance with the master key and nothing stored', async () => {
    const r = await req(host, 'GET', '/api/host/push/key');
    expect(r.statusCode, r.body).toBe(200);
    const { publicKey } = r.json() as { publicKey: string };
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    // Another instance derives the same pair from (a copy of) the same master key; another key gives another pair.
    expect(vapidKeys(Buffer.from(t.app.ctx.config.masterKey)).publicKey).toBe(publicKey);
    expect(vapidKeys(randomBytes(32)).publicKey).not.toBe(publicKey);
  });

  it('refuses webpush as a channel before a subscription exists (422)', async () => {
    const r = await req(host, 'PUT', '/api/host/preferences', { channels: ['email', 'webpush'] });
    expect(r.statusCode, r.body).toBe(422);
  });

  it('refuses endpoints that are not https and keys that are not a P-256 point', async () => {
    const http = await req(host, 'POST', '/api/host/push/subscriptions', {
      endpoint: 'http://127.0.0.1:1/push/x',
      keys: { p256dh: browser.p256dh, auth: browser.authB64 },
    });
    expect(http.statusCode).toBe(400);
    const badKey = await req(host, 'POST', '/api/host/push/subscriptions', {
      endpoint: push.endpoint('bad'),
      keys: { p256dh: Buffer.alloc(65, 7).toString('base64url'), auth: browser.authB64 },
    });
    expect(badKey.statusCode).toBe(422);
  });

  it('stores a subscription sealed, and it becomes a recipient once chosen', async () => {
    const r = await req(host, 'POST', '/api/host/push/subscriptions', {
      endpoint: push.endpoint('browser-1'),
      keys: { p256dh: browser.p256dh, auth: browser.authB64 },
      expirationTime: null,
    });
    expect(r.statusCode, r.body).toBe(201);
    subId = (r.json() as { id: string }).id;
    const [row] = await t.app.ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.id, subId));
    expect(row!.subscriptionEnc).not.toContain('browser-1');
    expect(row!.subscriptionEnc).not.toContain(browser.p256dh);
    const p = await req(host, 'PUT', '/api/host/preferences', { channels: ['email', 'webpush'] });
    expect(p.statusCode, p.body).toBe(200);
    expect(p.json()).toMatchObject({ channels: ['email', 'webpush'], push: { subscriptions: 1 } });
    expect(await hostRecipients(t.app.ctx, t.app.ctx.db, host.userId)).toEqual([
      { channel: 'email', to: host.email },
      { channel: 'webpush', to: subId },
    ]);
  });

  it('delivers: VAPID JWT signed by the cloud key for the endpoint origin, aes128gcm body readable by the browser only', async () => {
    const row = await send(subId, 'Anna Smith');
    expect(row.status, row.lastError ?? '').toBe('sent');
    const [got] = await push.waitFor(1);
    expect(got!.id).toBe('browser-1');
    expect(got!.headers['content-encoding']).toBe('aes128gcm');
    expect(Number(got!.headers.ttl)).toBeGreaterThan(0);
    const { publicKey } = (await req(host, 'GET', '/api/host/push/key')).json() as { publicKey: string };
    const auth = String(got!.headers.authorization);
    const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(auth);
    expect(m, auth).not.toBeNull();
    expect(m![2]).toBe(publicKey);
    const { payload, protectedHeader } = await jwtVerify(m![1] as string, vapidVerifyKey(publicKey), { audience: push.origin });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.sub).toBe('mailto:security@gatehouse.test');
    expect(payload.exp! * 1000).toBeGreaterThan(Date.now());
    // A JWT made for another origin, or checked with another key, does not verify.
    await expect(jwtVerify(m![1] as string, vapidVerifyKey(publicKey), { audience: 'https://push.example.com' })).rejects.toThrow();
    await expect(jwtVerify(m![1] as string, vapidVerifyKey(vapidKeys(randomBytes(32)).publicKey))).rejects.toThrow();
    const message = JSON.parse(decrypt(got!.body, browser.ecdh, browser.auth)) as { title: string; body: string; url: string };
    expect(message.title).toContain('Anna Smith');
    expect(message.body).toContain('Turnstile 1');
    expect(message.url).toMatch(/^https?:\/\//);
    // Another browser's keys cannot read it.
    expect(() => decrypt(got!.body, browserKeys().ecdh, browser.auth)).toThrow();
  });

  it('another host cannot delete my subscription; I can (then it is 404)', async () => {
    const second = browserKeys();
    const r = await req(host, 'POST', '/api/host/push/subscriptions', {
      endpoint: push.endpoint('browser-2'),
      keys: { p256dh: second.p256dh, auth: second.authB64 },
    });
    expect(r.statusCode, r.body).toBe(201);
    const id = (r.json() as { id: string }).id;
    expect((await req(other, 'DELETE', `/api/host/push/subscriptions/${id}`)).statusCode).toBe(404);
    expect((await req(host, 'DELETE', `/api/host/push/subscriptions/${id}`)).statusCode).toBe(204);
    expect((await req(host, 'DELETE', `/api/host/push/subscriptions/${id}`)).statusCode).toBe(404);
  });

  it('410 from the push service: the subscription is deleted and the message dead at once', async () => {
    push.respond('browser-1', 410);
    const before = push.received.length;
    const row = await send(subId, 'Boris Gone');
    expect(row.status).toBe('dead');
    expect(row.attempts).toBe(1);
    expect(row.lastError).not.toContain('browser-1');
    expect(push.received.length).toBe(before + 1);
    expect(await t.app.ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.id, subId))).toHaveLength(0);
    expect((await req(host, 'GET', '/api/host/preferences')).json().push).toEqual({ subscriptions: 0 });
    expect(await hostRecipients(t.app.ctx, t.app.ctx.db, host.userId)).toEqual([{ channel: 'email', to: host.email }]);
  });

  it('a 500 from the push service is retried', async () => {
    const keys = browserKeys();
    const r = await req(host, 'POST', '/api/host/push/subscriptions', {
      endpoint: push.endpoint('browser-3'),
      keys: { p256dh: keys.p256dh, auth: keys.authB64 },
    });
    const id = (r.json() as { id: string }).id;
    push.respond('browser-3', 500);
    const before = push.received.length;
    const pending = send(id, 'Clara Later');
    await push.waitFor(before + 1);
    push.respond('browser-3', 201);
    const row = await pending;
    expect(row.status, row.lastError ?? '').toBe('sent');
    expect(row.attempts).toBe(2);
    const last = push.received.at(-1)!;
    expect(JSON.parse(decrypt(last.body, keys.ecdh, keys.auth)).title).toContain('Clara Later');
  });
});
