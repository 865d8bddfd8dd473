/**
 * SMS through any provider behind one small HTTP contract: `POST SMS_URL`
 * with JSON `{to, text}` (and `Authorization: Bearer SMS_TOKEN` when set). A
 * gateway of one's own, or a thin adapter in front of a provider, keeps the
 * cloud free of any provider's API. A 4xx (other than 429) is permanent: the
 * request itself is wrong (a bad number, a refused token), retrying repeats it.
 *
 * Each attempt is bounded by NOTIFY_TIMEOUT_S, and the gateway has a circuit
 * breaker (`sms:<host>`): once it failed BREAKER_THRESHOLD times in a row
 * (unreachable, no answer in time, 5xx), messages fail fast for the cool-down
 * instead of each holding a worker for the whole timeout; the queue retries them.
 */
import type { AppContext } from '../../../context.js';
import { breakersOf } from '../../../lib/breaker.js';
import type { ChannelAdapter, Rendered } from './channel.js';
import { PermanentDeliveryError } from './channel.js';
import { RetryableDeliveryError } from './telegram.js';

/** The gateway answered, with a status that says it is in trouble (5xx) or busy (429): retried later. */
class GatewayStatusError extends RetryableDeliveryError {
  constructor(readonly status: number) {
    super(`SMS gateway answered ${status}`);
  }
}

/** What counts against the gateway's breaker: no answer (network, timeout) or a 5xx; a 4xx or 429 is an answer. */
const gatewayFailing = ({ error }: { error?: unknown }): boolean =>
  error !== undefined && !(error instanceof PermanentDeliveryError) && !(error instanceof GatewayStatusError && error.status < 500);

export function smsChannel(ctx: AppContext): ChannelAdapter {
  const { smsUrl, smsToken, timeoutMs } = ctx.config.notify;
  const dependency = smsUrl ? `sms:${new URL(smsUrl).host}` : '';
  return {
    async send(to: string, m: Rendered) {
      if (!smsUrl) throw new PermanentDeliveryError('SMS is not configured');
      await breakersOf(ctx).run(
        dependency,
        async () => {
          let res: Response;
          try {
            res = await fetch(smsUrl, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...(smsToken ? { authorization: `Bearer ${smsToken}` } : {}) },
              body: JSON.stringify({ to, text: m.text }),
              signal: AbortSignal.timeout(timeoutMs),
            });
            // The provider's answer may repeat the number; only the status is kept.
            await res.body?.cancel();
          } catch (err) {
            // fetch's own error may quote the request; only the kind of failure is kept.
            const e = err as { name?: string; cause?: { code?: string } };
            throw new RetryableDeliveryError(
              `SMS gateway: ${e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? 'network error')}`,
            );
          }
          if (res.ok) return;
          if (res.status >= 400 && res.status < 500 && res.status !== 429)
            throw new PermanentDeliveryError(`SMS gateway answered ${res.status}`);
          throw new GatewayStatusError(res.status);
        },
        gatewayFailing,
      );
    },
  };
}
