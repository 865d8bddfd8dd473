import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { EX } from '../../lib/examples.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

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
        createdAt: EX.created,
        updatedAt: EX.created,
      },
    ],
  },
);
export const SiteList = Type.Object({ ...PageQuery });
export const SitePatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    address: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
