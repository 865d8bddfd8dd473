import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { Timestamp, Uuid } from '../../lib/pagination.js';

/** Where a guest is on their journey, from the pass's timestamps (latest reached wins) and its status. */
export const GUEST_STATES = ['not_invited', 'invited', 'link_opened', 'signed_in', 'arrived', 'left', 'revoked'] as const;
export type GuestState = (typeof GUEST_STATES)[number];

/**
 * One guest of a host's visit. Deliberately without phone, document number or
 * any entry credential: a Host follows their guests, never holds what opens a
 * gate; the e-mail is masked (the host typed it, but a list needs no more).
 */
export const HostGuest = Type.Object({
  visitorId: Uuid(),
  name: Type.String(),
  company: Type.Optional(Nullable(Type.String())),
  email: Nullable(Type.String({ description: 'masked: a***@e***.com' })),
  passId: Nullable(Uuid()),
  state: Type.Union([
    Type.Literal('not_invited'),
    Type.Literal('invited'),
    Type.Literal('link_opened'),
    Type.Literal('signed_in'),
    Type.Literal('arrived'),
    Type.Literal('left'),
    Type.Literal('revoked'),
  ]),
  stateAt: Nullable(Timestamp()),
});

export const HostVisit = Type.Object({
  id: Uuid(),
  site: Nullable(Type.Object({ id: Uuid(), name: Type.String(), timezone: Type.String() })),
  room: Nullable(Type.String()),
  startsAt: Timestamp(),
  endsAt: Timestamp(),
  status: Type.Union([Type.Literal('scheduled'), Type.Literal('cancelled'), Type.Literal('done')]),
  language: Nullable(Type.Union([Type.Literal('en'), Type.Literal('ru')])),
  guests: Type.Array(HostGuest),
});

export const HostVisitPage = Type.Object({ items: Type.Array(HostVisit), nextCursor: Nullable(Type.String()) });

export const HostVisitQuery = Type.Object({
  from: Type.Optional(Timestamp({ description: 'visits starting at or after this time; default: now − 1 day' })),
  to: Type.Optional(Timestamp({ description: 'visits starting before this time' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 128 })),
});

/** A guest as the host types them: email or phone (or both) is how the invitation reaches them. */
export const InvitedGuest = Type.Object(
  {
    fullName: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 320 }))),
    phone: Type.Optional(Nullable(Type.String({ minLength: 3, maxLength: 32, pattern: '^[0-9+() .-]+$' }))),
    company: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);

export const InvitationBody = Type.Object(
  {
    startsAt: Timestamp(),
    endsAt: Timestamp(),
    siteId: Type.Optional(Nullable(Uuid())),
    room: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    language: Type.Optional(Nullable(Type.Union([Type.Literal('en'), Type.Literal('ru')]))),
    guests: Type.Array(InvitedGuest, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);

export const GuestParams = Type.Object({ id: Uuid(), visitorId: Uuid() });
