import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { CHANNELS, LANGUAGES, NOTIFICATION_STATUSES } from '../../db/schema.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';
import { TEMPLATE_KEYS } from './outbox.js';

export const ChannelSchema = Type.Enum(CHANNELS);
export const StatusSchema = Type.Enum(NOTIFICATION_STATUSES);
export const LanguageSchema = Type.Enum(LANGUAGES);
export const TemplateKeySchema = Type.Enum(TEMPLATE_KEYS);

export const NotificationList = Type.Object({
  ...PageQuery,
  status: Type.Optional(StatusSchema),
  channel: Type.Optional(ChannelSchema),
  passId: Type.Optional(Uuid()),
  appointmentId: Type.Optional(Uuid()),
});

export const NotificationItem = Type.Object({
  id: Uuid(),
  channel: ChannelSchema,
  template: Type.String(),
  language: LanguageSchema,
  to: Type.String({ description: 'masked address' }),
  status: StatusSchema,
  attempts: Type.Integer(),
  error: Type.Optional(Type.String()),
  passId: Nullable(Uuid()),
  appointmentId: Nullable(Uuid()),
  createdAt: Timestamp(),
  sentAt: Type.Optional(Timestamp()),
});

export const TestBody = Type.Object(
  {
    channel: ChannelSchema,
    to: Type.String({ minLength: 1, maxLength: 2000, description: 'e-mail, E.164 phone, Telegram chat id or push subscription id' }),
    language: Type.Optional(LanguageSchema),
  },
  { additionalProperties: false },
);

export const MailSummarySchema = Type.Object({ id: Type.String(), to: Type.String(), subject: Type.String(), date: Timestamp() });
export const MailMessageSchema = Type.Object({
  id: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  date: Timestamp(),
  text: Type.String(),
  html: Type.String(),
  attachments: Type.Array(Type.String()),
});
export const MailboxList = Type.Object({ items: Type.Array(MailSummarySchema) });
export const MailParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const TemplateItem = Type.Object({
  key: TemplateKeySchema,
  language: LanguageSchema,
  subject: Type.String(),
  body: Type.String(),
  customised: Type.Boolean(),
  variables: Type.Array(Type.String()),
});
export const TemplateParams = Type.Object({ key: TemplateKeySchema, language: LanguageSchema });
export const TemplateBody = Type.Object(
  { subject: Type.String({ minLength: 1, maxLength: 300 }), body: Type.String({ minLength: 1, maxLength: 20_000 }) },
  { additionalProperties: false },
);
export const PreviewBody = Type.Object(
  {
    key: TemplateKeySchema,
    language: LanguageSchema,
    subject: Type.Optional(Type.String({ maxLength: 300 })),
    body: Type.Optional(Type.String({ maxLength: 20_000 })),
  },
  { additionalProperties: false },
);
export const Preview = Type.Object({ subject: Type.String(), text: Type.String(), html: Type.String() });
export const TemplateList = Type.Object({ items: Type.Array(TemplateItem) });
