import { GateDirectionSchema, Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { EX } from '../../lib/examples.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

export const GateBody = Type.Object(
  { siteId: Uuid(), zoneId: Uuid(), name: Type.String({ minLength: 1, maxLength: 200 }), direction: GateDirectionSchema },
  { additionalProperties: false, examples: [{ siteId: EX.site, zoneId: EX.zone, name: 'Turnstile 1', direction: 'in' }] },
);
export const GatePatch = Type.Object(
  {
    zoneId: Type.Optional(Uuid()),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    direction: Type.Optional(GateDirectionSchema),
    /** A disabled gate's controller is disconnected from the broker at once and refused until enabled again. */
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const Gate = Type.Object({
  id: Uuid(),
  orgId: Uuid(),
  siteId: Uuid(),
  zoneId: Uuid(),
  name: Type.String(),
  direction: GateDirectionSchema,
  lockdown: Type.Boolean(),
  emergency: Type.Optional(Type.Boolean({ description: 'released for evacuation: held open until released (CMD-4)' })),
  disabled: Type.Boolean(),
  deviceId: Nullable(Type.String()),
  online: Type.Boolean(),
  lastSeenAt: Nullable(Timestamp()),
  cacheSeq: Type.Integer(),
  outboxDepth: Type.Integer(),
  version: Nullable(Type.String()),
  clockSkewMs: Type.Optional(
    Type.Integer({ description: "SYNC-5: the controller's clock minus the cloud's in ms, from its last status that reported one" }),
  ),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export const GateList = Type.Object({ ...PageQuery, siteId: Type.Optional(Uuid()), zoneId: Type.Optional(Uuid()) });
export const Enrollment = Type.Object({
  code: Type.String(),
  expiresAt: Timestamp(),
  /** SPEC SIGN-7: the fingerprint of the organisation's signing key; `gatehouse-edge enroll` prints the one it received, and the two must match. */
  orgKeyFingerprint: Type.String({ pattern: '^[0-9A-F]{4}(-[0-9A-F]{4}){15}$' }),
});
export const CommandBody = Type.Object(
  {
    type: Type.Union([Type.Literal('open'), Type.Literal('lockdown'), Type.Literal('release')]),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export const CommandResult = Type.Object({ id: Uuid(), status: Type.String() });
