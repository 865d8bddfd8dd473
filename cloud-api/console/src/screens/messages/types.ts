/**
 * The notifications API as the console calls it. The shapes are the server's
 * (cloud-api/src/modules/notifications/schema.ts through lib/types.ts); only
 * the lists the forms offer live here, as records keyed by the server's unions
 * so that a value added to or dropped from the server fails the type check.
 */
import type { MailMessage, MailSummary, NotificationItem, Preview, TemplateItem } from '../../lib/types.ts';

export type { MailMessage, MailSummary };
export type Message = NotificationItem;
export type Template = TemplateItem;
export type Rendered = Preview;
export type Channel = Message['channel'];
export type Status = Message['status'];
export type Language = Message['language'];
export type TemplateKey = Template['key'];

export const MESSAGES = {
  log: '/api/admin/notifications',
  retry: (id: string) => `/api/admin/notifications/${id}/retry`,
  test: '/api/admin/notifications/test',
  mailbox: '/api/admin/mailbox',
  mail: (id: string) => `/api/admin/mailbox/${id}`,
  templates: '/api/admin/notification-templates',
  template: (key: string, language: string) => `/api/admin/notification-templates/${key}/${language}`,
  preview: '/api/admin/notification-templates/preview',
} as const;

/** Each member of the union `T` once, in the record's order (a Record<T, …> literal must name them all and no other). */
const members = <T extends string>(all: Record<T, true>) => Object.keys(all) as T[];

export const CHANNELS = members<Channel>({ email: true, telegram: true, webpush: true, sms: true });
export const STATUSES = members<Status>({ queued: true, sent: true, failed: true, dead: true });
export const LANGUAGES = members<Language>({ en: true, ru: true });
export const TEMPLATE_KEYS = members<TemplateKey>({
  invitation: true,
  invitation_update: true,
  invitation_cancelled: true,
  pass_revoked: true,
  reminder: true,
  guest_code: true,
  arrival: true,
  test: true,
  webhook_disabled: true,
});
