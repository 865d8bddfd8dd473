import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

const Language = Type.Union([Type.Literal('en'), Type.Literal('ru')], { description: "the visitors' language; null: the organisation's" });
const Status = Type.Union([Type.Literal('scheduled'), Type.Literal('cancelled'), Type.Literal('done')]);
export const AppointmentBody = Type.Object(
  {
    hostId: Uuid(),
    visitorIds: Type.Array(Uuid(), { minItems: 1, maxItems: 200, uniqueItems: true }),
    startsAt: Timestamp(),
    endsAt: Timestamp(),
    room: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    siteId: Type.Optional(Nullable(Uuid({ description: 'where the visit happens (address and time zone of the invitation)' }))),
    language: Type.Optional(Nullable(Language)),
    invite: Type.Optional(Type.Boolean({ description: 'send each visitor an invitation (e-mail, else SMS) with their pass' })),
    accessRuleId: Type.Optional(
      Uuid({ description: "the rule of the invited visitors' passes; default: the organisation's host-invite rule" }),
    ),
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
    siteId: Type.Optional(Nullable(Uuid())),
    language: Type.Optional(Nullable(Language)),
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
  siteId: Nullable(Uuid()),
  language: Nullable(Language),
  invite: Type.Boolean(),
  status: Status,
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
  hostName: Nullable(Type.String({ description: "The host's name; null for a caller without hosts:read" })),
  visitorNames: Nullable(
    Type.Array(Type.String(), { description: "The visitors' names, in the order of visitorIds; null for a caller without visitors:read" }),
  ),
});
export const AppointmentList = Type.Object({
  ...PageQuery,
  hostId: Type.Optional(Uuid()),
  visitorId: Type.Optional(Uuid({ description: 'Only the appointments this visitor is on' })),
  q: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        "Exact search (names are sealed): an id (appointment, host or visitor), a visitor e-mail or phone, the host's login e-mail (by keyed hash), or whole words of a visitor's or the host's name (by keyed hashes of its words)",
    }),
  ),
});
