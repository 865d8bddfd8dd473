import { closeSync, existsSync, openSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cardKey, uuidv7 } from '@gatehouse/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EdgeEvent } from '../src/event.js';
import { Gate } from '../src/gate.js';
import { applySeed, parseSeed } from '../src/seed.js';
import { EdgeStore, UNASSIGNED } from '../src/store/index.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/migrations.js';
import { FakeRelay } from './fakes.js';
import { makeFixture } from './fixtures.js';
import { tempDir } from './tmp.js';

const event = (over: Partial<EdgeEvent> = {}): EdgeEvent => ({
  id: uuidv7(),
  type: 'attempt',
  gateId: 'gate-1',
  passId: null,
  credentialKind: 'none',
  direction: 'in',
  allow: false,
  reason: 'malformed',
  occurredAt: Date.now(),
  ...over,
});

describe('EdgeStore', () => {
  let t: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    t = tempDir();
    file = join(t.dir, 'edge.db');
  });
  afterEach(() => t.cleanup());

  it('creates the schema at the current version, in WAL mode with synchronous=NORMAL', () => {
    const s = new EdgeStore(file);
    expect(s.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(s.gateId).toBeUndefined();
    expect(s.context('in')).toMatchObject({ gateId: UNASSIGNED, timezone: 'UTC', lockdown: false });
    s.close();
  });

  it('refuses a database from a newer build instead of guessing', () => {
    new EdgeStore(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => new EdgeStore(file)).toThrow(/newer than this build/);
  });

  it('seeds a snapshot and looks passes up by id and by card key, with rule and site context', () => {
    const fx = makeFixture();
    const s = new EdgeStore(file);
    applySeed(s, parseSeed({ ...fx.seed(), seq: 7 }));
    expect(s.seq).toBe(7);
    expect(s.gateId).toBe('gate-1');
    const byId = s.findByPassId(fx.passes.multi.id);
    expect(byId.pass).toEqual(fx.passes.multi);
    expect(byId.rule).toEqual(fx.rule);
    expect(byId.state).toBeUndefined();
    const card = fx.passes.card.card!;
    expect(s.findByCard(cardKey(card)).pass?.id).toBe(fx.passes.card.id);
    expect(s.findByCard('w26:1').pass).toBeUndefined();
    const ctx = s.context('out');
    expect(ctx).toMatchObject({ gateId: 'gate-1', zoneId: 'zone-lobby', timezone: 'Europe/Berlin', direction: 'out' });
    expect(ctx.keys.size).toBe(1);
    expect(s.context('out')).toBe(ctx); // cached: no KeyRing per scan
    s.close();
  });

  it('writes an event and the pass state in one transaction, and both survive reopening', () => {
    const fx = makeFixture();
    const s = new EdgeStore(file);
    applySeed(s, parseSeed(fx.seed()));
    const id = fx.passes.multi.id;
    s.record(event({ passId: id, allow: true, reason: 'ok' }), id, {
      useCount: 1,
      lastDirection: 'in',
      lastTotpStep: 99,
      lastAt: 1_700_000_000_000,
    });
    // A failing transaction leaves neither half behind.
    const dup = event({ passId: id });
    s.record(dup);
    expect(() => s.record(dup, id, { useCount: 2, lastDirection: 'in', lastTotpStep: 100, lastAt: null })).toThrow(/UNIQUE/);
    expect(s.findByPassId(id).state).toEqual({ useCount: 1, lastDirection: 'in', lastTotpStep: 99, lastAt: 1_700_000_000_000 });
    expect(s.outbox.depth).toBe(2);
    s.db.close(); // no checkpoint: reopen must replay the WAL
    const again = new EdgeStore(file);
    expect(again.outbox.depth).toBe(2);
    expect(again.findByPassId(id).state).toEqual({ useCount: 1, lastDirection: 'in', lastTotpStep: 99, lastAt: 1_700_000_000_000 });
    again.close();
  });

  it('migrates a version-1 file in place, keeping its outbox', () => {
    const raw = new Database(file);
    raw.exec(MIGRATIONS[0]!);
    raw.pragma('user_version = 1');
    const old = event();
    raw.prepare('INSERT INTO outbox (id, event) VALUES (?, ?)').run(old.id, JSON.stringify(old));
    raw.close();
    const s = new EdgeStore(file);
    expect(s.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(s.outbox.pending(10).map((r) => r.event.id)).toEqual([old.id]);
    const id = uuidv7();
    s.record(event(), id, { useCount: 1, lastDirection: 'in', lastTotpStep: 3, lastAt: null });
    expect(s.findByPassId(id).state).toEqual({ useCount: 1, lastDirection: 'in', lastTotpStep: 3, lastAt: null });
    s.close();
  });

  it('if the state cannot be written, the event is not written either', () => {
    const s = new EdgeStore(file);
    s.db.exec('DROP TABLE pass_state');
    expect(() => s.record(event(), uuidv7(), { useCount: 1, lastDirection: 'in', lastTotpStep: null, lastAt: null })).toThrow(/pass_state/);
    expect(s.outbox.recent(10)).toHaveLength(0);
    s.db.close();
  });

  it('keeps state for a pass that is not cached (static QR) and across a re-sync of the pass', () => {
    const fx = makeFixture();
    const s = new EdgeStore(file);
    const ghost = uuidv7();
    s.record(event(), ghost, { useCount: 1, lastDirection: 'in', lastTotpStep: null, lastAt: null });
    expect(s.findByPassId(ghost)).toEqual({
      pass: undefined,
      rule: undefined,
      state: { useCount: 1, lastDirection: 'in', lastTotpStep: null, lastAt: null },
    });
    applySeed(s, parseSeed(fx.seed()));
    const id = fx.passes.multi.id;
    s.record(event(), id, { useCount: 3, lastDirection: 'out', lastTotpStep: 5, lastAt: null });
    s.applyDelta([{ seq: 2, entity: 'pass', op: 'upsert', id, data: { ...fx.passes.multi, status: 'revoked' } }], 2);
    expect(s.findByPassId(id)).toMatchObject({ pass: { status: 'revoked' }, state: { useCount: 3 } });
    s.close();
  });

  it('MSG-1, MSG-5: applies deltas atomically: a bad change rolls back the whole delta and the seq', () => {
    const fx = makeFixture();
    const s = new EdgeStore(file);
    applySeed(s, parseSeed({ ...fx.seed(), seq: 10 }));
    const id = fx.passes.multi.id;
    expect(() =>
      s.applyDelta(
        [
          { seq: 11, entity: 'pass', op: 'delete', id },
          { seq: 12, entity: 'rule', op: 'upsert', id: 'r2' },
        ],
        12,
      ),
    ).toThrow(/without data/);
    expect(s.seq).toBe(10);
    expect(s.findByPassId(id).pass).toBeDefined();
    s.applyDelta(
      [
        { seq: 11, entity: 'pass', op: 'delete', id },
        { seq: 12, entity: 'gate', op: 'upsert', id: 'gate-1', data: { ...fx.gate, lockdown: true } },
        { seq: 13, entity: 'rule', op: 'upsert', id: 'r2', data: { ...fx.rule, id: 'r2' } },
      ],
      13,
    );
    expect(s.seq).toBe(13);
    expect(s.findByPassId(id).pass).toBeUndefined();
    expect(s.context('in').lockdown).toBe(true); // context rebuilt after a sync
    expect(s.cache.rules.has('r2')).toBe(true);
    s.close();
  });

  it('MSG-6: a replacing snapshot drops what is not in it and clears "full sync needed"', () => {
    const fx = makeFixture();
    const s = new EdgeStore(file);
    applySeed(s, parseSeed(fx.seed()));
    s.setSetting('fullSyncNeeded', '1');
    s.applySnapshot(
      { site: fx.site, gates: [fx.gate], zones: [fx.zone], rules: [fx.rule], passes: [fx.passes.card] },
      { replace: true, seq: 50 },
    );
    expect(s.findByPassId(fx.passes.multi.id).pass).toBeUndefined();
    expect(s.findByPassId(fx.passes.card.id).pass).toBeDefined();
    expect(s.fullSyncNeeded).toBe(false);
    expect(s.seq).toBe(50);
    s.close();
  });

  it('outbox: pending in order, ack by id, depth, recent newest first, prune keeps the newest acked', () => {
    const s = new EdgeStore(file);
    const evs = Array.from({ length: 5 }, () => event());
    for (const e of evs) s.record(e);
    expect(s.outbox.pending(10).map((r) => r.event.id)).toEqual(evs.map((e) => e.id));
    expect(s.outbox.ack([evs[0]!.id, evs[1]!.id, evs[1]!.id, uuidv7()])).toBe(2);
    expect(s.outbox.depth).toBe(3);
    expect(s.outbox.pending(10).map((r) => r.event.id)).toEqual(evs.slice(2).map((e) => e.id));
    expect(s.outbox.recent(2).map((e) => e.id)).toEqual([evs[4]!.id, evs[3]!.id]);
    expect(s.outbox.prune(1)).toBe(1);
    expect(s.outbox.recent(10)).toHaveLength(4);
    s.close();
    expect(new EdgeStore(file).outbox.depth).toBe(3);
  });

  it('checkpoints in the background: the scan connection stops auto-checkpointing, the worker does it', async () => {
    const s = new EdgeStore(file);
    const c = s.startBackgroundCheckpoints(3_600_000)!;
    expect(s.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(file).size;
    // ~2,000 WAL frames: past SQLite's 1,000-page auto-checkpoint, which would run (and fsync) inside a commit.
    for (let i = 0; i < 1000; i++) s.record(event());
    expect(statSync(file).size).toBe(before);
    c.checkpointNow();
    const end = Date.now() + 5000;
    while (c.stats.checkpoints < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(c.stats).toMatchObject({ checkpoints: 1, lastError: null });
    expect(statSync(file).size).toBeGreaterThan(before + 200_000); // copied into the main file by the worker
    await s.stopBackgroundCheckpoints();
    expect(s.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    s.close();
  });

  it('the background checkpointer runs on its interval', async () => {
    const s = new EdgeStore(file);
    const c = s.startBackgroundCheckpoints(30)!;
    s.record(event());
    const end = Date.now() + 5000;
    while (c.stats.checkpoints < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(c.stats.checkpoints).toBeGreaterThanOrEqual(3);
    await s.stopBackgroundCheckpoints();
    s.close();
  });

  it('local lockdown is persisted and folds into the gate context', () => {
    const s = new EdgeStore(file);
    const before = s.context('in');
    s.localLockdown = true;
    expect(s.context('in').lockdown).toBe(true);
    expect(s.context('in')).not.toBe(before);
    s.close();
    const again = new EdgeStore(file);
    expect(again.localLockdown).toBe(true);
    again.close();
  });

  it.each([
    ['garbage instead of a database', (f: string) => writeFileSync(f, Buffer.alloc(8192, 0x5a))],
    [
      'a damaged page',
      (f: string) => {
        const db = new Database(f);
        db.exec('CREATE TABLE big (x TEXT); CREATE INDEX big_x ON big(x);');
        const ins = db.prepare('INSERT INTO big VALUES (?)');
        db.transaction(() => {
          for (let i = 0; i < 2000; i++) ins.run(`row-${i}-${'y'.repeat(50)}`);
        })();
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.pragma('journal_mode = DELETE');
        db.close();
        const buf = Buffer.alloc(4096, 0xff);
        const fd = openSync(f, 'r+');
        writeSync(fd, buf, 0, buf.length, 4096 * 3);
        closeSync(fd);
      },
    ],
  ])('%s is moved aside; the edge starts empty and asks for a full sync', (_name, damage) => {
    const s0 = new EdgeStore(file);
    s0.record(event());
    s0.close();
    damage(file);
    const s = new EdgeStore(file);
    expect(s.movedAside).toMatch(/edge\.db\.corrupt-/);
    expect(existsSync(s.movedAside!)).toBe(true);
    expect(s.fullSyncNeeded).toBe(true);
    expect(s.outbox.depth).toBe(0);
    expect(readdirSync(t.dir).some((n) => n.startsWith('edge.db.corrupt-'))).toBe(true);
    s.close();
  });
});

describe('EdgeStore: holidays, presence and migration 3', () => {
  let t: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    t = tempDir();
    file = join(t.dir, 'edge.db');
  });
  afterEach(() => t.cleanup());

  const T0 = Date.UTC(2026, 0, 7, 10, 0, 0); // Wednesday 2026-01-07, 11:00 in Berlin

  it('DEC-14, SYNC-4: a closed day from the synced calendar denies holiday; a rule that ignores holidays opens; deleting the day reopens', () => {
    const fx = makeFixture(T0);
    const s = new EdgeStore(file);
    applySeed(s, parseSeed(fx.seed()));
    const guard = { ...fx.rule, id: 'rule-guard', holidays: 'ignore' as const };
    const guardPass = { ...fx.passes.multi, id: uuidv7(), ruleId: guard.id, card: { format: 'raw' as const, number: '55' } };
    const day = { id: 'hol-1', siteId: fx.site.id, date: '2026-01-07', kind: 'closed' as const, name: 'Closed', windows: [] };
    s.applyDelta(
      [
        { seq: 1, entity: 'rule', op: 'upsert', id: guard.id, data: guard },
        { seq: 1, entity: 'pass', op: 'upsert', id: guardPass.id, data: guardPass },
        { seq: 1, entity: 'holiday', op: 'upsert', id: day.id, data: day },
      ],
      1,
    );
    let now = T0;
    const gate = new Gate({ store: s, relay: new FakeRelay([]), now: () => now, debounceMs: 0 });
    const scan = (data: string, direction: 'in' | 'out' = 'in') =>
      gate.handle({ reader: 'r', direction, data, receivedAt: performance.now() }).decision?.reason;
    expect(scan(fx.wiegand)).toBe('holiday');
    expect(scan('CARD:55')).toBe('ok');
    expect(scan(fx.wiegand, 'out')).toBe('ok'); // exits are never blocked
    // Special hours 09:00–10:00 local: 11:00 is outside them.
    s.applyDelta(
      [
        {
          seq: 2,
          entity: 'holiday',
          op: 'upsert',
          id: day.id,
          data: { ...day, kind: 'special', windows: [{ from: '09:00', to: '10:00' }] },
        },
      ],
      2,
    );
    expect(scan(fx.wiegand)).toBe('holiday');
    now = T0 - 90 * 60_000; // 09:30 local
    expect(scan(fx.wiegand)).toBe('ok');
    now = T0;
    s.applyDelta([{ seq: 3, entity: 'holiday', op: 'delete', id: day.id }], 3);
    expect(scan(fx.wiegand)).toBe('ok');
    // A snapshot replaces the calendar like the rest of the cache; another site's days do not apply here.
    s.applySnapshot({ ...fx.seed(), holidays: [{ ...day, siteId: 'site-elsewhere' }] }, { replace: true, seq: 4 });
    expect(s.context('in').holidays).toBeUndefined();
    s.applySnapshot({ ...fx.seed(), holidays: [day] }, { replace: true, seq: 5 });
    expect(scan(fx.wiegand)).toBe('holiday');
    s.close();
  });

  it('SYNC-3: presence merges into the pass state — counts only grow, the later side wins, forgiveness clears an earlier entry only', () => {
    const fx = makeFixture();
    const s = new EdgeStore(file);
    applySeed(s, parseSeed(fx.seed()));
    const id = fx.passes.multi.id;
    const t = 1_800_000_000_000;
    const presence = (seq: number, useCount: number, lastDirection: 'in' | 'out' | null, lastAt: number | null) =>
      s.applyDelta([{ seq, entity: 'presence', op: 'upsert', id, data: { passId: id, useCount, lastDirection, lastAt } }], seq);
    s.record(event({ passId: id, allow: true, reason: 'ok' }), id, { useCount: 2, lastDirection: 'in', lastTotpStep: 7, lastAt: t });
    // The cloud's older view (another gate, earlier) neither lowers the count nor overrides the newer local entry.
    presence(1, 1, 'out', t - 60_000);
    expect(s.findByPassId(id).state).toEqual({ useCount: 2, lastDirection: 'in', lastTotpStep: 7, lastAt: t });
    // A later exit at another gate of the site, with the site-wide count.
    presence(2, 3, 'out', t + 60_000);
    expect(s.findByPassId(id).state).toEqual({ useCount: 3, lastDirection: 'out', lastTotpStep: 7, lastAt: t + 60_000 });
    // A local entry after that, then a guard's forgiveness given before it: the entry stands.
    s.record(event({ passId: id, allow: true, reason: 'ok' }), id, {
      useCount: 4,
      lastDirection: 'in',
      lastTotpStep: 8,
      lastAt: t + 120_000,
    });
    presence(3, 4, null, t + 90_000);
    expect(s.findByPassId(id).state).toMatchObject({ lastDirection: 'in', lastAt: t + 120_000 });
    // Forgiveness given after it clears it: the pass is no longer inside (passback lifted).
    presence(4, 4, null, t + 180_000);
    expect(s.findByPassId(id).state).toEqual({ useCount: 4, lastDirection: null, lastTotpStep: 8, lastAt: t + 180_000 });
    // A presence delete changes nothing; a presence for a pass not cached lands in pass_state like a static QR's.
    s.applyDelta([{ seq: 5, entity: 'presence', op: 'delete', id }], 5);
    expect(s.findByPassId(id).state?.useCount).toBe(4);
    const ghost = uuidv7();
    s.applySnapshot({ presence: [{ passId: ghost, useCount: 1, lastDirection: 'in', lastAt: t }] }, { replace: false, seq: 6 });
    expect(s.findByPassId(ghost)).toEqual({
      pass: undefined,
      rule: undefined,
      state: { useCount: 1, lastDirection: 'in', lastTotpStep: null, lastAt: t },
    });
    // A full snapshot keeps the state and merges its presence into it.
    s.applySnapshot(
      { ...fx.seed(), presence: [{ passId: id, useCount: 9, lastDirection: 'in', lastAt: t + 240_000 }] },
      { replace: true, seq: 7 },
    );
    expect(s.findByPassId(id).state).toEqual({ useCount: 9, lastDirection: 'in', lastTotpStep: 8, lastAt: t + 240_000 });
    s.close();
  });

  it('migrates a version-2 file in place: outbox, pass state and cache kept; escort and last_at added; the trigger carries last_at', () => {
    const fx = makeFixture();
    const raw = new Database(file);
    raw.exec(MIGRATIONS[0]!);
    raw.exec(MIGRATIONS[1]!);
    raw.pragma('user_version = 2');
    const p = fx.passes.card;
    raw
      .prepare(
        `INSERT INTO passes (id, org_id, rule_id, type, status, valid_from, valid_to, max_uses, totp_secret, card_format, card_number, card_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        p.id,
        p.orgId,
        p.ruleId,
        p.type,
        p.status,
        p.validFrom,
        p.validTo,
        p.maxUses,
        null,
        p.card!.format,
        p.card!.number,
        cardKey(p.card!),
      );
    const old = event({ passId: p.id, allow: true, reason: 'ok' });
    raw
      .prepare(
        'INSERT INTO outbox (id, event, state_pass_id, state_use_count, state_last_direction, state_last_totp_step) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(old.id, JSON.stringify(old), p.id, 5, 'in', null);
    raw.close();

    const s = new EdgeStore(file);
    expect(s.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(3);
    expect(s.outbox.pending(10).map((r) => r.event.id)).toEqual([old.id]);
    // The old row's state, with no time (a timed rule does not forgive it), and the pass, not an escort.
    expect(s.findByCard(cardKey(p.card!))).toMatchObject({
      pass: { id: p.id, escort: false },
      state: { useCount: 5, lastDirection: 'in', lastTotpStep: null, lastAt: null },
    });
    s.record(event(), p.id, { useCount: 6, lastDirection: 'out', lastTotpStep: null, lastAt: 1234 });
    expect(s.findByPassId(p.id).state).toEqual({ useCount: 6, lastDirection: 'out', lastTotpStep: null, lastAt: 1234 });
    s.applyDelta([{ seq: 1, entity: 'pass', op: 'upsert', id: p.id, data: { ...p, escort: true } }], 1);
    expect(s.findByPassId(p.id).pass?.escort).toBe(true);
    s.close();
  });

  it('CMD-4: the store takes up a change of its gate record’s emergency or lockdown; the context never says lockdown in an emergency', () => {
    const fx = makeFixture();
    const s = new EdgeStore(file);
    applySeed(s, parseSeed(fx.seed()));
    const gateRec = (seq: number, over: Partial<typeof fx.gate>) =>
      s.applyDelta([{ seq, entity: 'gate', op: 'upsert', id: fx.gate.id, data: { ...fx.gate, ...over } }], seq);
    s.localLockdown = true;
    gateRec(1, { emergency: true });
    expect(s.emergency).toBe(true);
    expect(s.localLockdown).toBe(false); // emergency clears a lockdown
    expect(s.context('in').lockdown).toBe(false);
    s.emergency = false; // released by command: the record repeating itself does not undo it
    gateRec(2, { emergency: true, name: 'renamed' });
    expect(s.emergency).toBe(false);
    gateRec(3, { emergency: true, lockdown: true });
    expect(s.emergency).toBe(false); // lockdown clears it
    expect(s.context('in').lockdown).toBe(true);
    // A reopen keeps the mode.
    s.emergency = true;
    s.close();
    const again = new EdgeStore(file);
    expect(again.emergency).toBe(true);
    again.close();
  });
});
