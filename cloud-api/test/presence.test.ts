/**
 * Site-wide presence (SPEC SYNC-3, DEC-12/16; issue 14 items 3 and 8): what the
 * ingest transaction makes of counted check-ins, a guard's forgiveness, and the
 * muster (JSON and CSV) built on it.
 */
import { type CheckinEvent, uuidv7 } from '@gatehouse/protocol';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogs, passPresence } from '../src/db/schema.js';
import { ingestCheckins } from '../src/modules/checkins/ingest.js';
import { syncChanges } from '../src/sync/schema.js';
import { addUser, createOrgWithUser, issuePass, type Login, onPostgres, seedTopology, startApp, type TestApp } from './helpers.js';

describe(`site-wide presence, forgiveness and the muster (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  let t: TestApp;
  let admin: Login;
  let operator: Login;
  let host: Login;
  let stranger: Login;
  let topo: Awaited<ReturnType<typeof seedTopology>>;
  const base = Date.now() - 3 * 3_600_000;
  const at = (minutes: number) => base + minutes * 60_000;

  const api = async (who: Login, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
  const ok = async <T = Record<string, unknown>>(who: Login, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) => {
    const r = await api(who, method, url, payload);
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as T;
  };

  const event = (
    passId: string | null,
    direction: 'in' | 'out',
    occurredAt: number,
    o: { counted?: boolean; type?: CheckinEvent['type']; gateId?: string } = {},
  ): CheckinEvent => ({
    id: uuidv7(),
    type: o.type ?? 'attempt',
    gateId: o.gateId ?? topo.gate.id,
    passId,
    credentialKind: 'static',
    direction,
    allow: true,
    reason: 'ok',
    occurredAt,
    ...(o.counted === false ? {} : { counted: true }),
  });
  /** As the MQTT link ingests a batch of one gate. */
  const ingest = (events: CheckinEvent[], gateId = topo.gate.id) =>
    ingestCheckins(t.app.ctx, { orgId: admin.orgId, siteId: topo.site.id, gateId, deviceId: null }, events);
  const presence = async (passId: string) =>
    (
      await t.app.ctx.db
        .select()
        .from(passPresence)
        .where(and(eq(passPresence.siteId, topo.site.id), eq(passPresence.passId, passId)))
    )[0];
  const presenceChanges = async (passId: string) =>
    (
      await t.app.ctx.db
        .select()
        .from(syncChanges)
        .where(and(eq(syncChanges.entity, 'presence'), eq(syncChanges.entityId, passId)))
    ).length;
  const newPass = async (type: 'multi' | 'group' = 'multi', visitorId = topo.visitor.id) =>
    type === 'group'
      ? ok<{ id: string }>(admin, 'POST', '/api/admin/passes', {
          visitorId,
          accessRuleId: topo.rule.id,
          type: 'group',
          maxUses: 5,
          validFrom: new Date(base - 60_000).toISOString(),
          validTo: new Date(Date.now() + 3_600_000).toISOString(),
        })
      : issuePass(t.app, admin, {
          visitorId,
          accessRuleId: topo.rule.id,
          validFrom: new Date(base - 60_000),
          validTo: new Date(Date.now() + 3_600_000),
        });

  beforeAll(async () => {
    t = await startApp();
    admin = await createOrgWithUser(t.app, `presence-${Date.now()}`, ['OrgAdmin']);
    operator = await addUser(t.app, admin.orgId, ['Operator']);
    host = await addUser(t.app, admin.orgId, ['Host']);
    topo = await seedTopology(t.app, admin);
    stranger = await createOrgWithUser(t.app, `presence-other-${Date.now()}`, ['OrgAdmin']);
    await seedTopology(t.app, stranger);
  }, 60_000);
  afterAll(async () => t?.close());

  describe('presence from counted check-ins', () => {
    it('a counted entry puts the pass inside (use 1, zone of the gate), a counted exit takes it out; each adds a presence change', async () => {
      const pass = await newPass();
      const inAt = at(1);
      const r = await ingest([event(pass.id, 'in', inAt)]);
      expect(r.fresh[0]).toMatchObject({ counted: true, passId: pass.id });
      expect(await presence(pass.id)).toMatchObject({
        useCount: 1,
        insideCount: 1,
        lastDirection: 'in',
        lastAt: new Date(inAt),
        lastGateId: topo.gate.id,
        lastZoneId: topo.zone.id,
        lastCheckinId: r.fresh[0]!.id,
        orgId: admin.orgId,
      });
      expect(await presenceChanges(pass.id)).toBe(1);
      await ingest([event(pass.id, 'out', at(2))]);
      expect(await presence(pass.id)).toMatchObject({ useCount: 1, insideCount: 0, lastDirection: 'out', lastAt: new Date(at(2)) });
      expect(await presenceChanges(pass.id)).toBe(2);
    });

    it('events that arrive out of order: an older one adds its use but does not move the side', async () => {
      const pass = await newPass();
      await ingest([event(pass.id, 'in', at(10))]);
      // An offline edge delivers, later, what happened before: an exit at 9 and an entry at 8.
      await ingest([event(pass.id, 'out', at(9)), event(pass.id, 'in', at(8))]);
      expect(await presence(pass.id)).toMatchObject({ useCount: 2, insideCount: 1, lastDirection: 'in', lastAt: new Date(at(10)) });
      // Within one batch the latest decides, whatever the order it is listed in.
      await ingest([event(pass.id, 'out', at(12)), event(pass.id, 'in', at(11))]);
      expect(await presence(pass.id)).toMatchObject({ useCount: 3, insideCount: 0, lastDirection: 'out', lastAt: new Date(at(12)) });
    });

    it('a batch delivered again counts once', async () => {
      const pass = await newPass();
      const batch = [event(pass.id, 'in', at(20)), event(pass.id, 'out', at(21)), event(pass.id, 'in', at(22))];
      await ingest(batch);
      const again = await ingest(batch);
      expect(again.fresh).toEqual([]);
      expect(await presence(pass.id)).toMatchObject({ useCount: 2, insideCount: 1, lastDirection: 'in' });
      expect(await presenceChanges(pass.id)).toBe(1);
    });

    it('with a passage sensor: the admitted attempt and a no_passage never count; the confirmed passage does', async () => {
      const pass = await newPass();
      await ingest([
        event(pass.id, 'in', at(30), { counted: false }),
        // Even a no_passage wrongly marked counted moves nobody.
        event(pass.id, 'in', at(30) + 3000, { type: 'no_passage' }),
      ]);
      expect(await presence(pass.id)).toBeUndefined();
      const m = await ok<{ items: { passId: string }[] }>(operator, 'GET', `/api/admin/muster?siteId=${topo.site.id}`);
      expect(m.items.map((i) => i.passId)).not.toContain(pass.id);
      await ingest([event(pass.id, 'in', at(31), { counted: false }), event(pass.id, 'in', at(31) + 2000, { type: 'passage' })]);
      expect(await presence(pass.id)).toMatchObject({ useCount: 1, insideCount: 1, lastDirection: 'in' });
    });

    it('denied attempts and events without a pass change nothing', async () => {
      const pass = await newPass();
      await ingest([{ ...event(pass.id, 'in', at(40), { counted: false }), allow: false, reason: 'passback' }, event(null, 'in', at(40))]);
      expect(await presence(pass.id)).toBeUndefined();
    });

    it('a group pass counts people: each counted entry one more inside, each exit one fewer, never below 0', async () => {
      const pass = await newPass('group');
      await ingest([event(pass.id, 'in', at(50)), event(pass.id, 'in', at(50) + 1000)]);
      await ingest([event(pass.id, 'in', at(51))]);
      expect(await presence(pass.id)).toMatchObject({ useCount: 3, insideCount: 3, lastDirection: 'in' });
      await ingest([event(pass.id, 'out', at(52))]);
      expect(await presence(pass.id)).toMatchObject({ useCount: 3, insideCount: 2, lastDirection: 'out' });
      await ingest([event(pass.id, 'out', at(53)), event(pass.id, 'out', at(53) + 1), event(pass.id, 'out', at(53) + 2)]);
      expect(await presence(pass.id)).toMatchObject({ insideCount: 0 });
      await ingest([event(pass.id, 'in', at(54))]);
      expect(await presence(pass.id)).toMatchObject({ useCount: 4, insideCount: 1 });
    });

    it('the check-ins list shows counted, a soft rule’s alert and an alarm', async () => {
      const pass = await newPass();
      const soft = { ...event(pass.id, 'in', at(60)), alert: 'passback' as const };
      const alarm: CheckinEvent = {
        ...event(null, 'in', at(61), { counted: false, type: 'alarm' }),
        allow: false,
        alarm: { kind: 'held_open', state: 'raised', detail: 'door 1' },
      };
      await ingest([soft, alarm]);
      const list = await ok<{ items: Record<string, unknown>[] }>(admin, 'GET', `/api/admin/checkins?passId=${pass.id}`);
      expect(list.items[0]).toMatchObject({ id: soft.id, counted: true, alert: 'passback' });
      const all = await ok<{ items: Record<string, unknown>[] }>(admin, 'GET', `/api/admin/checkins?gateId=${topo.gate.id}&limit=200`);
      const a = all.items.find((i) => i.id === alarm.id);
      expect(a).toMatchObject({ type: 'alarm', counted: false, alarm: { kind: 'held_open', state: 'raised', detail: 'door 1' } });
      expect(a).not.toHaveProperty('alert');
    });
  });

  describe('forgiveness', () => {
    it('a Host may not forgive (403); an Operator does: the pass is outside, audited, sent to the edges', async () => {
      const pass = await newPass();
      await ingest([event(pass.id, 'in', at(70))]);
      const denied = await api(host, 'POST', `/api/admin/passes/${pass.id}/forgive`, { reason: 'x' });
      expect(denied.statusCode).toBe(403);
      expect(await presence(pass.id)).toMatchObject({ lastDirection: 'in' });
      const before = await presenceChanges(pass.id);
      const r = await ok<{ items: Record<string, unknown>[] }>(operator, 'POST', `/api/admin/passes/${pass.id}/forgive`, {
        reason: 'left through the fire exit',
      });
      expect(r.items).toEqual([
        expect.objectContaining({ siteId: topo.site.id, lastDirection: null, insideCount: 0, useCount: 1, forgivenBy: operator.userId }),
      ]);
      const row = (await presence(pass.id))!;
      expect(row).toMatchObject({ lastDirection: null, insideCount: 0, forgivenBy: operator.userId });
      expect(row.forgivenAt!.getTime()).toBeGreaterThan(at(70));
      expect(row.lastAt!.getTime()).toBe(row.forgivenAt!.getTime());
      expect(await presenceChanges(pass.id)).toBe(before + 1);
      const audit = await t.app.ctx.db
        .select()
        .from(auditLogs)
        .where(and(eq(auditLogs.action, 'pass.forgive'), eq(auditLogs.entityId, pass.id)));
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actorId: operator.userId, orgId: admin.orgId });
      expect(audit[0]!.data).toMatchObject({ siteIds: [topo.site.id], reason: 'left through the fire exit' });
      // No longer on the roll call.
      const m = await ok<{ items: { passId: string }[] }>(operator, 'GET', '/api/admin/muster');
      expect(m.items.map((i) => i.passId)).not.toContain(pass.id);
    });

    it('the live feed hears presence.changed for a counted check-in and for a forgiveness, not for an uncounted one', async () => {
      const pass = await newPass();
      const seen: { type: string; data: Record<string, unknown> }[] = [];
      const stop = t.app.ctx.events.subscribe(admin.orgId, (e) => {
        if (e.type === 'presence.changed') seen.push(e);
      });
      try {
        await ingest([event(pass.id, 'in', at(75), { counted: false })]);
        expect(seen).toEqual([]);
        await ingest([event(pass.id, 'in', at(76))]);
        await ok(operator, 'POST', `/api/admin/passes/${pass.id}/forgive`, {});
      } finally {
        stop();
      }
      expect(seen.map((e) => e.data)).toEqual([
        { siteId: topo.site.id, passIds: [pass.id], cause: 'checkin' },
        { siteId: topo.site.id, passIds: [pass.id], cause: 'forgive' },
      ]);
    });

    it('an entry made before the forgiveness, delivered late, does not undo it; a later one does', async () => {
      const pass = await newPass();
      await ingest([event(pass.id, 'in', at(80))]);
      await ok(operator, 'POST', `/api/admin/passes/${pass.id}/forgive`, {});
      await ingest([event(pass.id, 'in', at(81))]);
      expect(await presence(pass.id)).toMatchObject({ lastDirection: null, useCount: 2 });
      await ingest([event(pass.id, 'in', Date.now() + 1000)]);
      expect(await presence(pass.id)).toMatchObject({ lastDirection: 'in', insideCount: 1, useCount: 3 });
    });

    it('at a named site a pass with no state yet gets a forgiven one; another organisation gets 404', async () => {
      const pass = await newPass();
      const r = await ok<{ items: unknown[] }>(admin, 'POST', `/api/admin/passes/${pass.id}/forgive`, { siteId: topo.site.id });
      expect(r.items).toHaveLength(1);
      expect(await presence(pass.id)).toMatchObject({ lastDirection: null, useCount: 0 });
      expect((await api(stranger, 'POST', `/api/admin/passes/${pass.id}/forgive`, {})).statusCode).toBe(404);
      // Nor with its own pass at our site.
      const theirs = await t.app.inject({ method: 'GET', url: '/api/admin/passes', headers: stranger.auth });
      expect(theirs.statusCode).toBe(200);
      const mine = await newPass();
      const otherSite = await ok<{ id: string }>(stranger, 'POST', '/api/admin/sites', { name: 'Theirs', timezone: 'UTC' });
      expect((await api(admin, 'POST', `/api/admin/passes/${mine.id}/forgive`, { siteId: otherSite.id })).statusCode).toBe(404);
    });
  });

  describe('muster', () => {
    let musterSite: { id: string };
    let lobby: { id: string };
    let vault: { id: string };
    let lobbyGate: { id: string };
    let vaultGate: { id: string };
    beforeAll(async () => {
      // A site of its own, so the earlier tests' passes do not crowd it.
      musterSite = await ok(admin, 'POST', '/api/admin/sites', { name: 'Муster site', timezone: 'Europe/Moscow' });
      lobby = await ok(admin, 'POST', '/api/admin/zones', { siteId: musterSite.id, name: 'Вестибюль' });
      vault = await ok(admin, 'POST', '/api/admin/zones', { siteId: musterSite.id, name: 'Archive' });
      lobbyGate = await ok(admin, 'POST', '/api/admin/gates', { siteId: musterSite.id, zoneId: lobby.id, name: 'Main', direction: 'both' });
      vaultGate = await ok(admin, 'POST', '/api/admin/gates', {
        siteId: musterSite.id,
        zoneId: vault.id,
        name: 'Vault',
        direction: 'both',
      });
    });
    const ingestAt = (gateId: string, events: CheckinEvent[]) =>
      ingestCheckins(t.app.ctx, { orgId: admin.orgId, siteId: musterSite.id, gateId, deviceId: null }, events);
    const visitor = (fullName: string, company?: string) =>
      ok<{ id: string }>(admin, 'POST', '/api/admin/visitors', { fullName, ...(company ? { company } : {}) });

    interface MusterBody {
      generatedAt: string;
      sites: {
        siteId: string;
        siteName: string;
        mode: string;
        total: number;
        zones: { zoneId: string; zoneName: string; count: number }[];
      }[];
      items: Record<string, unknown>[];
    }

    it('lists who is inside by zone then name, a group as its people, with totals per site and zone; filters by zone', async () => {
      const boris = await newPass('multi', (await visitor('Борис Иванов', 'ООО Ромашка')).id);
      const anna = await newPass('multi', (await visitor('Anna Smith', 'ACME')).id);
      const gone = await newPass('multi', (await visitor('Gone Away')).id);
      const group = await newPass('group', (await visitor('Tour group')).id);
      await ingestAt(lobbyGate.id, [
        event(boris.id, 'in', at(90), { gateId: lobbyGate.id }),
        event(anna.id, 'in', at(91), { gateId: lobbyGate.id }),
        event(gone.id, 'in', at(92), { gateId: lobbyGate.id }),
        event(gone.id, 'out', at(93), { gateId: lobbyGate.id }),
      ]);
      await ingestAt(vaultGate.id, [
        event(group.id, 'in', at(94), { gateId: vaultGate.id }),
        event(group.id, 'in', at(94) + 1, { gateId: vaultGate.id }),
        event(group.id, 'in', at(94) + 2, { gateId: vaultGate.id }),
      ]);
      const m = await ok<MusterBody>(operator, 'GET', `/api/admin/muster?siteId=${musterSite.id}`);
      expect(Date.parse(m.generatedAt)).toBeGreaterThan(Date.now() - 60_000);
      expect(m.items.map((i) => i.visitorName)).toEqual(['Tour group', 'Anna Smith', 'Борис Иванов']);
      expect(m.items[0]).toMatchObject({
        passId: group.id,
        passType: 'group',
        people: 3,
        siteId: musterSite.id,
        zoneId: vault.id,
        zoneName: 'Archive',
        gateId: vaultGate.id,
        gateName: 'Vault',
        since: new Date(at(94) + 2).toISOString(),
      });
      expect(m.items[2]).toMatchObject({ company: 'ООО Ромашка', people: 1, zoneName: 'Вестибюль', hostName: null });
      expect(m.sites).toEqual([
        {
          siteId: musterSite.id,
          siteName: 'Муster site',
          mode: 'normal',
          total: 5,
          zones: expect.arrayContaining([
            { zoneId: vault.id, zoneName: 'Archive', count: 3 },
            { zoneId: lobby.id, zoneName: 'Вестибюль', count: 2 },
          ]),
        },
      ]);
      const inVault = await ok<MusterBody>(operator, 'GET', `/api/admin/muster?siteId=${musterSite.id}&zoneId=${vault.id}`);
      expect(inVault.items.map((i) => i.passId)).toEqual([group.id]);
      // Without a site: every site of the organisation, this one among them.
      const all = await ok<MusterBody>(operator, 'GET', '/api/admin/muster');
      expect(all.sites.map((s) => s.siteId)).toEqual(expect.arrayContaining([musterSite.id, topo.site.id]));
      expect(all.items.map((i) => i.passId)).toEqual(expect.arrayContaining([boris.id, anna.id, group.id]));
    });

    it('is the organisation’s own: a Host gets 403, another organisation 404 for the site and nothing of ours in its own', async () => {
      expect((await api(host, 'GET', '/api/admin/muster')).statusCode).toBe(403);
      expect((await api(host, 'GET', '/api/admin/muster.csv')).statusCode).toBe(403);
      expect((await api(stranger, 'GET', `/api/admin/muster?siteId=${musterSite.id}`)).statusCode).toBe(404);
      expect((await api(stranger, 'GET', `/api/admin/muster.csv?siteId=${musterSite.id}`)).statusCode).toBe(404);
      const theirs = await api(stranger, 'GET', '/api/admin/muster');
      expect(theirs.statusCode).toBe(200);
      expect(theirs.body).not.toContain(musterSite.id);
      expect(theirs.body).not.toContain(topo.site.id);
      expect((theirs.json() as MusterBody).items).toEqual([]);
    });

    it('CSV: an attachment in UTF-8 with a BOM, quoted where needed, formulas defused', async () => {
      const evil = await newPass('multi', (await visitor('=HYPERLINK("http://evil.example","click")', '+7 (495) 000-00-00')).id);
      const quoted = await newPass('multi', (await visitor('Петров, Иван "Ваня"', '@corp')).id);
      await ingestAt(lobbyGate.id, [
        event(evil.id, 'in', at(95), { gateId: lobbyGate.id }),
        event(quoted.id, 'in', at(96), { gateId: lobbyGate.id }),
      ]);
      const r = await api(operator, 'GET', `/api/admin/muster.csv?siteId=${musterSite.id}`);
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(r.headers['content-disposition']).toMatch(/^attachment; filename="muster-\d{12}\.csv"$/);
      const bytes = r.rawPayload;
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const text = bytes.subarray(3).toString('utf8');
      const lines = text.trimEnd().split('\r\n');
      expect(lines[0]).toBe('site,zone,visitor,company,host,pass type,people,entered at gate,since,pass id');
      const evilLine = lines.find((l) => l.includes(evil.id))!;
      // A leading quote makes the spreadsheet read text, not a formula; the embedded quotes are doubled.
      expect(evilLine).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
      expect(evilLine).toContain("'+7 (495) 000-00-00");
      expect(evilLine).not.toMatch(/,=|,\+|,@/);
      const quotedLine = lines.find((l) => l.includes(quoted.id))!;
      expect(quotedLine).toContain('"Петров, Иван ""Ваня"""');
      expect(quotedLine).toContain("'@corp");
      expect(quotedLine.startsWith('Муster site,Вестибюль,')).toBe(true);
      // The same people as the JSON, one line each.
      const m = await ok<MusterBody>(operator, 'GET', `/api/admin/muster?siteId=${musterSite.id}`);
      expect(lines).toHaveLength(m.items.length + 1);
    });
  });
});
