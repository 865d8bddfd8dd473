import Type from 'typebox';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

export const ZoneBody = Type.Object(
  { siteId: Uuid(), name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export const Zone = Type.Object({
  id: Uuid(),
  orgId: Uuid(),
  siteId: Uuid(),
  name: Type.String(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export const ZoneList = Type.Object({ ...PageQuery, siteId: Type.Optional(Uuid()) });
export const ZonePatch = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
