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
  actorId: Type.Union([Uuid(), Type.Null()]),
  action: Type.String(),
  entityType: Type.String(),
  entityId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  createdAt: Timestamp(),
});
