import { CardSchema, DirectionSchema, Nullable, PassStatusSchema, PassTypeSchema, QrKindSchema, ReasonSchema } from '@gatehouse/protocol';
import Type from 'typebox';
import { EX } from '../../lib/examples.js';
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
      Nullable(
        Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          description:
            'entries allowed (multi/group); default: the rule’s. A group pass needs a size of 2..1000 here or from its rule (422 group_size_required)',
        }),
      ),
    ),
    escort: Type.Optional(
      Type.Boolean({ default: false, description: 'DEC-15: this credential may escort visitors (a staff card, a host’s pass)' }),
    ),
    status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('active')], { default: 'active' })),
  },
  {
    additionalProperties: false,
    examples: [{ visitorId: EX.visitor, accessRuleId: EX.rule, type: 'single', validFrom: EX.from, validTo: EX.to }],
  },
);
const passExample = {
  id: EX.pass,
  orgId: EX.org,
  visitorId: EX.visitor,
  appointmentId: null,
  accessRuleId: EX.rule,
  type: 'single',
  status: 'active',
  validFrom: EX.from,
  validTo: EX.to,
  maxUses: 1,
  card: null,
  escort: false,
  revokedAt: null,
  revokedReason: null,
  createdAt: EX.created,
  updatedAt: EX.created,
} as const;
export const Pass = Type.Object(
  {
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
    escort: Type.Boolean({ description: 'DEC-15: may escort visitors' }),
    revokedAt: Nullable(Timestamp()),
    revokedReason: Nullable(Type.String()),
    createdAt: Timestamp(),
    updatedAt: Timestamp(),
    visitorName: Type.Optional(Nullable(Type.String({ description: "The visitor's name, in lists only; null without visitors:read" }))),
  },
  { examples: [passExample] },
);
export const IssuedPass = Type.Object(
  {
    ...Pass.properties,
    guestToken: Type.String({ description: 'bearer token of the guest page; valid until the pass ends' }),
    guestUrl: Type.String(),
  },
  {
    examples: [
      {
        ...passExample,
        guestToken: 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIuLi4ifQ.c2ln',
        guestUrl: 'https://gatehouse.example.com/guest#token=eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIuLi4ifQ.c2ln',
      },
    ],
  },
);
export const PassList = Type.Object({
  ...PageQuery,
  visitorId: Type.Optional(Uuid()),
  status: Type.Optional(PassStatus),
  q: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        'Exact search (personal data is sealed): an id, a visitor e-mail or phone (by keyed hash), a card number, or whole words of the visitor name (by keyed hashes of its words)',
    }),
  ),
});
export const RevokeBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false });
export const CredentialQuery = Type.Object({
  kind: Type.Optional(Type.Union(QrKindSchema.anyOf, { default: 'dynamic' })),
});
export const Credential = Type.Object({ kind: QrKindSchema, payload: Type.String(), expiresAt: Timestamp() });
export const CheckBody = Type.Object(
  {
    gateId: Uuid(),
    at: Type.Optional(Timestamp()),
    direction: Type.Optional(DirectionSchema),
    escorted: Type.Optional(
      Type.Boolean({ description: 'DEC-15: an escort’s credential is shown at the gate at the same moment', default: false }),
    ),
  },
  { additionalProperties: false },
);
export const CheckResult = Type.Object({
  allow: Type.Boolean(),
  reason: ReasonSchema,
  alert: Type.Optional(Type.Literal('passback', { description: 'admitted, but a soft anti-passback rule reports it (DEC-11)' })),
});
