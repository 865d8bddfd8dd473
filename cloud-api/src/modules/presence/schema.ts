import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { Timestamp, Uuid } from '../../lib/pagination.js';
import { SiteModeSchema } from '../sites/schema.js';

export const ForgiveBody = Type.Object(
  {
    siteId: Type.Optional(Uuid({ description: 'only at this site; without it, at every site where the pass has a state' })),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false, examples: [{ reason: 'Went out through the fire door with the guard' }] },
);

export const Presence = Type.Object({
  siteId: Uuid(),
  passId: Uuid(),
  useCount: Type.Integer(),
  insideCount: Type.Integer({ description: 'people inside on this pass: 0/1, up to its size for a group pass' }),
  // null: forgiven (outside), or never counted.
  lastDirection: Nullable(Type.Union([Type.Literal('in'), Type.Literal('out')])),
  lastAt: Nullable(Timestamp()),
  lastGateId: Nullable(Uuid()),
  lastZoneId: Nullable(Uuid()),
  forgivenAt: Nullable(Timestamp()),
  forgivenBy: Nullable(Uuid()),
});
export const ForgiveResult = Type.Object({ passId: Uuid(), items: Type.Array(Presence) });

export const MusterQuery = Type.Object({
  siteId: Type.Optional(Uuid()),
  zoneId: Type.Optional(Uuid({ description: 'only people whose last entry was at a gate of this zone' })),
});
export const MusterItem = Type.Object({
  passId: Uuid(),
  visitorName: Nullable(Type.String({ description: 'null for a caller without visitors:read' })),
  company: Nullable(Type.String({ description: 'null without one, or for a caller without visitors:read' })),
  hostName: Nullable(Type.String({ description: 'null without one, or for a caller without hosts:read' })),
  passType: Type.Union([Type.Literal('single'), Type.Literal('multi'), Type.Literal('group')]),
  people: Type.Integer({ minimum: 1 }),
  siteId: Uuid(),
  zoneId: Nullable(Uuid()),
  zoneName: Nullable(Type.String()),
  gateId: Nullable(Uuid()),
  gateName: Nullable(Type.String()),
  since: Timestamp({ description: 'the counted entry' }),
});
export const Muster = Type.Object({
  generatedAt: Timestamp(),
  sites: Type.Array(
    Type.Object({
      siteId: Uuid(),
      siteName: Type.String(),
      mode: SiteModeSchema,
      total: Type.Integer({ description: 'people inside' }),
      zones: Type.Array(Type.Object({ zoneId: Nullable(Uuid()), zoneName: Nullable(Type.String()), count: Type.Integer() })),
    }),
  ),
  items: Type.Array(MusterItem),
});
