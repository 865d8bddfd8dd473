import { closeSync, existsSync, openSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cardKey, uuidv7 } from '@gatehouse/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EdgeEvent } from '../src/event.js';
import { applySeed, parseSeed } from '../src/seed.js';
import { EdgeStore, UNASSIGNED } from '../src/store/index.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/migrations.js';
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
