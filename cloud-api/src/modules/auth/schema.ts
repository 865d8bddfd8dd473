import Type from 'typebox';

export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    organizationId: Type.Optional(
      Type.String({
        format: 'uuid',
        description: 'only when the same e-mail and password open accounts in several organisations (409 organization_required)',
      }),
    ),
  },
  { additionalProperties: false, examples: [{ email: 'admin@example.com', password: 'correct horse battery staple' }] },
);
export const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 10, maxLength: 512 }) }, { additionalProperties: false });

/** A language of the console and of the messages a user gets. */
export const Language = Type.Union([Type.Literal('en'), Type.Literal('ru')]);
const ProfileLanguage = Type.Union([Language, Type.Null()], {
  description: "the user's language for the console; null: the browser's (navigator.languages)",
});

export const UserSummary = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  email: Type.String(),
  roles: Type.Array(Type.String()),
  language: ProfileLanguage,
});
/** What a user changes of their own profile (`PATCH /api/auth/me`). */
export const ProfilePatch = Type.Object({ language: ProfileLanguage }, { additionalProperties: false });
export const TokenPair = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  expiresIn: Type.Integer({ description: 'access token lifetime, seconds' }),
  user: UserSummary,
});
