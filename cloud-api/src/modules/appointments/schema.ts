import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

const Status = Type.Union([Type.Literal('scheduled'), Type.Literal('cancelled'), Type.Literal('done')]);
export const AppointmentBody = Type.Object(
  {
    hostId: Uuid(),
    visitorIds: Type.Array(Uuid(), { minItems: 1, maxItems: 200, uniqueItems: true }),
    startsAt: Timestamp(),
    endsAt: Timestamp(),
    room: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);
export const AppointmentPatch = Type.Object(
  {
    hostId: Type.Optional(Uuid()),
    visitorIds: Type.Optional(Type.Array(Uuid(), { minItems: 1, maxItems: 200, uniqueItems: true })),
    startsAt: Type.Optional(Timestamp()),
    endsAt: Type.Optional(Timestamp()),
    room: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    status: Type.Optional(Status),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const Appointment = Type.Object({
  id: Uuid(),
  orgId: Uuid(),
  hostId: Uuid(),
  visitorIds: Type.Array(Uuid()),
  startsAt: Timestamp(),
  endsAt: Timestamp(),
  room: Nullable(Type.String()),
  status: Status,
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export const AppointmentList = Type.Object({ ...PageQuery, hostId: Type.Optional(Uuid()) });
