import { HolidayRecordSchema, TimeWindowSchema } from '@gatehouse/protocol';
import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

const { date: LocalDate, kind: Kind } = HolidayRecordSchema.properties;
/** The protocol's own date pattern, so the API and the sync refuse the same strings. */
const datePattern = (LocalDate as typeof LocalDate & { pattern: string }).pattern;

const fields = {
  date: Type.String({ pattern: datePattern, examples: ['2030-12-31'], description: 'local date in the site’s time zone, YYYY-MM-DD' }),
  kind: Type.Union(Kind.anyOf, { description: 'closed: no entry all day; special: entry only inside `windows`' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  windows: Type.Array(TimeWindowSchema, {
    maxItems: 16,
    description: 'the special hours (local; to <= from crosses midnight); at least one for special, none for closed',
  }),
};

const example = {
  siteId: '0190f0a0-0000-7000-8000-000000000001',
  date: '2030-12-31',
  kind: 'special',
  name: 'New Year’s Eve',
  windows: [{ from: '09:00', to: '14:00' }],
} as const;

export const HolidayBody = Type.Object(
  { siteId: Uuid(), ...fields, windows: Type.Optional(fields.windows) },
  { additionalProperties: false, examples: [example] },
);
export const HolidayPatch = Type.Object(
  {
    date: Type.Optional(fields.date),
    kind: Type.Optional(fields.kind),
    name: Type.Optional(fields.name),
    windows: Type.Optional(fields.windows),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const Holiday = Type.Object({
  id: Uuid(),
  orgId: Uuid(),
  siteId: Uuid(),
  ...fields,
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export const HolidayList = Type.Object({
  ...PageQuery,
  siteId: Type.Optional(Uuid()),
  from: Type.Optional(Type.String({ pattern: datePattern, examples: ['2030-12-31'], description: 'first local date, inclusive' })),
  to: Type.Optional(Type.String({ pattern: datePattern, examples: ['2030-12-31'], description: 'last local date, inclusive' })),
});
export const HolidayImport = Type.Object(
  {
    siteId: Uuid(),
    days: Type.Array(Type.Object({ ...fields, windows: Type.Optional(fields.windows) }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 400,
    }),
  },
  { additionalProperties: false },
);
export const HolidayImported = Type.Object({
  created: Type.Integer({ description: 'days that were not in the calendar' }),
  updated: Type.Integer({ description: 'days already in the calendar, replaced by the imported ones' }),
  items: Type.Array(Holiday),
});
