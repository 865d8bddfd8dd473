import Type from 'typebox';
import { EX } from '../../lib/examples.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

export const ZoneBody = Type.Object(
  { siteId: Uuid(), name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false, examples: [{ siteId: EX.site, name: 'Lobby' }] },
);
export const Zone = Type.Object(
  {
    id: Uuid(),
    orgId: Uuid(),
    siteId: Uuid(),
    name: Type.String(),
    createdAt: Timestamp(),
    updatedAt: Timestamp(),
  },
  { examples: [{ id: EX.zone, orgId: EX.org, siteId: EX.site, name: 'Lobby', createdAt: EX.created, updatedAt: EX.created }] },
);
export const ZoneList = Type.Object({ ...PageQuery, siteId: Type.Optional(Uuid()) });
export const ZonePatch = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
