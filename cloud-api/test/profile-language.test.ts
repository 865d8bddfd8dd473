/**
 * A user's own language (issue 12 item 7): `PATCH /api/auth/me {language}`
 * stores it, `GET /api/auth/me` and the next sign-in's token pair carry it,
 * null goes back to the browser's, anything else is refused; every change is
 * audited as `user.language`, and nobody changes another user's language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, createOrgWithUser, type Login, login, startApp, type TestApp } from './helpers.js';

describe('profile language', () => {
  let t: TestApp;
  let admin: Login;
  let operator: Login;
  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Language Org', ['OrgAdmin']);
    operator = await addUser(t.app, admin.orgId, ['Operator']);
  });
  afterAll(async () => t?.close());

  const me = (who: Login) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: who.auth });
  const setLanguage = (who: Login | null, payload: unknown) =>
    t.app.inject({ method: 'PATCH', url: '/api/auth/me', headers: who ? who.auth : {}, payload: payload as object });

  it('starts unset (null: the browser decides)', async () => {
    expect((await me(operator)).json().language).toBeNull();
  });

  it('stores the choice: /me, the answer itself and the next sign-in all say ru', async () => {
    const r = await setLanguage(operator, { language: 'ru' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ id: operator.userId, orgId: operator.orgId, email: operator.email, roles: ['Operator'], language: 'ru' });
    expect((await me(operator)).json().language).toBe('ru');
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: operator.email, password: operator.password },
    });
    expect(again.json().user.language).toBe('ru');
    // Another user's profile is untouched.
    expect((await me(admin)).json().language).toBeNull();
  });

  it('a refreshed token pair carries it too, and null resets it', async () => {
    const fresh = await login(t.app, operator.email, operator.password);
    const refreshed = await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: fresh.refreshToken } });
    expect(refreshed.json().user.language).toBe('ru');
    const r = await setLanguage(operator, { language: null });
    expect(r.statusCode).toBe(200);
    expect((await me(operator)).json().language).toBeNull();
  });

  it('refuses a language the console does not speak and anonymous callers; other fields change nothing', async () => {
    for (const body of [{ language: 'de' }, { language: 'RU' }, { language: 7 }, {}]) {
      const r = await setLanguage(operator, body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await setLanguage(null, { language: 'ru' })).statusCode).toBe(401);
    expect((await me(operator)).json()).toMatchObject({ roles: ['Operator'], language: null });
    // Only the language is a profile field: roles in the body are dropped by the schema, never applied.
    const sneaky = await setLanguage(operator, { language: null, roles: ['OrgAdmin'] });
    expect(sneaky.json()).toMatchObject({ roles: ['Operator'], language: null });
  });

  it('every change is in the audit log as user.language, from and to', async () => {
    await setLanguage(admin, { language: 'en' });
    await setLanguage(admin, { language: 'ru' });
    const log = await t.app.inject({ url: '/api/admin/audit-logs?limit=100', headers: admin.auth });
    const rows = (log.json().items as { action: string; actorId: string; entityId: string; data: unknown }[]).filter(
      (a) => a.action === 'user.language',
    );
    // Newest first: the admin's two, then the operator's three (the last one set null again over null).
    expect(rows.map((a) => [a.entityId, a.data])).toEqual([
      [admin.userId, { from: 'en', to: 'ru' }],
      [admin.userId, { from: null, to: 'en' }],
      [operator.userId, { from: null, to: null }],
      [operator.userId, { from: 'ru', to: null }],
      [operator.userId, { from: null, to: 'ru' }],
    ]);
    for (const a of rows) expect(a.actorId).toBe(a.entityId);
  });
});
