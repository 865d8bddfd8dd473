import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

export const AuditList = Type.Object({
  ...PageQuery,
  entityType: Type.Optional(Type.String({ maxLength: 64 })),
  entityId: Type.Optional(Type.String({ maxLength: 64 })),
  actorId: Type.Optional(Uuid()),
  actorAppId: Type.Optional(Uuid({ description: 'an application: the rows its API keys wrote' })),
  since: Type.Optional(Timestamp()),
  until: Type.Optional(Timestamp()),
  q: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        'an id: the object’s history and what the user or application of that id did; else every word, any case, in the action, the kind or id of the object, or the details',
    }),
  ),
});
export const AuditEntry = Type.Object({
  id: Uuid(),
  orgId: Uuid(),
  actorId: Nullable(Uuid({ description: 'the user who acted (null for the system and for an application)' })),
  actorAppId: Nullable(Uuid({ description: 'the application whose API key acted' })),
  actor: Type.Object(
    {
      type: Type.Union([Type.Literal('user'), Type.Literal('application'), Type.Literal('system')]),
      id: Nullable(Uuid()),
      name: Nullable(Type.String({ description: "an application's name, or a user's (for a caller with users:read)" })),
      email: Nullable(Type.String({ description: "a user's e-mail, for a caller with users:read" })),
    },
    { description: 'who acted, whatever it was' },
  ),
  action: Type.String(),
  entityType: Type.String(),
  entityId: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  data: Nullable(Type.Record(Type.String(), Type.Unknown())),
  createdAt: Timestamp(),
});
