import { Nullable } from '@gatehouse/protocol';
import Type from 'typebox';
import { PERMISSIONS, type Permission } from '../../auth/rbac.js';
import { PageQuery, Timestamp, Uuid } from '../../lib/pagination.js';

/** What a key may be given: every permission but the developer console's own and the host portal (both for people). */
export const KEY_SCOPES = PERMISSIONS.filter(
  (p): p is Exclude<Permission, 'devconsole:manage' | 'host:portal'> => p !== 'devconsole:manage' && p !== 'host:portal',
);
export type KeyScope = (typeof KEY_SCOPES)[number];

export const AppBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    sandbox: Type.Optional(
      Type.Boolean({
        description: 'work in a sandbox organisation of its own, seeded with demo data and a simulated gate (keys `ghk_test_`)',
      }),
    ),
  },
  { additionalProperties: false },
);
export const AppPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const App = Type.Object({
  id: Uuid(),
  name: Type.String(),
  description: Nullable(Type.String()),
  sandbox: Type.Boolean(),
  actsInOrgId: Uuid({ description: "the organisation the application's keys act in: the owner's own, or its sandbox" }),
  createdAt: Timestamp(),
});
export const AppList = Type.Object({ ...PageQuery });
export const AppKeyParams = Type.Object({ id: Uuid(), keyId: Uuid() });

const Scope = Type.Enum(KEY_SCOPES, { description: 'a permission name of rbac.ts' });
const RateLimit = Type.Integer({
  minimum: 1,
  maximum: 100_000,
  description: 'requests a minute this key may make (default: the API-wide limit)',
});

export const KeyBody = Type.Object(
  {
    scopes: Type.Array(Scope, {
      minItems: 1,
      uniqueItems: true,
      description: 'the permissions the key holds; for a real organisation, only ones its creator holds',
    }),
    rateLimitPerMinute: Type.Optional(RateLimit),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'a label for the audit log' })),
  },
  { additionalProperties: false },
);
/** The answer of creating or rotating a key: the only time the key itself is ever shown. */
export const NewKey = Type.Object({
  id: Uuid(),
  key: Type.String({ description: 'the key (`ghk_live_…` or `ghk_test_…`): shown only now, stored only as a hash' }),
  prefix: Type.String({ description: 'its first 13 characters, as lists show it' }),
  scopes: Type.Array(Type.String()),
  rateLimitPerMinute: Nullable(Type.Integer()),
  createdAt: Timestamp(),
});
export const KEY_STATUSES = ['active', 'expiring', 'expired', 'revoked'] as const;
export const ApiKey = Type.Object({
  id: Uuid(),
  prefix: Type.String(),
  scopes: Type.Array(Type.String()),
  rateLimitPerMinute: Nullable(Type.Integer()),
  createdAt: Timestamp(),
  lastUsedAt: Nullable(Timestamp({ description: 'to the minute' })),
  expiresAt: Nullable(Timestamp({ description: 'set when it was rotated: it works until then' })),
  revokedAt: Nullable(Timestamp()),
  rotatedFrom: Nullable(Uuid({ description: 'the key this one replaced' })),
  status: Type.Enum(KEY_STATUSES, { description: 'expiring: rotated, still working until expiresAt' }),
});
export const KeyList = Type.Object({ items: Type.Array(ApiKey) });
export const RotateBody = Type.Object(
  {
    graceSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 2_592_000, default: 86_400, description: 'how long the old key keeps working (default a day)' }),
    ),
  },
  { additionalProperties: false },
);
