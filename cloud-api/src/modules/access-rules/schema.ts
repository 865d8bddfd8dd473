import { Nullable, TimeWindowSchema } from '@gatehouse/protocol';
import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  zoneIds: Type.Array(Uuid(), { minItems: 1, maxItems: 256, uniqueItems: true }),
  weekdays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
    maxItems: 7,
    uniqueItems: true,
    description: 'ISO weekdays, Monday = 1; empty = every day',
  }),
  timeWindows: Type.Array(TimeWindowSchema, {
    maxItems: 16,
    description: 'local times; empty = all day',
  }),
  maxUses: Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  escortRequired: Type.Boolean(),
  antiPassback: Type.Boolean(),
};
export const RuleBody = Type.Object(
  {
    name: fields.name,
    zoneIds: fields.zoneIds,
    weekdays: fields.weekdays,
    timeWindows: fields.timeWindows,
    maxUses: Type.Optional(fields.maxUses),
    escortRequired: Type.Optional(fields.escortRequired),
    antiPassback: Type.Optional(fields.antiPassback),
  },
  { additionalProperties: false },
);
export const RulePatch = Type.Object(
  {
    name: Type.Optional(fields.name),
    zoneIds: Type.Optional(fields.zoneIds),
    weekdays: Type.Optional(fields.weekdays),
    timeWindows: Type.Optional(fields.timeWindows),
    maxUses: Type.Optional(fields.maxUses),
    escortRequired: Type.Optional(fields.escortRequired),
    antiPassback: Type.Optional(fields.antiPassback),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const Rule = Type.Object({ id: Uuid(), orgId: Uuid(), ...fields, createdAt: Timestamp(), updatedAt: Timestamp() });
export const RuleList = Type.Object({ ...PageQuery });
