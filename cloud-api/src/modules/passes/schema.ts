import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const PassType = Type.Union([Type.Literal('single'), Type.Literal('multi'), Type.Literal('group')]);
export const PassStatus = Type.Union([Type.Literal('draft'), Type.Literal('active'), Type.Literal('revoked'), Type.Literal('expired')]);
export const CardBody = Type.Object(
  {
    format: Type.Union([Type.Literal('w26'), Type.Literal('w34'), Type.Literal('raw')]),
    number: Type.String({ pattern: '^[0-9]{1,20}$' }),
  },
  { additionalProperties: false },
);
export const PassBody = Type.Object(
  {
    visitorId: Uuid(),
    accessRuleId: Uuid(),
    type: PassType,
    validFrom: Timestamp(),
    validTo: Timestamp(),
    appointmentId: Type.Optional(Nullable(Uuid())),
    card: Type.Optional(Nullable(CardBody)),
    maxUses: Type.Optional(
      Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'entries allowed (multi/group); default: the rule’s' })),
    ),
    status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('active')], { default: 'active' })),
  },
  { additionalProperties: false },
);
export const Pass = Type.Object({
  id: Uuid(),
  orgId: Uuid(),
  visitorId: Uuid(),
  appointmentId: Nullable(Uuid()),
  accessRuleId: Uuid(),
  type: PassType,
  status: PassStatus,
  validFrom: Timestamp(),
  validTo: Timestamp(),
  maxUses: Nullable(Type.Integer()),
  card: Nullable(CardBody),
  revokedAt: Nullable(Timestamp()),
  revokedReason: Nullable(Type.String()),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export const IssuedPass = Type.Object({
  ...Pass.properties,
  guestToken: Type.String({ description: 'bearer token of the guest page; valid until the pass ends' }),
  guestUrl: Type.String(),
});
export const PassList = Type.Object({ ...PageQuery, visitorId: Type.Optional(Uuid()), status: Type.Optional(PassStatus) });
export const RevokeBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false });
export const CredentialQuery = Type.Object({
  kind: Type.Optional(Type.Union([Type.Literal('dynamic'), Type.Literal('static')], { default: 'dynamic' })),
});
export const Credential = Type.Object({ kind: Type.String(), payload: Type.String(), expiresAt: Timestamp() });
export const CheckBody = Type.Object(
  { gateId: Uuid(), at: Type.Optional(Timestamp()), direction: Type.Optional(Type.Union([Type.Literal('in'), Type.Literal('out')])) },
  { additionalProperties: false },
);
export const CheckResult = Type.Object({ allow: Type.Boolean(), reason: Type.String() });
