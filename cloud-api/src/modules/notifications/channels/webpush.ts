/**
 * Web Push to a host's browsers (RFC 8030 delivery, RFC 8291 aes128gcm
 * payload encryption, RFC 8292 VAPID), through the `web-push` package.
 *
 * The VAPID key pair is derived from the master key (an HKDF subkey used as
 * the P-256 private scalar): every cloud instance has the same pair, nothing
 * is stored, and a browser's subscription (made with the public key) stays
 * valid across restarts. Rotating the master key changes the pair, after which
 * push services refuse the old subscriptions (403) and hosts subscribe again;
 * `rotate-keys` deletes them (orgs/personal-data.ts rotateKeys).
 *
 * Each push is bounded by NOTIFY_TIMEOUT_S, and each push service host (one
 * per browser vendor: fcm.googleapis.com, updates.push.services.mozilla.com, …)
 * has its own circuit breaker (`webpush:<host>`): one vendor's outage fails its
 * pushes fast after BREAKER_THRESHOLD failures in a row, the others' go on.
 */
import { createECDH } from 'node:crypto';
import { request } from 'node:https';
import { and, eq } from 'drizzle-orm';
import webpush from 'web-push';
import type { AppContext } from '../../../context.js';
import type { Executor } from '../../../db/client.js';
import { pushSubscriptions } from '../../../db/schema.js';
import { BreakerOpenError, breakersOf } from '../../../lib/breaker.js';
import { deriveKey } from '../../../lib/crypto.js';
import { type ChannelAdapter, PermanentDeliveryError } from './channel.js';
import { RetryableDeliveryError } from './telegram.js';

export interface VapidKeys {
  /** Uncompressed P-256 point, base64url (the browser's `applicationServerKey`). */
  publicKey: string;
  /** The 32-byte private scalar, base64url. */
  privateKey: string;
}

const vapidCache = new WeakMap<Buffer, VapidKeys>();

/** The cloud's VAPID key pair, the same on every instance with the same master key. */
export function vapidKeys(masterKey: Buffer): VapidKeys {
  const cached = vapidCache.get(masterKey);
  if (cached) return cached;
  const ecdh = createECDH('prime256v1');
  // An HKDF output is a valid scalar unless it is 0 or ≥ the group order (odds about 2^-32); setPrivateKey
  // would then throw at start, and a master key that unlucky is replaced, not worked around silently.
  const priv = Buffer.from(deriveKey(masterKey, 'vapid'));
  ecdh.setPrivateKey(priv);
  const keys = { publicKey: ecdh.getPublicKey(undefined, 'uncompressed').toString('base64url'), privateKey: priv.toString('base64url') };
  vapidCache.set(masterKey, keys);
  return keys;
}

/** What a browser's `PushSubscription.toJSON()` holds (sealed at rest: the endpoint is a bearer capability). */
export interface StoredSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export const subscriptionAad = (id: string) => `push_subscriptions.subscription:${id}`;
export const ENDPOINT_LOOKUP = 'push_subscriptions.endpoint';

/** The subscription `id` of this organisation, opened; null when it is gone. */
export async function openSubscription(ctx: AppContext, db: Executor, orgId: string, id: string): Promise<StoredSubscription | null> {
  const [row] = await db
    .select({ enc: pushSubscriptions.subscriptionEnc })
    .from(pushSubscriptions)
    .where(and(eq(pushSubscriptions.orgId, orgId), eq(pushSubscriptions.id, id)));
  return row ? (JSON.parse(ctx.sealer.open(row.enc, subscriptionAad(id))) as StoredSubscription) : null;
}

/** POSTs a prepared push message; answers the push service's status (any status: the caller judges it). */
function post(details: webpush.RequestDetails, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      details.endpoint,
      { method: details.method, headers: details.headers, signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(details.body ?? undefined);
  });
}

/** What counts against a push service's breaker: no answer (network, timeout) or a 5xx. */
const pushServiceFailing = ({ value, error }: { value?: number; error?: unknown }): boolean => error !== undefined || (value ?? 0) >= 500;

export function webPushChannel(ctx: AppContext): ChannelAdapter {
  const { timeoutMs } = ctx.config.notify;
  return {
    async send(to, message, org) {
      const sub = await openSubscription(ctx, ctx.db, org.orgId, to);
      if (!sub) throw new PermanentDeliveryError('push subscription is gone');
      const keys = vapidKeys(ctx.config.masterKey);
      const payload = JSON.stringify({ title: message.subject, body: message.text, url: message.url ?? `${ctx.config.publicUrl}/` });
      // web-push encrypts (aes128gcm) and signs the VAPID JWT; the request itself is sent here so it has a
      // whole-request deadline (web-push's own `timeout` is only a socket idle timeout).
      const details = webpush.generateRequestDetails(sub, payload, {
        vapidDetails: { subject: ctx.config.notify.vapidSubject, publicKey: keys.publicKey, privateKey: keys.privateKey },
        contentEncoding: 'aes128gcm',
        // An arrival notice is worth nothing a day later; a browser offline longer than this misses it.
        TTL: 3600,
        urgency: 'high',
      });
      let status: number;
      try {
        // The host only (the push service), never the endpoint's path: that is the subscription's capability.
        status = await breakersOf(ctx).run(`webpush:${new URL(sub.endpoint).host}`, () => post(details, timeoutMs), pushServiceFailing);
      } catch (err) {
        if (err instanceof BreakerOpenError) throw err;
        // Never the endpoint (a bearer capability) in the message log: only the kind of failure.
        const e = err as { name?: string; code?: string };
        throw new RetryableDeliveryError(
          `push: ${e.name === 'AbortError' || e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.code ?? 'network error')}`,
        );
      }
      if (status >= 200 && status < 300) return;
      if (status === 404 || status === 410) {
        // The browser unsubscribed or the subscription expired: it never comes back.
        await ctx.db.delete(pushSubscriptions).where(and(eq(pushSubscriptions.orgId, org.orgId), eq(pushSubscriptions.id, to)));
        throw new PermanentDeliveryError(`push: subscription expired (${status}); deleted`);
      }
      await ctx.db
        .update(pushSubscriptions)
        .set({ lastError: `HTTP ${status}` })
        .where(and(eq(pushSubscriptions.orgId, org.orgId), eq(pushSubscriptions.id, to)));
      // 400 malformed, 401/403 VAPID refused (keys changed), 413 too large: waiting does not help.
      if (status === 400 || status === 401 || status === 403 || status === 413)
        throw new PermanentDeliveryError(`push: refused (${status})`);
      throw new RetryableDeliveryError(`push: push service answered ${status}`);
    },
  };
}
