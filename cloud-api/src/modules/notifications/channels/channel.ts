/**
 * One adapter per channel (email, telegram, webpush, sms), each in its own
 * file beside this one. The sender (../sender.ts) renders the template and
 * hands the adapter the finished message; an adapter only delivers it.
 */
import type { Attachment } from '../outbox.js';

export interface Rendered {
  subject: string;
  /** Plain text (Telegram, SMS, push, and the text part of an e-mail). */
  text: string;
  /** The branded HTML of an e-mail. */
  html: string;
  attachments: Attachment[];
  /** A link the message is about (the guest page, the host portal): a push notification opens it. */
  url?: string;
}

/** What an adapter may need of the organisation it sends for. */
export interface OrgDelivery {
  orgId: string;
  orgName: string;
  /** The organisation's own bot (opened from org_settings); null: Telegram is not set up. */
  telegramBotToken: string | null;
}

export interface ChannelAdapter {
  send(to: string, message: Rendered, org: OrgDelivery): Promise<void>;
}

/**
 * A failure no retry can fix (a push subscription that is gone, a chat that blocked the bot,
 * a channel that is not configured): the message goes dead at once instead of retrying for hours.
 */
export class PermanentDeliveryError extends Error {
  override name = 'PermanentDeliveryError';
}
