import { CardSchema, DirectionSchema, Nullable, PassStatusSchema, PassTypeSchema, QrKindSchema, ReasonSchema } from '@gatehouse/protocol';
import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

export const PassType = PassTypeSchema;
export const PassStatus = PassStatusSchema;
export const CardBody = CardSchema;
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
  kind: Type.Optional(Type.Union(QrKindSchema.anyOf, { default: 'dynamic' })),
});
export const Credential = Type.Object({ kind: QrKindSchema, payload: Type.String(), expiresAt: Timestamp() });
export const CheckBody = Type.Object(
  { gateId: Uuid(), at: Type.Optional(Timestamp()), direction: Type.Optional(DirectionSchema) },
  { additionalProperties: false },
);
export const CheckResult = Type.Object({ allow: Type.Boolean(), reason: ReasonSchema });
