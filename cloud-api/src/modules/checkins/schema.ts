import {
  AlarmKindSchema,
  AlertSchema,
  CheckinTypeSchema,
  CredentialKindSchema,
  DirectionSchema,
  Nullable,
  ReasonSchema,
} from '@gatehouse/protocol';
import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

/** What a list or an export of check-ins is narrowed by. */
const CheckinFilters = {
  gateId: Type.Optional(Uuid()),
  passId: Type.Optional(Uuid()),
  siteId: Type.Optional(Uuid()),
  since: Type.Optional(Timestamp({ description: 'occurredAt >= since' })),
  until: Type.Optional(Timestamp({ description: 'occurredAt < until' })),
  result: Type.Optional(
    Type.Union([Type.Literal('allow'), Type.Literal('deny')], { description: 'Only allowed, or only refused, check-ins' }),
  ),
  q: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        'Exact search (personal data is sealed): an id (check-in, pass or gate), a visitor e-mail or phone (by keyed hash), a card number, or whole words of the visitor name (by keyed hashes of its words)',
    }),
  ),
};
export const CheckinList = Type.Object({ ...PageQuery, ...CheckinFilters });
export const CheckinExport = Type.Object({
  ...CheckinFilters,
  lang: Type.Optional(
    Type.Union([Type.Literal('en'), Type.Literal('ru')], {
      description: 'The language of reasonText; default: the first of Accept-Language this server speaks, else English',
    }),
  ),
});
export const Checkin = Type.Object({
  id: Uuid(),
  passId: Nullable(Uuid()),
  gateId: Uuid(),
  siteId: Uuid(),
  type: CheckinTypeSchema,
  credentialKind: CredentialKindSchema,
  direction: DirectionSchema,
  allow: Type.Boolean(),
  reason: ReasonSchema,
  occurredAt: Timestamp(),
  receivedAt: Timestamp(),
  counted: Type.Optional(Type.Boolean({ description: 'The event moved the pass in or out (DEC-12): what presence and the muster count' })),
  alert: Type.Optional(AlertSchema),
  alarm: Type.Optional(
    Type.Object({
      kind: AlarmKindSchema,
      state: Type.Union([Type.Literal('raised'), Type.Literal('cleared')]),
      detail: Type.Optional(Type.String()),
    }),
  ),
  visitorName: Nullable(Type.String({ description: "The pass's visitor; null without a pass, or for a caller without visitors:read" })),
  hostName: Nullable(
    Type.String({ description: "The host of the pass's appointment; null without one, or for a caller without hosts:read" }),
  ),
});
export const Occupant = Type.Object({
  passId: Uuid(),
  visitorId: Nullable(Uuid()),
  visitorName: Nullable(Type.String({ description: 'null for a caller without visitors:read' })),
  gateId: Uuid(),
  since: Timestamp(),
});
export const Occupancy = Type.Object({
  siteId: Uuid(),
  count: Type.Integer({ description: 'people inside: a group pass counts the people it let in, as the muster does' }),
  items: Type.Array(Occupant),
});
export const DashboardQuery = Type.Object({
  siteId: Type.Optional(Uuid()),
  hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 168, default: 24, description: 'How many whole hours, the current one last' })),
});
export const Dashboard = Type.Object({
  since: Timestamp({ description: 'Start of the first hour' }),
  allowed: Type.Integer(),
  denied: Type.Integer(),
  hours: Type.Array(Type.Object({ start: Timestamp(), allowed: Type.Integer(), denied: Type.Integer() })),
});
