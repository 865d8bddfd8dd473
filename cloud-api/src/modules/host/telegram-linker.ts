/**
 * How the cloud learns a host's Telegram chat: the host opens
 * `t.me/<bot>?start=<code>`, Telegram sends the bot `/start <code>`, and the
 * cloud reads it with the Bot API's `getUpdates` (long polling). No webhook:
 * the cloud need not be reachable from Telegram, and a self-hosted Bot API
 * server works the same.
 *
 * Polling runs only for an organisation that has a bot AND live link codes,
 * and for each such bot exactly one poller runs across all cloud instances —
 * Telegram answers a second concurrent `getUpdates` with 409 Conflict. A new
 * code is announced with NOTIFY (channel `telegram_link`, sent in the code's
 * own transaction), so no instance queries for work on a short timer; a slow
 * tick only lets another instance take over the bot of one that died.
 *
 * Why an advisory lock and not a self-rescheduling pg-boss job: the queue's
 * queues use pg-boss's `standard` policy, under which a singletonKey does not
 * stop two jobs of one key from running at once, and a job's long poll would
 * also have to fit its expiry. A session-level `pg_try_advisory_lock` on one
 * dedicated connection per instance is exact: the instance holding an
 * organisation's lock polls its bot; when it dies its connection closes and
 * the lock is free for the next instance's tick. On PGlite there is one
 * instance (the database is in-process), so no lock is taken.
 *
 * Offsets: an update is confirmed to Telegram by the next `getUpdates` with
 * a higher offset, so a poller that stops mid-batch leaves the rest to be
 * delivered again; handling `/start <code>` is idempotent (a used code does
 * nothing twice).
 */
import { and, eq, gt, isNotNull, isNull, sql } from 'drizzle-orm';
import pg from 'pg';
import type { Logger } from 'pino';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { hostPreferences, orgSettings, telegramLinkCodes, users } from '../../db/schema.js';
import { writeAudit } from '../../lib/audit.js';
import { sha256 } from '../../lib/crypto.js';
import { pickLanguage, translator } from '../../lib/i18n.js';
import { BotApiError, callBotApi } from '../notifications/channels/telegram.js';
import { getOrgSettings, telegramBotToken } from '../orgs/settings.js';
import { chatIdAad, toggleChannel } from './preferences.js';

export interface LinkerOptions {
  /** How often each instance looks for organisations with live codes besides the NOTIFY of a new one (ms). */
  tickMs?: number;
  /** `getUpdates`'s long-poll `timeout` (s). */
  pollTimeoutS?: number;
  /** Wait after a failed `getUpdates` (ms). */
  errorBackoffMs?: number;
}

interface TelegramUpdate {
  update_id: number;
  message?: {
    text?: string;
    chat?: { id: number | string; type?: string };
    from?: { language_code?: string };
  };
}

/** `/start <code>`, also as `/start@bot_name <code>`; codes are base64url. */
const START = /^\/start(?:@\w+)?\s+([A-Za-z0-9_-]{16,64})\s*$/;

const LOCK_CLASS = 0x7e1e; // the advisory-lock key space of these pollers (first int); the org's hash is the second

/** The NOTIFY channel of new link codes. */
export const LINK_CHANNEL = 'telegram_link';

