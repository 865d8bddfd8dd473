/**
 * How any module sends a message: `notify(ctx, tx, message)` writes the message
 * log row (sealed address and variables, masked address in clear) and enqueues
 * its `notify.send` job in the caller's transaction, so a message exists
 * exactly when what caused it was committed. Rendering and delivery happen in
 * the job (sender.ts), with the queue's retries and dead-letter state.
 */
import { uuidv7 } from '@gatehouse/protocol';
import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { type Channel, type Language, notifications } from '../../db/schema.js';

export const NOTIFY_QUEUE = 'notify.send';

export const TEMPLATE_KEYS = [
  /** To a visitor: you are invited (with the .ics and the guest link). */
  'invitation',
  /** To a visitor: the visit's time, place or host changed. */
  'invitation_update',
  /** To a visitor: the visit is cancelled. */
  'invitation_cancelled',
  /** To a visitor: their pass was revoked. */
  'pass_revoked',
  /** To a visitor: the visit is soon. */
  'reminder',
  /** To a visitor: the one-time code of the guest page. */
  'guest_code',
  /** To a host: their guest has arrived. */
  'arrival',
  /** To anyone: a test message from the console. */
  'test',
  /** To a developer: their application's webhook endpoint kept failing and was disabled. */
  'webhook_disabled',
] as const;
export type TemplateKey = (typeof TEMPLATE_KEYS)[number];

export interface Attachment {
  filename: string;
  contentType: string;
  /** UTF-8 text (an .ics calendar entry). */
  content: string;
}

export interface Message {
  orgId: string;
  channel: Channel;
  /** E-mail address, E.164 phone number, Telegram chat id, or a push subscription id. */
  to: string;
  template: TemplateKey;
  language: Language;
  /** Template variables, already formatted for the language and the site's time zone. */
  vars: Record<string, string>;
  attachments?: Attachment[];
  userId?: string | null;
  passId?: string | null;
  appointmentId?: string | null;
  /** Who caused it (null: the system, e.g. a reminder or an arrival). */
  actorId?: string | null;
}

export interface MessagePayload {
  vars: Record<string, string>;
  attachments: Attachment[];
}

/** The sealed columns' AAD binds them to their row. */
export const recipientAad = (id: string) => `notifications.recipient:${id}`;
export const payloadAad = (id: string) => `notifications.payload:${id}`;

/** What lists show of an address: enough to recognise it, not enough to use it. */
export function maskRecipient(channel: Channel, to: string): string {
  if (channel === 'email') {
    const at = to.lastIndexOf('@');
    if (at < 1) return '***';
    const local = to.slice(0, at);
    const [host = '', ...rest] = to.slice(at + 1).split('.');
    return `${local[0]}***@${host[0] ?? ''}***${rest.length ? `.${rest.at(-1)}` : ''}`;
  }
  if (channel === 'sms') return to.length > 4 ? `${to.slice(0, 2)}${'*'.repeat(Math.max(3, to.length - 4))}${to.slice(-2)}` : '***';
  if (channel === 'telegram') return `telegram:***${to.slice(-3)}`;
  return `push:${to.slice(0, 8)}`;
}

/** Logs the message and enqueues its delivery in `tx`; answers the message id. */
export async function notify(ctx: AppContext, tx: Executor, m: Message): Promise<string> {
  const id = uuidv7();
  const payload: MessagePayload = { vars: m.vars, attachments: m.attachments ?? [] };
  await tx.insert(notifications).values({
    id,
    orgId: m.orgId,
    channel: m.channel,
    template: m.template,
    language: m.language,
    recipientEnc: ctx.sealer.seal(m.to, recipientAad(id)),
    recipientMasked: maskRecipient(m.channel, m.to),
    payloadEnc: ctx.sealer.seal(JSON.stringify(payload), payloadAad(id)),
    userId: m.userId ?? null,
    passId: m.passId ?? null,
    appointmentId: m.appointmentId ?? null,
    createdBy: m.actorId ?? null,
    updatedBy: m.actorId ?? null,
  });
  const jobId = await ctx.jobs.send(NOTIFY_QUEUE, { orgId: m.orgId, id }, { tx });
  if (jobId) await tx.update(notifications).set({ jobId }).where(eq(notifications.id, id));
  return id;
}
