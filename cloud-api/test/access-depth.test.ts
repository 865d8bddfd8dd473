/**
 * Issue 14 in the admin API: the rule fields of anti-passback modes, escort and the holiday policy (with the
 * first version's booleans still accepted), escort and group passes, and `check` answering as an edge of the
 * gate's site would — from the site's calendar (DEC-14), an escort at the gate (DEC-15) and the site-wide
 * presence of the pass (SYNC-3, DEC-11, DEC-16).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passPresence } from '../src/db/schema.js';
import { createOrgWithUser, type Login, onPostgres, seedTopology, startApp, type TestApp } from './helpers.js';

describe(`rules, passes and check for access-control depth (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  let t: TestApp;
  let admin: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const send = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: Record<string, unknown>) =>
    t.app.inject({ method, url, headers: admin.auth, ...(payload ? { payload } : {}) });
  const ok = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: Record<string, unknown>) => {
    const r = await send(method, url, payload);
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(300);
    return r.json();
  };
  const rule = (extra: Record<string, unknown> = {}) =>
    ok('POST', '/api/admin/access-rules', { name: 'R', zoneIds: [topo.zone.id], weekdays: [], timeWindows: [], ...extra });
  // Valid all of 2030: the checks below pick their moments in it.
  const issue = (accessRuleId: string, extra: Record<string, unknown> = {}) =>
    ok('POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId,
      type: 'multi',
      validFrom: '2030-01-01T00:00:00Z',
      validTo: '2030-12-31T00:00:00Z',
      ...extra,
    });
  const check = (passId: string, body: Record<string, unknown>) =>
    ok('POST', `/api/admin/passes/${passId}/check`, { gateId: topo.gate.id, ...body });
  const presence = (siteId: string, passId: string, v: Partial<typeof passPresence.$inferInsert>) =>
    t.app.ctx.db
      .insert(passPresence)
      .values({ siteId, passId, orgId: admin.orgId, ...v })
      .onConflictDoUpdate({ target: [passPresence.siteId, passPresence.passId], set: v });

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, 'Depth Org', ['OrgAdmin']);
    topo = await seedTopology(t.app, admin);
  });
  afterAll(async () => t?.close());

  it('rules: defaults, the new fields round trip, and the legacy booleans become modes', async () => {
    const plain = await rule();
    expect(plain).toMatchObject({
      antiPassback: 'hard',
      passbackMinutes: null,
      escortRequired: false,
      escortSeconds: 30,
      holidays: 'observe',
    });

    const full = await rule({ antiPassback: 'soft', passbackMinutes: 90, escortRequired: true, escortSeconds: 120, holidays: 'ignore' });
    expect(full).toMatchObject({ antiPassback: 'soft', passbackMinutes: 90, escortRequired: true, escortSeconds: 120, holidays: 'ignore' });
    expect(await ok('GET', `/api/admin/access-rules/${full.id}`)).toEqual(full);

    expect(await rule({ antiPassback: false })).toMatchObject({ antiPassback: 'off' });
    expect(await rule({ antiPassback: true })).toMatchObject({ antiPassback: 'hard' });
    expect(await ok('PATCH', `/api/admin/access-rules/${full.id}`, { antiPassback: false })).toMatchObject({ antiPassback: 'off' });
    const patched = await ok('PATCH', `/api/admin/access-rules/${full.id}`, {
      antiPassback: true,
      passbackMinutes: null,
      holidays: 'observe',
    });
    expect(patched).toMatchObject({ antiPassback: 'hard', passbackMinutes: null, holidays: 'observe', escortSeconds: 120 });
    const listed = (await ok('GET', '/api/admin/access-rules?limit=500')).items.find((r: { id: string }) => r.id === full.id);
    expect(listed).toEqual(patched);
  });

  it('rules: out-of-range and unknown values are refused in the error shape', async () => {
    const bad = [
      { antiPassback: 'medium' },
      { passbackMinutes: 0 },
      { passbackMinutes: 10_081 },
      { escortSeconds: 0 },
      { escortSeconds: 601 },
      { holidays: 'sometimes' },
    ];
    for (const b of bad) {
      const r = await send('POST', '/api/admin/access-rules', { name: 'X', zoneIds: [topo.zone.id], weekdays: [], timeWindows: [], ...b });
      expect(r.statusCode, JSON.stringify(b)).toBe(400);
      expect(r.json().error.code).toBe('validation');
    }
    const r = await send('PATCH', `/api/admin/access-rules/${topo.rule.id}`, { escortSeconds: 601 });
    expect(r.statusCode).toBe(400);
  });

  it('passes: escort is stored and shown; a group pass needs a size of 2..1000 from itself or its rule', async () => {
    expect(await issue(topo.rule.id)).toMatchObject({ escort: false });
    const staff = await issue(topo.rule.id, { escort: true });
    expect(staff).toMatchObject({ escort: true });
    expect(await ok('GET', `/api/admin/passes/${staff.id}`)).toMatchObject({ escort: true });

    const noSize = await send('POST', '/api/admin/passes', {
      visitorId: topo.visitor.id,
      accessRuleId: topo.rule.id,
      type: 'group',
      validFrom: '2030-01-01T00:00:00Z',
      validTo: '2030-12-31T00:00:00Z',
    });
    expect(noSize.statusCode).toBe(422);
    expect(noSize.json().error.code).toBe('group_size_required');
    for (const maxUses of [1, 1001]) {
      const r = await send('POST', '/api/admin/passes', {
        visitorId: topo.visitor.id,
        accessRuleId: topo.rule.id,
        type: 'group',
        maxUses,
        validFrom: '2030-01-01T00:00:00Z',
        validTo: '2030-12-31T00:00:00Z',
      });
      expect(r.statusCode, String(maxUses)).toBe(422);
      expect(r.json().error.code).toBe('group_size_required');
    }
    expect(await issue(topo.rule.id, { type: 'group', maxUses: 12 })).toMatchObject({ type: 'group', maxUses: 12 });
    // The rule's size serves a group pass that names none.
    const sized = await rule({ maxUses: 8 });
    expect(await issue(sized.id, { type: 'group' })).toMatchObject({ type: 'group', maxUses: null });
    // A multi pass needs no size, as before.
    expect(await issue(topo.rule.id)).toMatchObject({ type: 'multi', maxUses: null });
  });

  it('check, DEC-14: a closed day and outside special hours deny with holiday; a rule that ignores the calendar opens', async () => {
    const observe = await issue(topo.rule.id);
    const ignoring = await issue((await rule({ holidays: 'ignore' })).id);
    await ok('POST', '/api/admin/holidays', { siteId: topo.site.id, date: '2030-01-07', kind: 'closed', name: 'Christmas' });
    await ok('POST', '/api/admin/holidays', {
      siteId: topo.site.id,
      date: '2030-01-08',
      kind: 'special',
      name: 'Short day',
      windows: [{ from: '10:00', to: '12:00' }],
    });
    // Moscow is UTC+3: 09:00Z is noon local.
    expect(await check(observe.id, { at: '2030-01-07T09:00:00Z' })).toEqual({ allow: false, reason: 'holiday' });
    expect(await check(ignoring.id, { at: '2030-01-07T09:00:00Z' })).toEqual({ allow: true, reason: 'ok' });
    expect(await check(observe.id, { at: '2030-01-08T08:00:00Z' })).toEqual({ allow: true, reason: 'ok' });
    expect(await check(observe.id, { at: '2030-01-08T09:30:00Z' })).toEqual({ allow: false, reason: 'holiday' });
    // 23:30 UTC on the 6th is 02:30 on the 7th in Moscow: the local date decides.
    expect(await check(observe.id, { at: '2030-01-06T20:00:00Z' })).toEqual({ allow: true, reason: 'ok' });
    expect(await check(observe.id, { at: '2030-01-06T23:30:00Z' })).toEqual({ allow: false, reason: 'holiday' });
    // Exits are never blocked.
    expect(await check(observe.id, { at: '2030-01-07T09:00:00Z', direction: 'out' })).toEqual({ allow: true, reason: 'ok' });
  });

  it('check, DEC-15: an escorted rule needs an escort at the gate; an escort pass needs none', async () => {
    const escorted = await rule({ escortRequired: true });
    const visitor = await issue(escorted.id);
    const staff = await issue(escorted.id, { escort: true });
    const at = '2030-03-04T09:00:00Z';
    expect(await check(visitor.id, { at })).toEqual({ allow: false, reason: 'escort_required' });
    expect(await check(visitor.id, { at, escorted: true })).toEqual({ allow: true, reason: 'ok' });
    expect(await check(staff.id, { at })).toEqual({ allow: true, reason: 'ok' });
  });

  it('check, SYNC-3/DEC-11: the site-wide presence is the state — passback, soft alert, timed forgiveness, a guard’s forgiveness', async () => {
    const hard = await issue(topo.rule.id);
    const at = new Date('2030-05-06T09:00:00Z');
    expect(await check(hard.id, { at: at.toISOString() })).toEqual({ allow: true, reason: 'ok' });
    // Entered 10 minutes earlier through some other gate of the site.
    await presence(topo.site.id, hard.id, { useCount: 1, lastDirection: 'in', lastAt: new Date(at.getTime() - 600_000) });
    expect(await check(hard.id, { at: at.toISOString() })).toEqual({ allow: false, reason: 'passback' });

    // Presence at another site is that site's business.
    const other = await ok('POST', '/api/admin/sites', { name: 'Elsewhere', timezone: 'Europe/Moscow' });
    const mine = await issue(topo.rule.id);
    await presence(other.id, mine.id, { useCount: 1, lastDirection: 'in', lastAt: new Date(at.getTime() - 600_000) });
    expect(await check(mine.id, { at: at.toISOString() })).toEqual({ allow: true, reason: 'ok' });

    const soft = await issue((await rule({ antiPassback: 'soft' })).id);
    await presence(topo.site.id, soft.id, { useCount: 1, lastDirection: 'in', lastAt: new Date(at.getTime() - 600_000) });
    expect(await check(soft.id, { at: at.toISOString() })).toEqual({ allow: true, reason: 'ok', alert: 'passback' });

    const timed = await issue((await rule({ passbackMinutes: 5 })).id);
    await presence(topo.site.id, timed.id, { useCount: 1, lastDirection: 'in', lastAt: new Date(at.getTime() - 240_000) });
    expect(await check(timed.id, { at: at.toISOString() })).toEqual({ allow: false, reason: 'passback' });
    await presence(topo.site.id, timed.id, { lastAt: new Date(at.getTime() - 360_000) });
    expect(await check(timed.id, { at: at.toISOString() })).toEqual({ allow: true, reason: 'ok' });

    // A guard forgave the entry after it happened: not inside any more.
    await presence(topo.site.id, hard.id, { forgivenAt: new Date(at.getTime() - 60_000) });
    expect(await check(hard.id, { at: at.toISOString() })).toEqual({ allow: true, reason: 'ok' });

    // DEC-16: a group's members go in one after another; its size counts site-wide.
    const group = await issue(topo.rule.id, { type: 'group', maxUses: 3 });
    await presence(topo.site.id, group.id, { useCount: 2, lastDirection: 'in', lastAt: new Date(at.getTime() - 1000) });
    expect(await check(group.id, { at: at.toISOString() })).toEqual({ allow: true, reason: 'ok' });
    await presence(topo.site.id, group.id, { useCount: 3 });
    expect(await check(group.id, { at: at.toISOString() })).toEqual({ allow: false, reason: 'used_up' });
  });
});