/** Tells every instance's linker, once `tx` commits, that `orgId` has a new link code. */
export async function announceLinkCode(tx: Executor, orgId: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${LINK_CHANNEL}, ${orgId})`);
}

export const linkCodeHash = (code: string) => sha256(`telegram-link:${code}`);

export class TelegramLinker {
  readonly #ctx: AppContext;
  readonly #log: Logger | null;
  readonly #tickMs: number;
  readonly #pollTimeoutS: number;
  readonly #errorBackoffMs: number;
  /** Organisations this instance is polling now, each with its stop switch. */
  readonly #running = new Map<string, AbortController>();
  #timer: NodeJS.Timeout | null = null;
  #lockClient: pg.Client | null = null;
  #ticking: Promise<void> | null = null;
  #unlisten: (() => Promise<void>) | null = null;
  #again = false;
  #stopped = true;

  constructor(ctx: AppContext, log: Logger | null, opts: LinkerOptions = {}) {
    this.#ctx = ctx;
    this.#log = log;
    this.#tickMs = opts.tickMs ?? 30_000;
    this.#pollTimeoutS = opts.pollTimeoutS ?? 25;
    this.#errorBackoffMs = opts.errorBackoffMs ?? 5_000;
  }

  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    // A lost LISTEN connection may have missed a NOTIFY: look again once it is back.
    this.#unlisten = await this.#ctx.database.listen(
      LINK_CHANNEL,
      () => this.kick(),
      () => this.kick(),
    );
    this.#timer = setInterval(() => this.kick(), this.#tickMs);
    this.#timer.unref();
    this.kick();
  }

  /** Looks for work now (a link code was just announced) instead of at the next tick. */
  kick(): void {
    if (this.#stopped) return;
    // A look already under way may have read the codes before this one: look once more after it.
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    this.#again = false;
    this.#ticking = this.#tick()
      .catch((err) => this.#log?.warn({ err }, 'telegram linker tick failed'))
      .finally(() => {
        this.#ticking = null;
        if (this.#again) this.kick();
      });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#unlisten?.();
    this.#unlisten = null;
    for (const c of this.#running.values()) c.abort();
    await this.#ticking;
    // Pollers end on abort; wait for them so nothing touches the database after it closes.
    while (this.#running.size > 0) await new Promise((r) => setTimeout(r, 10));
    await this.#lockClient?.end().catch(() => {});
    this.#lockClient = null;
  }

  /** Organisations with a bot and at least one live, unused code. */
  async #pendingOrgs(): Promise<string[]> {
    const rows = await this.#ctx.db
      .selectDistinct({ orgId: telegramLinkCodes.orgId })
      .from(telegramLinkCodes)
      .innerJoin(orgSettings, eq(orgSettings.orgId, telegramLinkCodes.orgId))
      .where(
        and(isNull(telegramLinkCodes.usedAt), gt(telegramLinkCodes.expiresAt, sql`now()`), isNotNull(orgSettings.telegramBotTokenEnc)),
      );
    return rows.map((r) => r.orgId);
  }

  async #hasPending(orgId: string): Promise<boolean> {
    const [row] = await this.#ctx.db
      .select({ one: sql<number>`1` })
      .from(telegramLinkCodes)
      .where(and(eq(telegramLinkCodes.orgId, orgId), isNull(telegramLinkCodes.usedAt), gt(telegramLinkCodes.expiresAt, sql`now()`)))
      .limit(1);
    return !!row;
  }

  async #tick(): Promise<void> {
    for (const orgId of await this.#pendingOrgs()) {
      if (this.#stopped) return;
      if (this.#running.has(orgId)) continue;
      if (!(await this.#lock(orgId))) continue;
      const stop = new AbortController();
      this.#running.set(orgId, stop);
      void this.#poll(orgId, stop.signal)
        .catch((err) => this.#log?.warn({ err: { message: String((err as Error).message) }, orgId }, 'telegram poller stopped'))
        .finally(async () => {
          this.#running.delete(orgId);
          await this.#unlock(orgId).catch(() => {});
          // A code announced while this poller was ending found the lock still held elsewhere: look again.
          this.kick();
        });
    }
  }

  async #lockConnection(): Promise<pg.Client> {
    if (this.#lockClient) return this.#lockClient;
    const client = new pg.Client({ connectionString: this.#ctx.database.url as string, application_name: 'gatehouse-telegram-poll' });
    await client.connect();
    // With the connection gone its locks are gone: stop polling here, another instance (or the next tick) takes over.
    client.on('error', () => {
      if (this.#lockClient === client) this.#lockClient = null;
      for (const c of this.#running.values()) c.abort();
    });
    this.#lockClient = client;
    return client;
  }

  async #lock(orgId: string): Promise<boolean> {
    if (this.#ctx.database.kind === 'pglite') return true;
    const c = await this.#lockConnection();
    const { rows } = await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as ok', [LOCK_CLASS, orgId]);
    return rows[0]?.ok === true;
  }

  async #unlock(orgId: string): Promise<void> {
    if (this.#ctx.database.kind === 'pglite' || !this.#lockClient) return;
    await this.#lockClient.query('select pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, orgId]);
  }

  async #poll(orgId: string, signal: AbortSignal): Promise<void> {
    const base = this.#ctx.config.notify.telegramApiUrl;
    let offset: number | undefined;
    let token: string | null = null;
    while (!signal.aborted && (await this.#hasPending(orgId))) {
      // Read each round: an admin may replace or remove the bot while codes are pending.
      token = telegramBotToken(this.#ctx.sealer, await getOrgSettings(this.#ctx.db, orgId));
      if (!token) return;
      let updates: TelegramUpdate[];
      try {
        updates = await callBotApi<TelegramUpdate[]>(
          base,
          token,
          'getUpdates',
          { ...(offset !== undefined ? { offset } : {}), timeout: this.#pollTimeoutS, allowed_updates: ['message'] },
          { signal, timeoutMs: (this.#pollTimeoutS + 10) * 1000 },
        );
      } catch (err) {
        if (signal.aborted) return;
        // Only what Telegram said (or the kind of network failure): the URL holds the token.
        const why = err instanceof BotApiError ? `${err.status} ${err.description}` : String((err as Error).message);
        this.#log?.warn({ orgId, why }, 'telegram getUpdates failed');
        await sleep(err instanceof BotApiError && err.retryAfterS ? err.retryAfterS * 1000 : this.#errorBackoffMs, signal);
        continue;
      }
      for (const u of updates) {
        offset = Math.max(offset ?? 0, u.update_id + 1);
        try {
          await this.#handle(orgId, token, u);
        } catch (err) {
          this.#log?.warn({ err, orgId, updateId: u.update_id }, 'telegram update not handled');
        }
      }
    }
    // Confirm what was handled, so the next poller (here or elsewhere) does not see it again.
    if (offset !== undefined && token && !signal.aborted)
      await callBotApi(base, token, 'getUpdates', { offset, timeout: 0, limit: 1 }).catch(() => {});
  }

  async #handle(orgId: string, token: string, u: TelegramUpdate): Promise<void> {
    const m = u.message;
    const match = m?.text ? START.exec(m.text) : null;
    const chat = m?.chat;
    if (!match || !chat) return;
    const code = match[1] as string;
    const chatId = String(chat.id);
    const settings = await getOrgSettings(this.#ctx.db, orgId);
    // Only a private chat: arrival notices name guests, and a group would show them to everyone in it.
    // The code is left unused, so the host can still open the link in their own chat.
    if (chat.type !== undefined && chat.type !== 'private') {
      const t = translator(pickLanguage(m?.from?.language_code?.slice(0, 2), settings.defaultLanguage), 'host');
      await this.#reply(orgId, token, chatId, t('telegram.privateOnly'));
      return;
    }
    const linked = await this.#ctx.db.transaction(async (tx) => {
      const [used] = await tx
        .update(telegramLinkCodes)
        .set({ usedAt: sql`now()` })
        .where(
          and(
            eq(telegramLinkCodes.codeHash, linkCodeHash(code)),
            eq(telegramLinkCodes.orgId, orgId),
            isNull(telegramLinkCodes.usedAt),
            gt(telegramLinkCodes.expiresAt, sql`now()`),
          ),
        )
        .returning({ userId: telegramLinkCodes.userId });
      if (!used) return null;
      await toggleChannel(tx, orgId, used.userId, 'telegram', true);
      await tx
        .update(hostPreferences)
        .set({ telegramChatIdEnc: this.#ctx.sealer.seal(chatId, chatIdAad(used.userId)), updatedAt: sql`now()` })
        .where(eq(hostPreferences.userId, used.userId));
      await writeAudit(
        tx,
        { orgId, userId: used.userId, ip: null, userAgent: 'telegram' },
        { action: 'host.telegram_linked', entityType: 'user', entityId: used.userId },
      );
      return used;
    });
    if (!linked) {
      // An expired, used or unknown code: said in the language Telegram reports for the sender.
      const t = translator(pickLanguage(m?.from?.language_code?.slice(0, 2), settings.defaultLanguage), 'host');
      await this.#reply(orgId, token, chatId, t('telegram.expired'));
      return;
    }
    const [user] = await this.#ctx.db
      .select({ language: users.language })
      .from(users)
      .where(and(eq(users.orgId, orgId), eq(users.id, linked.userId)));
    const t = translator(pickLanguage(user?.language, settings.defaultLanguage), 'host');
    await this.#reply(orgId, token, chatId, t('telegram.linked', { org: settings.orgName }));
  }

  async #reply(orgId: string, token: string, chatId: string, text: string): Promise<void> {
    await callBotApi(this.#ctx.config.notify.telegramApiUrl, token, 'sendMessage', { chat_id: chatId, text }).catch((err) =>
      this.#log?.warn({ orgId, why: err instanceof BotApiError ? err.description : 'network' }, 'telegram reply not sent'),
    );
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
