/**
 * Delivery of the message log (outbox.ts writes it): the `notify.send` job
 * opens one row, renders its template in the organisation's wording and
 * branding, hands it to the channel's adapter and records the outcome.
 *
 * Outcomes: `sent` (with sentAt); `failed` (the job throws, so the queue
 * retries with backoff); `dead` (the last attempt, or a failure no retry can
 * fix: the job then completes without throwing, so nothing retries it until
 * an admin does). An error kept or logged never holds the address.
 */
import { and, eq, sql } from 'drizzle-orm';
import { Counter, type Registry } from 'prom-client';
import type { AppContext } from '../../context.js';
import { type NotificationStatus, notifications } from '../../db/schema.js';
import type { Attempt } from '../../jobs/queue.js';
import { getOrgSettings, telegramBotToken } from '../orgs/settings.js';
import { type ChannelAdapter, PermanentDeliveryError } from './channels/channel.js';
import { createChannels } from './channels/index.js';
import { type MessagePayload, NOTIFY_QUEUE, payloadAad, recipientAad } from './outbox.js';
import { effectiveTemplate, isTemplateKey, renderTemplate } from './templates.js';

export interface NotifyJob {
  orgId: string;
  /** The notifications row. */
  id: string;
}

const counters = new WeakMap<AppContext, Counter<'channel' | 'status'>>();

/** `gatehouse_notifications_total{channel,status}`: one count per attempt's outcome (sent, failed, dead). */
export function notificationCounter(ctx: AppContext): Counter<'channel' | 'status'> {
  let c = counters.get(ctx);
  if (!c) {
    c = new Counter({
      name: 'gatehouse_notifications_total',
      help: 'Message delivery attempts by channel and outcome (sent, failed = will retry, dead)',
      labelNames: ['channel', 'status'] as const,
      registers: [],
    });
    counters.set(ctx, c);
  }
  return c;
}

/** Adds the notification counter to the app's /metrics registry (plugins/app/metrics.ts). */
export function registerNotificationMetrics(registry: Registry, ctx: AppContext): void {
  registry.registerMetric(notificationCounter(ctx));
}

const EMAIL_RE = /[^\s<>()"',;:]+@[^\s<>()"',;:]+/g;
const PHONE_RE = /\+\d[\d\s().-]{6,}\d/g;

/** What may be kept of an error: its message without the address (nor any other address or number), one line, short. */
export function safeError(err: unknown, to: string): string {
  let msg = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  if (to) msg = msg.split(to).join('***');
  return msg.replace(EMAIL_RE, '***').replace(PHONE_RE, '***').replace(/\s+/g, ' ').trim().slice(0, 500) || 'delivery failed';
}

/** The handler of `notify.send`. */
export function notifySender(ctx: AppContext, channels: Record<string, ChannelAdapter> = createChannels(ctx)) {
  const counter = notificationCounter(ctx);
  return async (job: NotifyJob, attempt: Attempt): Promise<void> => {
    const log = ctx.jobs.log;
    const [row] = await ctx.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.id, job.id), eq(notifications.orgId, job.orgId)));
    if (!row) {
      log?.warn({ notificationId: job.id, orgId: job.orgId }, 'notification to send is gone');
      return;
    }
    if (row.status === 'sent') return;
    let to = '';
    let status: NotificationStatus;
    let lastError: string | null = null;
    try {
      to = ctx.sealer.open(row.recipientEnc, recipientAad(row.id));
      const payload = JSON.parse(ctx.sealer.open(row.payloadEnc, payloadAad(row.id))) as MessagePayload;
      if (!isTemplateKey(row.template)) throw new PermanentDeliveryError(`unknown template ${row.template}`);
      const adapter = channels[row.channel];
      if (!adapter) throw new PermanentDeliveryError(`unknown channel ${row.channel}`);
      const settings = await getOrgSettings(ctx.db, row.orgId);
      const tpl = await effectiveTemplate(ctx.db, row.orgId, row.template, row.language);
      const rendered = renderTemplate(tpl, payload.vars, settings, row.language);
      await adapter.send(
        to,
        { ...rendered, attachments: payload.attachments, ...(payload.vars.guestUrl ? { url: payload.vars.guestUrl } : {}) },
        { orgId: row.orgId, orgName: settings.orgName, telegramBotToken: telegramBotToken(ctx.sealer, settings) },
      );
      status = 'sent';
    } catch (err) {
      lastError = safeError(err, to);
      status = err instanceof PermanentDeliveryError || attempt.final ? 'dead' : 'failed';
      log?.warn(
        { notificationId: row.id, orgId: row.orgId, channel: row.channel, attempt: attempt.attempt, status, error: lastError },
        'notification delivery failed',
      );
    }
    await ctx.db
      .update(notifications)
      .set({
        status,
        attempts: sql`${notifications.attempts} + 1`,
        lastError,
        ...(status === 'sent' ? { sentAt: new Date() } : {}),
        updatedAt: new Date(),
      })
      .where(and(eq(notifications.id, row.id), eq(notifications.orgId, row.orgId)));
    counter.inc({ channel: row.channel, status });
    // Only a failure that may still succeed goes back to the queue; its error is the cleaned one.
    if (status === 'failed') throw new Error(lastError ?? 'delivery failed');
  };
}

/** Declares the queue; call while the app's plugins register (workers start when it is ready). */
export async function defineNotifyQueue(ctx: AppContext): Promise<void> {
  await ctx.jobs.define<NotifyJob>(NOTIFY_QUEUE, notifySender(ctx), { expireInS: 120, concurrency: 2 });
}
