import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

export const SiteBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Moscow' }),
  },
  { additionalProperties: false },
);
export const Site = Type.Object({
  id: Uuid(),
  orgId: Uuid(),
  name: Type.String(),
  timezone: Type.String(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export const SiteList = Type.Object({ ...PageQuery });
export const SitePatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
