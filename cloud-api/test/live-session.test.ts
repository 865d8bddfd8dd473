/**
 * An open live-feed socket lives no longer than the session that opened it:
 * logout, a disabled user, a role that may no longer watch, and the access
 * token's expiry each close it with 4401 within seconds — checked against
 * the database, so it holds when the change was made on another instance.
 */
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { addUser, createOrgWithUser, type Login, startApp, type TestApp } from './helpers.js';

/** Time a socket may take to notice (the feed re-checks every 2 s; CI machines are slow). */
const NOTICE_MS = 8000;

async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/admin/live`;
}

/** Opens an authenticated socket and waits for `ready`; `closed` resolves with the close code. */
async function watch(url: string, token: string) {
  const ws = new WebSocket(url);
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  const ready = new Promise<void>((resolve, reject) => {
    ws.on('message', (m) => {
      if (JSON.parse(m.toString()).type === 'ready') resolve();
    });
    void closed.then((code) => reject(new Error(`closed with ${code} before ready`)));
  });
  ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
  await ready;
  return { ws, closed };
}

function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
}

describe('live feed: sessions end everywhere at once', () => {
  let t: TestApp;
  let url: string;
  let admin: Login;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Live Session Org', ['OrgAdmin']);
    url = await listen(t);
  });
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await t?.close();
  });

  async function watcher(roles: Parameters<typeof addUser>[2] = ['SecurityOfficer']) {
    const user = await addUser(t.app, admin.orgId, roles);
    const s = await watch(url, user.accessToken);
    sockets.push(s.ws);
    return { user, ...s };
  }
  const patchUser = async (id: string, payload: Record<string, unknown>) => {
    const r = await t.app.inject({ method: 'PATCH', url: `/api/admin/users/${id}`, headers: admin.auth, payload });
    expect(r.statusCode).toBe(200);
  };

  it('logout closes the socket with 4401', async () => {
    const { user, closed } = await watcher();
    const r = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: user.auth });
    expect(r.statusCode).toBe(204);
    expect(await within(closed, NOTICE_MS)).toBe(4401);
  });

  it('disabling the user closes the socket with 4401', async () => {
    const { user, closed } = await watcher();
    await patchUser(user.userId, { status: 'disabled' });
    expect(await within(closed, NOTICE_MS)).toBe(4401);
  });

  it('a role change that takes away checkins:read closes the socket with 4401', async () => {
    const { user, closed } = await watcher(['Operator']);
    await patchUser(user.userId, { roles: ['Host'] });
    expect(await within(closed, NOTICE_MS)).toBe(4401);
  });

  it('a role change that keeps checkins:read leaves the socket open', async () => {
    const { user, ws, closed } = await watcher(['Operator']);
    await patchUser(user.userId, { roles: ['SecurityOfficer'] });
    expect(await within(closed, 4500)).toBe('timeout');
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a session ended behind this instance’s back (another instance, straight in the database) closes it too', async () => {
    const { user, closed } = await watcher();
    // No call through this app: its principal cache is not cleared, as when another instance revoked it.
    await t.app.ctx.db.execute(sql`update sessions set revoked_at = now() where user_id = ${user.userId}`);
    expect(await within(closed, NOTICE_MS)).toBe(4401);
  });
});

describe('live feed: token expiry', () => {
  let t: TestApp;
  let url: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    t = await startApp({ accessTokenTtlS: 3 });
    url = await listen(t);
  });
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await t?.close();
  });

  it('the socket closes with 4401 once the access token that opened it expires', async () => {
    const user = await createOrgWithUser(t.app, 'Expiry Org', ['OrgAdmin']);
    const { ws, closed } = await watch(url, user.accessToken);
    sockets.push(ws);
    const readyAt = Date.now();
    expect(await within(closed, 3000 + NOTICE_MS)).toBe(4401);
    // Not before the token ran out (3 s from login, give or take the second JWTs count in).
    expect(Date.now() - readyAt).toBeGreaterThan(500);
  });
});
