import { uuidv7 } from '@gatehouse/protocol';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../src/db/client.js';
import { changesSince, maxSeq, sitesWithUnstamped, stampSite } from '../src/sync/sequencer.js';
import { freshDatabase, onPostgres, type TestDb } from './helpers.js';

/** What the audit trigger does for a zone or gate: one change row for one site. */
const recordChange = (db: Executor, c: { orgId: string; entity: string; entityId: string; siteId: string }) =>
  db.execute(
    sql`insert into sync_changes (org_id, site_id, entity, entity_id) values (${c.orgId}, ${c.siteId}, ${c.entity}, ${c.entityId})`,
  );

describe('sync sequencer: dense per-site seq in commit order', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await freshDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('stamps 1..n per site, independently per site, and lists changes after a cursor', async () => {
    const db = t.database.db;
    const org = uuidv7();
    const [a, b] = [uuidv7(), uuidv7()];
    for (let i = 0; i < 5; i++) await recordChange(db, { orgId: org, entity: 'pass', entityId: uuidv7(), siteId: a });
    for (let i = 0; i < 3; i++) await recordChange(db, { orgId: org, entity: 'zone', entityId: uuidv7(), siteId: b });
    expect((await sitesWithUnstamped(db)).sort()).toEqual([a, b].sort());
    expect(await stampSite(db, a)).toBe(5);
    expect(await stampSite(db, b)).toBe(3);
    expect(await stampSite(db, a)).toBe(5); // idempotent
    expect(await sitesWithUnstamped(db)).toEqual([]);
    expect((await changesSince(db, a, 2, 10)).map((c) => c.seq)).toEqual([3, 4, 5]);
    expect(await maxSeq(db, b)).toBe(3);
  });

  it('an audited pass write reaches every site of the organisation (trigger), a zone write only its own site', async () => {
    const db = t.database.db;
    const org = uuidv7();
    const sites = [uuidv7(), uuidv7()];
    await db.execute(
      sql`insert into organizations (id, org_id, name, signing_kid, signing_public_key, signing_key_enc) values (${org}, ${org}, ${`o-${org}`}, 'k', 'p', 'e')`,
    );
    for (const id of sites) await db.execute(sql`insert into sites (id, org_id, name, timezone) values (${id}, ${org}, 'S', 'UTC')`);
    const zone = uuidv7();
    await db.execute(sql`insert into zones (id, org_id, site_id, name) values (${zone}, ${org}, ${sites[1]}, 'Z')`);
    const audit = (type: string, id: string) =>
      db.execute(
        sql`insert into audit_logs (id, org_id, action, entity_type, entity_id) values (${uuidv7()}, ${org}, 'x', ${type}, ${id})`,
      );
    await audit('pass', uuidv7());
    await audit('zone', zone);
    await audit('visitor', uuidv7()); // edges do not cache visitors: no change
    expect(await stampSite(db, sites[0] ?? '')).toBe(1);
    expect(await stampSite(db, sites[1] ?? '')).toBe(2);
    expect((await changesSince(db, sites[1] ?? '', 0, 10)).map((c) => c.entity)).toEqual(['pass', 'zone']);
  });

  it.skipIf(!onPostgres)(
    'a transaction held open does not hold back later commits, and its own change, committed late, gets a later seq (PostgreSQL)',
    async () => {
      const db = t.database.db;
      const site = uuidv7();
      const slow = new pg.Client({ connectionString: t.url ?? '' });
      await slow.connect();
      try {
        // A begins first, holds an xid (pg_snapshot_xmin stays at it) and writes, but commits last.
        await slow.query('begin');
        await slow.query('select txid_current()');
        const aId = uuidv7();
        await slow.query(`insert into sync_changes (org_id, site_id, entity, entity_id) values ($1, $2, 'pass', $3)`, [
          uuidv7(),
          site,
          aId,
        ]);
        // B writes and commits while A is open: it is stamped now, not when A ends.
        const bId = uuidv7();
        await recordChange(db, { orgId: uuidv7(), entity: 'pass', entityId: bId, siteId: site });
        expect(await stampSite(db, site)).toBe(1);
        // An edge takes its cursor here (it has seq 1) ...
        const cursor = (await changesSince(db, site, 0, 10)).map((r) => r.entityId);
        expect(cursor).toEqual([bId]);
        await slow.query('commit');
        expect(await stampSite(db, site)).toBe(2);
        // ... and A, which was open while B was stamped, still comes after that cursor: nothing is missed.
        const after = await changesSince(db, site, 1, 10);
        expect(after).toEqual([{ seq: 2, entity: 'pass', entityId: aId }]);
      } finally {
        await slow.end();
      }
    },
  );

  it.skipIf(!onPostgres)('50 concurrent writers and 4 concurrent sequencers give a gap-free, duplicate-free seq (PostgreSQL)', async () => {
    const db = t.database.db;
    const site = uuidv7();
    const writers = Array.from({ length: 50 }, () =>
      db.transaction(async (tx) => {
        for (let i = 0; i < 4; i++)
          await recordChange(tx as unknown as Executor, { orgId: uuidv7(), entity: 'pass', entityId: uuidv7(), siteId: site });
      }),
    );
    let stop = false;
    const sequencers = Array.from({ length: 4 }, async () => {
      while (!stop) await stampSite(db, site);
    });
    await Promise.all(writers);
    stop = true;
    await Promise.all(sequencers);
    await stampSite(db, site);
    const seqs = (await changesSince(db, site, 0, 1000)).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
});
