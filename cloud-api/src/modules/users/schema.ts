import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { ROLES } from '../../auth/rbac.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
export const UserBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 320 }),
    fullName: Type.String({ minLength: 1, maxLength: 200 }),
    roles: Type.Array(RoleSchema, { minItems: 1, maxItems: ROLES.length, uniqueItems: true }),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export const User = Type.Object({
  id: Uuid(),
  orgId: Uuid(),
  email: Type.String(),
  fullName: Type.String(),
  roles: Type.Array(Type.String()),
  status: Type.String(),
  hostId: Nullable(Uuid()),
  createdAt: Timestamp(),
});
export const UserPatch = Type.Object(
  {
    fullName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    roles: Type.Optional(Type.Array(RoleSchema, { minItems: 1, maxItems: ROLES.length, uniqueItems: true })),
    status: Type.Optional(
      Type.Union([Type.Literal('active'), Type.Literal('disabled')], { description: 'disabled: cannot sign in; sessions end' }),
    ),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const StaffSearch = Type.Optional(
  Type.String({
    maxLength: 200,
    description:
      'Exact search (names and e-mails are sealed): an id, a login e-mail (by keyed hash), or whole words of a name (by keyed hashes of its words)',
  }),
);
export const UserList = Type.Object({
  ...PageQuery,
  q: StaffSearch,
  role: Type.Optional({ ...RoleSchema, description: 'Only the users who have this role' }),
});
export const Host = Type.Object({
  id: Uuid(),
  userId: Uuid(),
  fullName: Type.String(),
  email: Type.String(),
  position: Nullable(Type.String()),
});
export const HostList = Type.Object({ ...PageQuery, q: StaffSearch });
