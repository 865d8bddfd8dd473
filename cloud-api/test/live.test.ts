import type { AddressInfo } from 'node:net';
import { uuidv7 } from '@gatehouse/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { storeCheckins } from '../src/modules/checkins/service.js';
import { createOrgWithUser, issuePass, type Login, seedTopology, startApp, type TestApp } from './helpers.js';

describe('console live feed (WebSocket /api/admin/live)', () => {
  let t: TestApp;
  let admin: Login;
  let stranger: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  let wsUrl: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    t = await startApp({}, { liveAuthTimeoutMs: 300 });
    admin = await createOrgWithUser(t.app, 'Live Org', ['OrgAdmin']);
    stranger = await createOrgWithUser(t.app, 'Other Live Org', ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    wsUrl = `ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/admin/live`;
  });
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await t?.close();
  });

  /** Opens a socket, sends `first` (if any), and collects messages and the close code. */
  function open(first?: unknown) {
    const ws = new WebSocket(wsUrl);
    sockets.push(ws);
    const messages: { type: string; data?: Record<string, unknown> }[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    const ready = new Promise<void>((resolve) => {
      ws.on('message', (m) => {
        const msg = JSON.parse(m.toString());
        messages.push(msg);
        if (msg.type === 'ready') resolve();
      });
    });
    ws.on('open', () => {
      if (first !== undefined) ws.send(typeof first === 'string' ? first : JSON.stringify(first));
    });
    return { ws, messages, closed, ready };
  }
  const waitFor = async (cond: () => boolean, ms = 3000) => {
    const until = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > until) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('authenticates by first message, then streams only its own organisation’s events', async () => {
    const mine = open({ type: 'auth', token: admin.accessToken });
    const theirs = open({ type: 'auth', token: stranger.accessToken });
    await mine.ready;
    await theirs.ready;

    const pass = await issuePass(t.app, admin, { visitorId: topo.visitor.id, accessRuleId: topo.rule.id });
    await t.app.inject({
      method: 'POST',
      url: `/api/admin/passes/${pass.id}/revoke`,
      headers: admin.auth,
      payload: { reason: 'left early' },
    });
    await t.app.inject({
      method: 'POST',
      url: `/api/admin/gates/${topo.gate.id}/commands`,
      headers: admin.auth,
      payload: { type: 'lockdown' },
    });
    const ev = {
      id: uuidv7(),
      type: 'attempt' as const,
      gateId: topo.gate.id,
      passId: pass.id,
      credentialKind: 'dynamic' as const,
      direction: 'in' as const,
      allow: false,
      reason: 'revoked' as const,
      occurredAt: Date.now(),
    };
    await storeCheckins(t.app.ctx.db, { orgId: admin.orgId, siteId: topo.site.id, deviceId: null }, [ev], t.app.ctx.events);
    // A duplicate delivery is stored once and announced once.
    await storeCheckins(t.app.ctx.db, { orgId: admin.orgId, siteId: topo.site.id, deviceId: null }, [ev], t.app.ctx.events);

    await waitFor(() => mine.messages.some((m) => m.type === 'checkin.created'));
    const types = mine.messages.map((m) => m.type);
    expect(types).toEqual(['ready', 'pass.revoked', 'gate.status_changed', 'checkin.created']);
    expect(mine.messages[1]!.data).toMatchObject({ id: pass.id, status: 'revoked' });
    expect(mine.messages[2]!.data).toMatchObject({ id: topo.gate.id, lockdown: true });
    expect(mine.messages[3]!.data).toMatchObject({
      id: ev.id,
      passId: pass.id,
      gateId: topo.gate.id,
      allow: false,
      reason: 'revoked',
      direction: 'in',
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(theirs.messages.map((m) => m.type)).toEqual(['ready']);
  });

  it('closes with 4401 on a bad token, a non-auth first message, or silence', async () => {
    expect(await open({ type: 'auth', token: 'garbage' }).closed).toBe(4401);
    expect(await open('not json').closed).toBe(4401);
    expect(await open({ type: 'hello' }).closed).toBe(4401);
    expect(await open().closed).toBe(4401);
  });

  it('a role that may not watch check-ins is refused with 4403', async () => {
    const dev = await createOrgWithUser(t.app, 'Dev Org', ['Developer']);
    expect(await open({ type: 'auth', token: dev.accessToken }).closed).toBe(4403);
  });
});
