/**
 * A local stand-in of the Telegram Bot API (the subset the cloud uses:
 * getMe, getUpdates with offset and long-poll timeout, sendMessage), so tests
 * see exactly what the cloud sends and can play the user's side: `start()`
 * queues the update Telegram would deliver when someone opens a deep link.
 *
 * Like Telegram, a second getUpdates while one is pending ends the first with
 * 409 Conflict (counted in `conflicts`: two pollers of one bot are a bug), and
 * a wrong token gets 401. Failures can be queued per method (`fail`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentMessage {
  chat_id: string | number;
  text: string;
  [k: string]: unknown;
}

export interface Failure {
  /** HTTP status and Bot API error_code (429, 500, 403, 400…). */
  status: number;
  description?: string;
  /** `parameters.retry_after` of a 429. */
  retryAfter?: number;
}

interface Update {
  update_id: number;
  message: Record<string, unknown>;
}

interface Waiting {
  res: ServerResponse;
  timer: NodeJS.Timeout;
  offset: number;
}

export interface BotApiStandIn {
  /** TELEGRAM_API_URL for the cloud. */
  url: string;
  token: string;
  username: string;
  /** Every sendMessage that succeeded, in order. */
  sent: SentMessage[];
  /** Every call, in order (method and body), failed ones included. */
  calls: Array<{ method: string; body: Record<string, unknown> }>;
  /** getUpdates requests ended by a newer one (two pollers at once). */
  conflicts: number;
  /** Queues an update `/start <code>` from a private chat (or another chat type). */
  start(chatId: number, code: string, opts?: { languageCode?: string; chatType?: string }): void;
  /** The next `times` calls of `method` fail like this. */
  fail(method: string, failure: Failure, times?: number): void;
  /** Resolves when sendMessage has reached `n` messages. */
  waitForSent(n: number, ms?: number): Promise<SentMessage[]>;
  close(): Promise<void>;
}

export async function startBotApi(opts: { token?: string; username?: string } = {}): Promise<BotApiStandIn> {
  const token = opts.token ?? `123456:${Math.random().toString(36).slice(2)}`;
  const username = opts.username ?? 'gatehouse_test_bot';
  const updates: Update[] = [];
  const failures = new Map<string, Failure[]>();
  let nextUpdateId = 1000;
  let waiting: Waiting | null = null;
  const sentWaiters: Array<() => void> = [];

  const json = (res: ServerResponse, status: number, body: unknown) => {
    if (res.writableEnded) return;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const pending = (offset: number) => updates.filter((u) => u.update_id >= offset);
  const answerWaiting = () => {
    if (!waiting) return;
    const w = waiting;
    const ready = pending(w.offset);
    if (ready.length === 0) return;
    waiting = null;
    clearTimeout(w.timer);
    json(w.res, 200, { ok: true, result: ready });
  };

  const self: BotApiStandIn = {
    url: '',
    token,
    username,
    sent: [],
    calls: [],
    conflicts: 0,
    start(chatId, code, o = {}) {
      updates.push({
        update_id: nextUpdateId++,
        message: {
          message_id: nextUpdateId,
          date: Math.floor(Date.now() / 1000),
          text: `/start ${code}`,
          chat: { id: chatId, type: o.chatType ?? 'private' },
          from: { id: chatId, is_bot: false, first_name: 'Host', language_code: o.languageCode ?? 'en' },
        },
      });
      answerWaiting();
    },
    fail(method, failure, times = 1) {
      const q = failures.get(method) ?? [];
      for (let i = 0; i < times; i++) q.push(failure);
      failures.set(method, q);
    },
    async waitForSent(n, ms = 10_000) {
      const end = Date.now() + ms;
      while (self.sent.length < n) {
        if (Date.now() > end) throw new Error(`stand-in Bot API: ${self.sent.length} of ${n} messages after ${ms} ms`);
        await new Promise<void>((r) => {
          sentWaiters.push(r);
          setTimeout(r, 50);
        });
      }
      return self.sent;
    },
    close: async () => {
      if (waiting) {
        clearTimeout(waiting.timer);
        json(waiting.res, 200, { ok: true, result: [] });
        waiting = null;
      }
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (!m) return json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, tok, method = ''] = m;
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
    self.calls.push({ method, body });
    if (tok !== token) return json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const failure = failures.get(method)?.shift();
    if (failure)
      return json(res, failure.status, {
        ok: false,
        error_code: failure.status,
        description: failure.description ?? `Stand-in failure ${failure.status}`,
        ...(failure.retryAfter !== undefined ? { parameters: { retry_after: failure.retryAfter } } : {}),
      });
    switch (method) {
      case 'getMe':
        return json(res, 200, { ok: true, result: { id: 123456, is_bot: true, first_name: 'Gatehouse', username } });
      case 'sendMessage': {
        if (typeof body.chat_id !== 'string' && typeof body.chat_id !== 'number')
          return json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
        if (typeof body.text !== 'string' || body.text === '')
          return json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
        self.sent.push(body as SentMessage);
        for (const w of sentWaiters.splice(0)) w();
        return json(res, 200, { ok: true, result: { message_id: self.sent.length, chat: { id: body.chat_id }, text: body.text } });
      }
      case 'getUpdates': {
        const offset = typeof body.offset === 'number' ? body.offset : 0;
        // Like Telegram: an offset confirms (forgets) every earlier update.
        if (offset > 0) updates.splice(0, updates.length, ...pending(offset));
        if (waiting) {
          self.conflicts++;
          clearTimeout(waiting.timer);
          json(waiting.res, 409, {
            ok: false,
            error_code: 409,
            description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
          });
          waiting = null;
        }
        const ready = pending(offset);
        const timeoutS = typeof body.timeout === 'number' ? body.timeout : 0;
        if (ready.length > 0 || timeoutS <= 0) return json(res, 200, { ok: true, result: ready });
        const w: Waiting = {
          res,
          offset,
          timer: setTimeout(() => {
            if (waiting === w) waiting = null;
            json(res, 200, { ok: true, result: [] });
          }, timeoutS * 1000),
        };
        waiting = w;
        res.on('close', () => {
          if (waiting === w) {
            clearTimeout(w.timer);
            waiting = null;
          }
        });
        return;
      }
      default:
        return json(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => json(res, 500, { ok: false, error_code: 500, description: 'stand-in error' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  self.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return self;
}
