/** What the notifications API answers (cloud-api/src/modules/notifications/schema.ts). */
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

export const CHANNELS = ['email', 'telegram', 'webpush', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];
export const STATUSES = ['queued', 'sent', 'failed', 'dead'] as const;
export type Status = (typeof STATUSES)[number];
export const LANGUAGES = ['en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];
export const TEMPLATE_KEYS = [
  'invitation',
  'invitation_update',
  'invitation_cancelled',
  'pass_revoked',
  'reminder',
  'guest_code',
  'arrival',
  'test',
] as const;
export type TemplateKey = (typeof TEMPLATE_KEYS)[number];

export interface Message {
  id: string;
  channel: Channel;
  template: string;
  language: Language;
  /** Masked. */
  to: string;
  status: Status;
  attempts: number;
  error?: string;
  passId: string | null;
  appointmentId: string | null;
  createdAt: string;
  sentAt?: string;
}

export interface MailSummary {
  id: string;
  to: string;
  subject: string;
  date: string;
}

export interface MailMessage extends MailSummary {
  text: string;
  html: string;
  attachments: string[];
}

export interface Template {
  key: TemplateKey;
  language: Language;
  subject: string;
  body: string;
  customised: boolean;
  variables: string[];
}

export interface Rendered {
  subject: string;
  text: string;
  html: string;
}
