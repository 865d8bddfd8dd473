import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { EX } from '../../lib/examples.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

/** CMD-4: normal, every gate locked down, or every gate released for evacuation. */
export const SiteModeSchema = Type.Union([Type.Literal('normal'), Type.Literal('lockdown'), Type.Literal('emergency')]);

export const SiteBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Moscow' }),
    address: Type.Optional(Nullable(Type.String({ maxLength: 500, description: 'street address, told to invited visitors' }))),
  },
  { additionalProperties: false, examples: [{ name: 'Head office', timezone: 'Europe/London', address: '1 Example Street, London' }] },
);
export const Site = Type.Object(
  {
    id: Uuid(),
    orgId: Uuid(),
    name: Type.String(),
    timezone: Type.String(),
    address: Nullable(Type.String()),
    mode: SiteModeSchema,
    modeReason: Nullable(Type.String({ description: 'why the site entered its mode (or went back to normal)' })),
    modeChangedAt: Nullable(Timestamp()),
    modeChangedBy: Nullable(
      Type.Object(
        { id: Uuid(), name: Nullable(Type.String()) },
        { description: 'the user who last changed the mode (name null if that user is gone)' },
      ),
    ),
    createdAt: Timestamp(),
    updatedAt: Timestamp(),
  },
  {
    examples: [
      {
        id: EX.site,
        orgId: EX.org,
        name: 'Head office',
        timezone: 'Europe/London',
        address: '1 Example Street, London',
        mode: 'normal',
        modeReason: null,
        modeChangedAt: null,
        modeChangedBy: null,
        createdAt: EX.created,
        updatedAt: EX.created,
      },
    ],
  },
);
export const SiteModeBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 500, description: 'why: kept in the audit log and shown on the site' }) },
  { additionalProperties: false, examples: [{ reason: 'Fire alarm in building B' }] },
);
export const SiteModeResult = Type.Object({
  site: Site,
  gates: Type.Array(
    Type.Object({
      gateId: Uuid(),
      commandId: Nullable(Uuid()),
      status: Type.Union([Type.Literal('sent'), Type.Literal('queued'), Type.Literal('not_enrolled')], {
        description:
          'sent to the controller now; queued (offline: it takes the state up from the sync when it is back); no controller enrolled',
      }),
    }),
  ),
});
export const SiteList = Type.Object({ ...PageQuery });
export const SitePatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    address: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
