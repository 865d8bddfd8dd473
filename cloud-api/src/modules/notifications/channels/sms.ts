/**
 * SMS through any provider behind one small HTTP contract: `POST SMS_URL`
 * with JSON `{to, text}` (and `Authorization: Bearer SMS_TOKEN` when set). A
 * gateway of one's own, or a thin adapter in front of a provider, keeps the
 * cloud free of any provider's API. A 4xx (other than 429) is permanent: the
 * request itself is wrong (a bad number, a refused token), retrying repeats it.
 */
import type { AppContext } from '../../../context.js';
import type { ChannelAdapter, Rendered } from './channel.js';
import { PermanentDeliveryError } from './channel.js';

const TIMEOUT_MS = 10_000;

export function smsChannel(ctx: AppContext): ChannelAdapter {
  const { smsUrl, smsToken } = ctx.config.notify;
  return {
    async send(to: string, m: Rendered) {
      if (!smsUrl) throw new PermanentDeliveryError('SMS is not configured');
      const res = await fetch(smsUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(smsToken ? { authorization: `Bearer ${smsToken}` } : {}) },
        body: JSON.stringify({ to, text: m.text }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      // The provider's answer may repeat the number; only the status is kept.
      await res.body?.cancel();
      if (res.ok) return;
      const message = `SMS gateway answered ${res.status}`;
      if (res.status >= 400 && res.status < 500 && res.status !== 429) throw new PermanentDeliveryError(message);
      throw new Error(message);
    },
  };
}
