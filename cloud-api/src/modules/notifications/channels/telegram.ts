/**
 * Telegram through the Bot API (`TELEGRAM_API_URL`, the public
 * https://api.telegram.org by default; a self-hosted Bot API server answers
 * the same methods under another base URL). Each organisation has its own bot
 * (org_settings); a host's chat id comes from linking (modules/host/telegram-linker.ts).
 *
 * The bot token is part of every request URL (`/bot<token>/<method>`), so no
 * URL, request or library error is ever logged or put into an error message:
 * errors below are built from the method name and Telegram's answer only.
 *
 * A message's sendMessage is bounded by NOTIFY_TIMEOUT_S and goes through the
 * Bot API host's circuit breaker (`telegram:<host>`, one for every
 * organisation's bot: they all reach the same server): after BREAKER_THRESHOLD
 * failures in a row (unreachable, no answer in time, 5xx) messages fail fast
 * for the cool-down and the queue retries them.
 */
import type { AppContext } from '../../../context.js';
import { breakersOf } from '../../../lib/breaker.js';
import { type ChannelAdapter, PermanentDeliveryError } from './channel.js';

/** How long one Bot API call may take when the caller gives no bound (the linker's calls; a long poll adds its own `timeout`). */
export const BOT_API_TIMEOUT_MS = 10_000;

/** A Bot API answer of `ok: false` (or a non-JSON failure), with what Telegram said and never the URL. */
export class BotApiError extends Error {
  override name = 'BotApiError';
  constructor(
    readonly method: string,
    /** Telegram's `error_code` (its HTTP status), or the HTTP status when the body was not the Bot API's. */
    readonly status: number,
    readonly description: string,
    /** `parameters.retry_after` of a 429, seconds. */
    readonly retryAfterS: number | null = null,
  ) {
    super(`telegram ${method}: ${status} ${description}`.slice(0, 300));
  }
}

/**
 * A failure that a later attempt may fix: the job queue retries it with its backoff. A 429 carries
 * Telegram's `retry_after`; the queue's own delay grows past it after a retry or two.
 */
export class RetryableDeliveryError extends Error {
  override name = 'RetryableDeliveryError';
  constructor(
    message: string,
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }
}

export interface BotApiOptions {
  /** Cancels the call (shutdown of a long poll). */
  signal?: AbortSignal;
  /** Default BOT_API_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** One Bot API call: its `result`, or a BotApiError (Telegram said no) / RetryableDeliveryError (network, timeout). */
export async function callBotApi<T>(
  baseUrl: string,
  token: string,
  method: string,
  body: Record<string, unknown>,
  opts: BotApiOptions = {},
): Promise<T> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? BOT_API_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(`${baseUrl}/bot${token}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    // The fetch error's cause may name the request; only its kind is kept.
    const kind = timeout.aborted
      ? `no answer within ${opts.timeoutMs ?? BOT_API_TIMEOUT_MS} ms`
      : ((err as { cause?: { code?: string } }).cause?.code ?? 'network error');
    throw new RetryableDeliveryError(`telegram ${method}: ${kind}`);
  }
  let answer: { ok?: boolean; result?: T; error_code?: number; description?: string; parameters?: { retry_after?: number } };
  try {
    answer = (await res.json()) as typeof answer;
  } catch {
    throw new BotApiError(method, res.status, res.statusText || 'not a Bot API answer');
  }
  if (answer.ok === true) return answer.result as T;
  const retryAfter = answer.parameters?.retry_after;
  throw new BotApiError(
    method,
    answer.error_code ?? res.status,
    String(answer.description ?? 'failed'),
    typeof retryAfter === 'number' ? retryAfter : null,
  );
}

/** Maps a Bot API failure to what the queue should do with the message. */
export function deliveryError(err: unknown): Error {
  if (!(err instanceof BotApiError)) return err instanceof Error ? err : new Error(String(err));
  // 403: the user blocked the bot; 400: chat not found, message malformed; 401/404: the token is not a bot's.
  // None of these gets better by waiting: the message goes dead (an admin may retry it after fixing the bot).
  if (err.status === 400 || err.status === 401 || err.status === 403 || err.status === 404) return new PermanentDeliveryError(err.message);
  if (err.status === 429)
    return new RetryableDeliveryError(`telegram ${err.method}: rate limited, retry after ${err.retryAfterS ?? '?'} s`, err.retryAfterS);
  return new RetryableDeliveryError(err.message);
}

/** Telegram allows 4096 characters per message. */
const MAX_TEXT = 4096;

/** What counts against the Bot API's breaker: no answer (network, timeout) or a 5xx; Telegram saying no (4xx, 429) is an answer. */
const botApiFailing = ({ error }: { error?: unknown }): boolean =>
  error instanceof RetryableDeliveryError || (error instanceof BotApiError && error.status >= 500);

export function telegramChannel(ctx: AppContext): ChannelAdapter {
  const { telegramApiUrl, timeoutMs } = ctx.config.notify;
  const dependency = `telegram:${new URL(telegramApiUrl).host}`;
  return {
    async send(to, message, org) {
      if (!org.telegramBotToken) throw new PermanentDeliveryError('telegram is not set up for this organisation (no bot token)');
      const text = message.text.length > MAX_TEXT ? `${message.text.slice(0, MAX_TEXT - 1)}…` : message.text;
      try {
        // No parse_mode: the text is plain (names and rooms come from people and must not be read as markup).
        const token = org.telegramBotToken;
        await breakersOf(ctx).run(
          dependency,
          () => callBotApi(telegramApiUrl, token, 'sendMessage', { chat_id: to, text, disable_web_page_preview: true }, { timeoutMs }),
          botApiFailing,
        );
      } catch (err) {
        throw deliveryError(err);
      }
    },
  };
}
