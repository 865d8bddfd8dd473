/**
 * Guest sign-in by one-time code (issue 12 item 4): the link alone shows the
 * visit, never the credential; the code goes to the visitor's address through
 * the real message pipeline (notify → job → development mailbox) and is read
 * back from the mailbox as a visitor would read their e-mail; a verified
 * guest session gets the rotating secret while the pass is active. Runs on
 * PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { parseCredential } from '@gatehouse/protocol';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogs, guestCodes, notifications, orgSettings, visitPasses } from '../src/db/schema.js';
import { createOrgWithUser, issuePass, type Login, seedTopology, startApp, type TestApp } from './helpers.js';

describe('guest sign-in by one-time code', () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let n = 0;

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Guest Auth Org', ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
  }, 120_000);
  afterAll(() => t?.close());

  const inject = (
    method: 'GET' | 'POST',
    url: string,
    opts: { payload?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) => t.app.inject({ method, url, ...opts, remoteAddress: `198.51.100.${n++ % 250}` });

  /** A visitor with an e-mail (so the code goes to the mailbox) and an active pass of theirs. */
  async function guest(email = `guest${n++}@example.test`) {
    const v = await t.app.inject({
      method: 'POST',
      url: '/api/admin/visitors',
      headers: admin.auth,
      payload: { fullName: 'Maria Ivanova', email },
    });
    expect(v.statusCode, v.body).toBe(201);
    const pass = await issuePass(t.app, admin, { visitorId: v.json().id, accessRuleId: topo.rule.id });
    return { ...pass, email };
  }

  /** The code as the visitor reads it: the newest message to `email` in the development mailbox. */
  async function codeFromMailbox(email: string, after = 0): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const list = await t.app.inject({ method: 'GET', url: '/api/admin/mailbox', headers: admin.auth });
      expect(list.statusCode, list.body).toBe(200);
      const mine = (list.json().items as { id: string; to: string }[]).filter((m) => m.to.includes(email));
      if (mine.length > after) {
        // Newest first; the code's message is the newest one that carries six digits.
        for (const item of mine) {
          const m = await t.app.inject({ method: 'GET', url: `/api/admin/mailbox/${item.id}`, headers: admin.auth });
          const code = /\b(\d{6})\b/.exec(m.json().text as string)?.[1];
          if (code) return code;
        }
      }
      if (Date.now() > deadline) throw new Error(`no message to ${email} in the mailbox`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const mailCount = async (email: string) =>
    ((await t.app.inject({ method: 'GET', url: '/api/admin/mailbox', headers: admin.auth })).json().items as { to: string }[]).filter((m) =>
      m.to.includes(email),
    ).length;

  async function signIn(p: { guestToken: string; email: string }) {
    const before = await mailCount(p.email);
    const sent = await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
    expect(sent.statusCode, sent.body).toBe(200);
    const code = await codeFromMailbox(p.email, before);
    const ok = await inject('POST', '/api/guest/auth/verify', { payload: { token: p.guestToken, code } });
    expect(ok.statusCode, ok.body).toBe(200);
    return ok.json() as { guestSession: string; expiresAt: string };
  }

  const passWith = (token: string) => inject('GET', '/api/guest/pass', { headers: { authorization: `Bearer ${token}` } });
  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  it('the link alone shows the visit and no credential, and marks the link opened', async () => {
    const p = await guest();
    const r = await inject('GET', `/api/guest/pass?token=${p.guestToken}`);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const body = r.json();
    expect(body).toMatchObject({
      signedIn: false,
      payload: null,
      totpSecret: null,
      staticPayload: null,
      expiresAt: null,
      language: 'en',
      org: { name: 'Guest Auth Org' },
      site: { name: 'HQ', timezone: 'Europe/Moscow' },
    });
    expect(body.pass).toMatchObject({ id: p.id, status: 'active', visitorName: 'Maria' });
    const [row] = await t.app.ctx.db.select().from(visitPasses).where(eq(visitPasses.id, p.id));
    expect(row!.linkOpenedAt).toBeInstanceOf(Date);
    expect(row!.signedInAt).toBeNull();
  });

  it('the code arrives by e-mail; the session it buys gets the rotating credential of that pass', async () => {
    const p = await guest();
    const sent = await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
    expect(sent.statusCode, sent.body).toBe(200);
    const answer = sent.json();
    expect(answer.channel).toBe('email');
    expect(answer.sentTo).toMatch(/^g\*\*\*@e\*\*\*\.test$/);
    expect(answer.sentTo).not.toContain(p.email);
    expect(new Date(answer.expiresAt).getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
    // Stored hashed only: the code of the mailbox is nowhere in the table.
    const code = await codeFromMailbox(p.email);
    const [stored] = await t.app.ctx.db.select().from(guestCodes).where(eq(guestCodes.passId, p.id));
    expect(stored!.codeHash).not.toContain(code);
    expect(stored!.attempts).toBe(0);
    const [msg] = await t.app.ctx.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.passId, p.id), eq(notifications.template, 'guest_code')));
    expect(msg!.recipientMasked).toBe(answer.sentTo);

    const ok = await inject('POST', '/api/guest/auth/verify', { payload: { token: p.guestToken, code } });
    expect(ok.statusCode, ok.body).toBe(200);
    const { guestSession, expiresAt } = ok.json();
    // Until the pass ends (an hour here), not longer.
    expect(new Date(expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);
    const r = await passWith(guestSession);
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.signedIn).toBe(true);
    expect(parseCredential(body.payload)).toMatchObject({ kind: 'dynamic', passId: p.id });
    expect(body.totpSecret).toMatch(/^[A-Z2-7]+=*$/);
    expect(body.secondsUntilChange).toBeGreaterThan(0);
    // The organisation did not turn the static QR on.
    expect(body.staticPayload).toBeNull();
    // Used once: the same code again finds nothing.
    const again = await inject('POST', '/api/guest/auth/verify', { payload: { token: p.guestToken, code } });
    expect(again.statusCode).toBe(410);
    expect(again.json().error.code).toBe('no_code');
    const [row] = await t.app.ctx.db.select().from(visitPasses).where(eq(visitPasses.id, p.id));
    expect(row!.signedInAt).toBeInstanceOf(Date);
    expect(row!.linkOpenedAt).toBeInstanceOf(Date);
    // Audited by pass, never with the code.
    const audit = await t.app.ctx.db.select().from(auditLogs).where(eq(auditLogs.entityId, p.id));
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['guest.code_sent', 'guest.signed_in']));
    expect(JSON.stringify(audit)).not.toContain(code);
    expect(JSON.stringify(audit)).not.toContain(p.email);
  });

  it('five wrong codes burn it; the right one is refused afterwards', async () => {
    const p = await guest();
    await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
    const code = await codeFromMailbox(p.email);
    for (let i = 1; i <= 4; i++) {
      const r = await inject('POST', '/api/guest/auth/verify', { payload: { token: p.guestToken, code: wrong(code) } });
      expect(r.statusCode).toBe(422);
      expect(r.json().error).toMatchObject({ code: 'code_invalid' });
      expect(r.json().error.message).toContain(`${5 - i} attempt`);
    }
    const fifth = await inject('POST', '/api/guest/auth/verify', { payload: { token: p.guestToken, code: wrong(code) } });
    expect(fifth.statusCode).toBe(429);
    expect(fifth.json().error.code).toBe('too_many_attempts');
    const right = await inject('POST', '/api/guest/auth/verify', { payload: { token: p.guestToken, code } });
    expect(right.statusCode).toBe(410);
    expect(right.json().error.code).toBe('no_code');
    const failed = await t.app.ctx.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.entityId, p.id), eq(auditLogs.action, 'guest.code_failed')));
    expect(failed).toHaveLength(5);
    // A new code works again.
    const s = await signIn(p);
    expect((await passWith(s.guestSession)).json().payload).toBeTruthy();
  });

  it('an expired code is refused, and a new request replaces the previous code', async () => {
    const p = await guest();
    await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
    const first = await codeFromMailbox(p.email);
    await t.app.ctx.db
      .update(guestCodes)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(guestCodes.passId, p.id));
    const late = await inject('POST', '/api/guest/auth/verify', { payload: { token: p.guestToken, code: first } });
    expect(late.statusCode).toBe(410);
    expect(late.json().error.code).toBe('code_expired');

    await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
    const second = await codeFromMailbox(p.email, 1);
    await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
    const third = await codeFromMailbox(p.email, 2);
    if (second !== third) {
      const old = await inject('POST', '/api/guest/auth/verify', { payload: { token: p.guestToken, code: second } });
      expect(old.statusCode).toBe(422);
    }
    const ok = await inject('POST', '/api/guest/auth/verify', { payload: { token: p.guestToken, code: third } });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('a session works only for its pass; a link is no session and a session is no link', async () => {
    const a = await guest();
    const b = await guest();
    const sa = await signIn(a);
    // Session of A on GET /pass: A's pass, never B's.
    expect((await passWith(sa.guestSession)).json().pass.id).toBe(a.id);
    // The link of B as Bearer: B's visit without credential.
    const bLink = (await passWith(b.guestToken)).json();
    expect(bLink).toMatchObject({ signedIn: false, payload: null, totpSecret: null });
    expect(bLink.pass.id).toBe(b.id);
    // A session where a link is expected: refused by the code routes and by ?token=.
    for (const [url, payload] of [
      ['/api/guest/auth', { token: sa.guestSession }],
      ['/api/guest/auth/verify', { token: sa.guestSession, code: '123456' }],
    ] as const) {
      const r = await inject('POST', url, { payload });
      expect(r.statusCode, url).toBe(401);
    }
    expect((await inject('GET', `/api/guest/pass?token=${sa.guestSession}`)).statusCode).toBe(401);
    // Neither opens the admin API, and an admin token opens no guest page.
    expect((await passWith(admin.accessToken)).statusCode).toBe(401);
    expect((await inject('GET', '/api/admin/sites', { headers: { authorization: `Bearer ${sa.guestSession}` } })).statusCode).toBe(401);
    // A session signed for another pass id by someone without the key is refused (tampered signature).
    const [h, body, sig] = sa.guestSession.split('.');
    const forged = JSON.parse(Buffer.from(body!, 'base64url').toString());
    forged.sub = b.id;
    const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`;
    expect((await passWith(tampered)).statusCode).toBe(401);
  });

  it('a revoked pass gives no credential to a valid session, and sends no code', async () => {
    const p = await guest();
    const s = await signIn(p);
    expect((await passWith(s.guestSession)).json().payload).toBeTruthy();
    const rv = await t.app.inject({
      method: 'POST',
      url: `/api/admin/passes/${p.id}/revoke`,
      headers: admin.auth,
      payload: { reason: 'cancelled' },
    });
    expect(rv.statusCode).toBe(200);
    const after = (await passWith(s.guestSession)).json();
    expect(after.pass.status).toBe('revoked');
    expect(after).toMatchObject({ payload: null, totpSecret: null, staticPayload: null, secondsUntilChange: null });
    const ask = await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
    expect(ask.statusCode).toBe(409);
    expect(ask.json().error.code).toBe('pass_inactive');
  });

  it('the static QR only when the organisation turns it on, and only to a session', async () => {
    const p = await guest();
    const s = await signIn(p);
    expect((await passWith(s.guestSession)).json().staticPayload).toBeNull();
    await t.app.ctx.db
      .insert(orgSettings)
      .values({ orgId: admin.orgId, guestStaticQr: true })
      .onConflictDoUpdate({ target: orgSettings.orgId, set: { guestStaticQr: true } });
    try {
      const body = (await passWith(s.guestSession)).json();
      expect(body.staticPayload).toBeTruthy();
      const parsed = parseCredential(body.staticPayload);
      expect(parsed).toMatchObject({ kind: 'static', passId: p.id });
      expect((await passWith(p.guestToken)).json().staticPayload).toBeNull();
    } finally {
      await t.app.ctx.db.update(orgSettings).set({ guestStaticQr: false }).where(eq(orgSettings.orgId, admin.orgId));
    }
  });

  it('at most 5 codes an hour per pass, then 429 with Retry-After', async () => {
    const p = await guest();
    for (let i = 0; i < 5; i++) {
      const r = await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
      expect(r.statusCode, r.body).toBe(200);
    }
    const sixth = await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().error.code).toBe('too_many_codes');
    const retry = Number(sixth.headers['retry-after']);
    expect(retry).toBeGreaterThan(3500);
    expect(retry).toBeLessThanOrEqual(3600);
    // Another pass is not limited by this one.
    const other = await guest();
    expect((await inject('POST', '/api/guest/auth', { payload: { token: other.guestToken } })).statusCode).toBe(200);
  });

  it('the code goes where the invitation went; with no address at all, 422', async () => {
    const p = await guest();
    // An invitation to another address (as the invitations module logs it) takes precedence over the visitor's e-mail.
    const { notify } = await import('../src/modules/notifications/outbox.js');
    const invited = `invited${n++}@example.test`;
    await t.app.ctx.db.transaction((tx) =>
      notify(t.app.ctx, tx, {
        orgId: admin.orgId,
        channel: 'email',
        to: invited,
        template: 'invitation',
        language: 'en',
        vars: {},
        passId: p.id,
      }),
    );
    const sent = await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
    expect(sent.statusCode, sent.body).toBe(200);
    const code = await codeFromMailbox(invited, 1);
    expect((await inject('POST', '/api/guest/auth/verify', { payload: { token: p.guestToken, code } })).statusCode).toBe(200);

    const v = await t.app.inject({ method: 'POST', url: '/api/admin/visitors', headers: admin.auth, payload: { fullName: 'No Address' } });
    const bare = await issuePass(t.app, admin, { visitorId: v.json().id, accessRuleId: topo.rule.id });
    const none = await inject('POST', '/api/guest/auth', { payload: { token: bare.guestToken } });
    expect(none.statusCode).toBe(422);
    expect(none.json().error.code).toBe('no_address');
  });

  it('the message is in the pass language: a Russian pass gets its code in Russian', async () => {
    const p = await guest();
    await t.app.ctx.db.update(visitPasses).set({ language: 'ru' }).where(eq(visitPasses.id, p.id));
    expect((await inject('GET', `/api/guest/pass?token=${p.guestToken}`)).json().language).toBe('ru');
    await inject('POST', '/api/guest/auth', { payload: { token: p.guestToken } });
    const [msg] = await t.app.ctx.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.passId, p.id), eq(notifications.template, 'guest_code')));
    expect(msg!.language).toBe('ru');
  });
});
