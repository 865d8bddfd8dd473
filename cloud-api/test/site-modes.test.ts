/**
 * Site lockdown and emergency release (SPEC CMD-4, issue 14 item 6): each with
 * its own permission and a required reason; every gate of the site flagged in
 * one transaction, a `gate` sync change each, a command per enrolled gate;
 * audited; ended by `normal` with the permission of the mode it ends.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogs, gates } from '../src/db/schema.js';
import { gateCommands, syncChanges } from '../src/sync/schema.js';
import { addUser, createOrgWithUser, type Login, onPostgres, startApp, type TestApp } from './helpers.js';

describe(`site lockdown and emergency release (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  let t: TestApp;
  let admin: Login;
  let officer: Login;
  let operator: Login;
  let host: Login;
  let stranger: Login;

  const api = (who: Login, method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
  const ok = async <T = Record<string, unknown>>(who: Login, method: 'GET' | 'POST', url: string, payload?: object) => {
    const r = await api(who, method, url, payload);
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as T;
  };

  /** A site with two gates (one with an enrolled controller, one without) and a gate at another site. */
  async function site() {
    const s = await ok<{ id: string }>(admin, 'POST', '/api/admin/sites', { name: 'Plant', timezone: 'Europe/Berlin' });
    const z = await ok<{ id: string }>(admin, 'POST', '/api/admin/zones', { siteId: s.id, name: 'Hall' });
    const enrolled = await ok<{ id: string }>(admin, 'POST', '/api/admin/gates', {
      siteId: s.id,
      zoneId: z.id,
      name: 'A',
      direction: 'in',
    });
    const bare = await ok<{ id: string }>(admin, 'POST', '/api/admin/gates', { siteId: s.id, zoneId: z.id, name: 'B', direction: 'out' });
    const { code } = await ok<{ code: string }>(admin, 'POST', `/api/admin/gates/${enrolled.id}/enrollment`);
    const e = await t.app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code } });
    expect(e.statusCode, e.body).toBe(200);
    return { site: s.id, enrolled: enrolled.id, bare: bare.id };
  }
  const flags = async (ids: string[]) =>
    Object.fromEntries(
      (await t.app.ctx.db.select().from(gates).where(inArray(gates.id, ids))).map((g) => [
        g.id,
        { lockdown: g.lockdown, emergency: g.emergency },
      ]),
    );
  const commands = (gateId: string) => t.app.ctx.db.select().from(gateCommands).where(eq(gateCommands.gateId, gateId));
  const gateChanges = async (gateId: string) =>
    (
      await t.app.ctx.db
        .select()
        .from(syncChanges)
        .where(and(eq(syncChanges.entity, 'gate'), eq(syncChanges.entityId, gateId)))
    ).length;

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, `modes-${Date.now()}`, ['OrgAdmin']);
    officer = await addUser(t.app, admin.orgId, ['SecurityOfficer']);
    operator = await addUser(t.app, admin.orgId, ['Operator']);
    host = await addUser(t.app, admin.orgId, ['Host']);
    stranger = await createOrgWithUser(t.app, `modes-other-${Date.now()}`, ['OrgAdmin']);
  }, 60_000);
  afterAll(async () => t?.close());

  it('lockdown: every gate of the site locked in one go, a gate change each, a command to the enrolled one, audited', async () => {
    const s = await site();
    const other = await site();
    const before = { enrolled: await gateChanges(s.enrolled), bare: await gateChanges(s.bare) };
    const r = await ok<{ site: Record<string, unknown>; gates: Record<string, unknown>[] }>(
      officer,
      'POST',
      `/api/admin/sites/${s.site}/lockdown`,
      { reason: 'Intruder reported in the hall' },
    );
    // Who changed it, named the way an alarm names who answered it (the name opened from its sealed column).
    const by = { id: officer.userId, name: 'Test SecurityOfficer' };
    expect(r.site).toMatchObject({ id: s.site, mode: 'lockdown', modeReason: 'Intruder reported in the hall', modeChangedBy: by });
    expect(Date.parse(String(r.site.modeChangedAt))).toBeGreaterThan(Date.now() - 60_000);
    expect(r.gates).toEqual(
      expect.arrayContaining([
        // No broker link in this test: the command waits for nobody, the flag reaches the edge by sync.
        { gateId: s.enrolled, commandId: expect.any(String), status: 'queued' },
        { gateId: s.bare, commandId: null, status: 'not_enrolled' },
      ]),
    );
    expect(await flags([s.enrolled, s.bare, other.enrolled])).toEqual({
      [s.enrolled]: { lockdown: true, emergency: false },
      [s.bare]: { lockdown: true, emergency: false },
      [other.enrolled]: { lockdown: false, emergency: false },
    });
    expect(await gateChanges(s.enrolled)).toBeGreaterThan(before.enrolled);
    expect(await gateChanges(s.bare)).toBeGreaterThan(before.bare);
    const cmds = await commands(s.enrolled);
    expect(cmds).toHaveLength(1);
    expect(cmds[0]).toMatchObject({ type: 'lockdown', reason: 'Intruder reported in the hall', createdBy: officer.userId });
    expect(cmds[0]!.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(30_000);
    expect(await commands(other.enrolled)).toEqual([]);
    const audit = await t.app.ctx.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.entityId, s.site), eq(auditLogs.action, 'site.lockdown')));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: officer.userId, entityType: 'site' });
    expect(audit[0]!.data).toMatchObject({ reason: 'Intruder reported in the hall', from: 'normal', gates: 2 });
    // The site and its gates say so.
    expect(await ok(admin, 'GET', `/api/admin/sites/${s.site}`)).toMatchObject({
      mode: 'lockdown',
      modeReason: 'Intruder reported in the hall',
      modeChangedBy: by,
    });
    const listed = await ok<{ items: { id: string; mode: string; modeChangedBy: unknown }[] }>(admin, 'GET', '/api/admin/sites?limit=200');
    expect(listed.items.find((x) => x.id === s.site)).toMatchObject({ mode: 'lockdown', modeChangedBy: by });
    expect(listed.items.find((x) => x.id === other.site)?.modeChangedBy).toBeNull();
    expect(await ok(admin, 'GET', `/api/admin/gates/${s.bare}`)).toMatchObject({ lockdown: true, emergency: false });
  });

  it('an Operator may release for evacuation but not lock down, nor end a lockdown; a Security officer may; a Host neither', async () => {
    const s = await site();
    expect((await api(operator, 'POST', `/api/admin/sites/${s.site}/lockdown`, { reason: 'x' })).statusCode).toBe(403);
    expect((await api(host, 'POST', `/api/admin/sites/${s.site}/lockdown`, { reason: 'x' })).statusCode).toBe(403);
    expect((await api(host, 'POST', `/api/admin/sites/${s.site}/emergency`, { reason: 'x' })).statusCode).toBe(403);
    expect((await api(host, 'POST', `/api/admin/sites/${s.site}/normal`, { reason: 'x' })).statusCode).toBe(403);
    expect(await flags([s.enrolled])).toEqual({ [s.enrolled]: { lockdown: false, emergency: false } });

    await ok(officer, 'POST', `/api/admin/sites/${s.site}/lockdown`, { reason: 'drill' });
    const refused = await api(operator, 'POST', `/api/admin/sites/${s.site}/normal`, { reason: 'done' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toContain('sites:lockdown');
    expect(await ok(admin, 'GET', `/api/admin/sites/${s.site}`)).toMatchObject({ mode: 'lockdown' });

    // Emergency clears the lockdown (CMD-4) — the guard at the door may always evacuate.
    const em = await ok<{ site: { mode: string } }>(operator, 'POST', `/api/admin/sites/${s.site}/emergency`, { reason: 'Fire alarm' });
    expect(em.site.mode).toBe('emergency');
    expect(await flags([s.enrolled, s.bare])).toEqual({
      [s.enrolled]: { lockdown: false, emergency: true },
      [s.bare]: { lockdown: false, emergency: true },
    });
    const back = await ok<{ site: { mode: string; modeReason: string } }>(operator, 'POST', `/api/admin/sites/${s.site}/normal`, {
      reason: 'All clear',
    });
    expect(back.site).toMatchObject({ mode: 'normal', modeReason: 'All clear' });
    expect(await flags([s.enrolled, s.bare])).toEqual({
      [s.enrolled]: { lockdown: false, emergency: false },
      [s.bare]: { lockdown: false, emergency: false },
    });
    expect((await commands(s.enrolled)).map((c) => c.type).sort()).toEqual(['emergency', 'lockdown', 'release']);
    const actions = (await t.app.ctx.db.select().from(auditLogs).where(eq(auditLogs.entityId, s.site))).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['site.lockdown', 'site.emergency', 'site.normal']));
    // A Security officer ends a lockdown.
    await ok(officer, 'POST', `/api/admin/sites/${s.site}/lockdown`, { reason: 'again' });
    expect((await ok<{ site: { mode: string } }>(officer, 'POST', `/api/admin/sites/${s.site}/normal`, { reason: 'over' })).site.mode).toBe(
      'normal',
    );
  });

  it('a reason is required: missing, empty, blank or longer than 500 characters is a 400 and changes nothing', async () => {
    const s = await site();
    for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x'.repeat(501) }]) {
      const r = await api(officer, 'POST', `/api/admin/sites/${s.site}/lockdown`, body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json().error.code).toBeDefined();
    }
    expect(await flags([s.enrolled])).toEqual({ [s.enrolled]: { lockdown: false, emergency: false } });
    expect(await commands(s.enrolled)).toEqual([]);
    expect((await api(officer, 'POST', `/api/admin/sites/${s.site}/emergency`, { reason: 'x'.repeat(500) })).statusCode).toBe(200);
  });

  it("another organisation's site is a 404 and stays as it was", async () => {
    const s = await site();
    for (const mode of ['lockdown', 'emergency', 'normal'])
      expect((await api(stranger, 'POST', `/api/admin/sites/${s.site}/${mode}`, { reason: 'x' })).statusCode).toBe(404);
    expect(await ok(admin, 'GET', `/api/admin/sites/${s.site}`)).toMatchObject({ mode: 'normal', modeReason: null });
    expect(await commands(s.enrolled)).toEqual([]);
  });

  it('the live feed hears site.mode_changed and each gate’s change', async () => {
    const s = await site();
    const seen: { type: string; data: Record<string, unknown> }[] = [];
    const stop = t.app.ctx.events.subscribe(admin.orgId, (e) => seen.push(e));
    try {
      await ok(officer, 'POST', `/api/admin/sites/${s.site}/lockdown`, { reason: 'live' });
    } finally {
      stop();
    }
    expect(seen.find((e) => e.type === 'site.mode_changed')?.data).toMatchObject({ id: s.site, mode: 'lockdown', modeReason: 'live' });
    expect(
      seen
        .filter((e) => e.type === 'gate.status_changed')
        .map((e) => e.data.id)
        .sort(),
    ).toEqual([s.enrolled, s.bare].sort());
  });
});
