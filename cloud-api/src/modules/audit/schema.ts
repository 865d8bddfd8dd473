import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

export const AuditList = Type.Object({
  ...PageQuery,
  entityType: Type.Optional(Type.String({ maxLength: 64 })),
  entityId: Type.Optional(Type.String({ maxLength: 64 })),
  actorId: Type.Optional(Uuid()),
  since: Type.Optional(Timestamp()),
  until: Type.Optional(Timestamp()),
});
export const AuditEntry = Type.Object({
  id: Uuid(),
  orgId: Uuid(),
  actorId: Nullable(Uuid()),
  action: Type.String(),
  entityType: Type.String(),
  entityId: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  data: Nullable(Type.Record(Type.String(), Type.Unknown())),
  createdAt: Timestamp(),
});
