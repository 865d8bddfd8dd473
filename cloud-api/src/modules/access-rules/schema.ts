import { AntiPassbackSchema, HolidayPolicySchema, Nullable, TimeWindowSchema } from '@gatehouse/protocol';
import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

const PassbackMinutes = Type.Integer({
  minimum: 1,
  maximum: 10_080,
  description: 'DEC-11 timed: an entry this many minutes after the last one is forgiven; null = never',
});

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
  escortRequired: Type.Boolean({ description: 'DEC-15: admitted only with an escort credential shown at the same gate' }),
  escortSeconds: Type.Integer({
    minimum: 1,
    maximum: 600,
    description: 'DEC-15: how close in time, before or after, the escort must be shown (default 30)',
  }),
  antiPassback: AntiPassbackSchema,
  passbackMinutes: Nullable(PassbackMinutes),
  holidays: HolidayPolicySchema,
};

/**
 * `null` by value, not by type: the request validator coerces types, and would read a `0` as `null` ("never
 * forgive") instead of refusing it.
 */
const NullValue = Type.Unsafe<null>({ const: null });
// The null first: tried after the integer, a null would already have been coerced to 0 by it.
const passbackMinutesInput = Type.Union([NullValue, PassbackMinutes]);

/** Written as a mode; the booleans of the first API version still work (true = hard, false = off). */
const AntiPassbackInput = Type.Union([AntiPassbackSchema, Type.Boolean()], {
  description: 'DEC-11: off, soft (admit and alert) or hard (deny). Legacy booleans: true = hard, false = off.',
});
const HolidaysInput = Type.Union(HolidayPolicySchema.anyOf, {
  description: 'DEC-14: observe the site’s holiday calendar (default) or open on those days as on any other',
});

const writable = {
  maxUses: Type.Optional(fields.maxUses),
  escortRequired: Type.Optional(fields.escortRequired),
  escortSeconds: Type.Optional(fields.escortSeconds),
  antiPassback: Type.Optional(AntiPassbackInput),
  passbackMinutes: Type.Optional(passbackMinutesInput),
  holidays: Type.Optional(HolidaysInput),
};
export const RuleBody = Type.Object(
  {
    name: fields.name,
    zoneIds: fields.zoneIds,
    weekdays: fields.weekdays,
    timeWindows: fields.timeWindows,
    ...writable,
  },
  { additionalProperties: false },
);
export const RulePatch = Type.Object(
  {
    name: Type.Optional(fields.name),
    zoneIds: Type.Optional(fields.zoneIds),
    weekdays: Type.Optional(fields.weekdays),
    timeWindows: Type.Optional(fields.timeWindows),
    ...writable,
  },
  { additionalProperties: false, minProperties: 1 },
);
export const Rule = Type.Object({ id: Uuid(), orgId: Uuid(), ...fields, createdAt: Timestamp(), updatedAt: Timestamp() });
export const RuleList = Type.Object({ ...PageQuery });
