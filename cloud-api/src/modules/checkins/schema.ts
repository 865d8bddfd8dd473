import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

export const CheckinList = Type.Object({
  ...PageQuery,
  gateId: Type.Optional(Uuid()),
  passId: Type.Optional(Uuid()),
  siteId: Type.Optional(Uuid()),
  since: Type.Optional(Timestamp({ description: 'occurredAt >= since' })),
  until: Type.Optional(Timestamp({ description: 'occurredAt < until' })),
});
export const Checkin = Type.Object({
  id: Uuid(),
  passId: Type.Union([Uuid(), Type.Null()]),
  gateId: Uuid(),
  siteId: Uuid(),
  type: Type.String(),
  credentialKind: Type.String(),
  direction: Type.String(),
  allow: Type.Boolean(),
  reason: Type.String(),
  occurredAt: Timestamp(),
  receivedAt: Timestamp(),
});
export const Occupant = Type.Object({
  passId: Uuid(),
  visitorId: Type.Union([Uuid(), Type.Null()]),
  visitorName: Type.Union([Type.String(), Type.Null()]),
  gateId: Uuid(),
  since: Timestamp(),
});
export const Occupancy = Type.Object({ siteId: Uuid(), count: Type.Integer(), items: Type.Array(Occupant) });
