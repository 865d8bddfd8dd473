/**
 * The local copy of what sync carries: passes (with their cards), rules,
 * zones, gates, the site and its holiday calendar, plus per-pass state. Lookups
 * run on the scan path, so their statements are prepared once; rules, zones,
 * gates, sites and holidays are few and live in memory, reloaded after each apply.
 *
 * The cloud's presence (SYNC-3) is not a record of its own here: it is merged
 * into pass_state, the same row the edge's own decisions write, so a scan
 * reads one state whichever gate of the site the pass last went through.
 */
import type {
  Change,
  Direction,
  GateRecord,
  HolidayRecord,
  PassRecord,
  PassState,
  PresenceRecord,
  RuleRecord,
  SiteRecord,
  ZoneRecord,
} from '@gatehouse/protocol';
import { cardKey, mergePresence } from '@gatehouse/protocol';
import type Database from 'better-sqlite3';

export interface PassLookup {
  pass: PassRecord | undefined;
  rule: RuleRecord | undefined;
  state: PassState | undefined;
}

export interface CacheRecords {
  site?: SiteRecord | null;
  passes?: readonly PassRecord[];
  rules?: readonly RuleRecord[];
  zones?: readonly ZoneRecord[];
  gates?: readonly GateRecord[];
  holidays?: readonly HolidayRecord[];
  /** Merged into the pass state (SYNC-3), never replacing a newer local one. */
  presence?: readonly PresenceRecord[];
}

/** A site's calendar as decide() reads it (GateContext.holidays): by local date. */
export type HolidayCalendar = ReadonlyMap<string, Pick<HolidayRecord, 'kind' | 'windows'>>;

const NO_HOLIDAYS: HolidayCalendar = new Map();

interface PassRow {
  id: string;
  org_id: string;
  rule_id: string | null;
  type: PassRecord['type'];
  status: PassRecord['status'];
  valid_from: number;
  valid_to: number;
  max_uses: number | null;
  totp_secret: string | null;
  card_format: 'w26' | 'w34' | 'raw' | null;
  card_number: string | null;
  escort: number;
  use_count: number | null;
  last_direction: Direction | null;
  last_totp_step: number | null;
  last_at: number | null;
}

interface StateRow {
  use_count: number;
  last_direction: Direction | null;
  last_totp_step: number | null;
  last_at: number | null;
}

const PASS_COLUMNS = `p.id, p.org_id, p.rule_id, p.type, p.status, p.valid_from, p.valid_to, p.max_uses, p.totp_secret,
  p.card_format, p.card_number, p.escort, s.use_count, s.last_direction, s.last_totp_step, s.last_at`;

type TableName = 'rules' | 'zones' | 'gates' | 'sites' | 'holidays';
const TABLES = ['rules', 'zones', 'gates', 'sites', 'holidays'] as const;
const ENTITY_TABLES = { pass: 'passes', rule: 'rules', zone: 'zones', gate: 'gates', site: 'sites', holiday: 'holidays' } as const;

const NO_PASS: PassLookup = Object.freeze({ pass: undefined, rule: undefined, state: undefined });

export class Cache {
  readonly rules = new Map<string, RuleRecord>();
  readonly zones = new Map<string, ZoneRecord>();
  readonly gates = new Map<string, GateRecord>();
  readonly sites = new Map<string, SiteRecord>();
  readonly holidays = new Map<string, HolidayRecord>();
  /** holidays by site, then by local date; rebuilt on reload so a scan does one map lookup. */
  #calendars = new Map<string, Map<string, HolidayRecord>>();

  readonly #byId: Database.Statement<[string], PassRow>;
  readonly #byCard: Database.Statement<[string], PassRow>;
  readonly #stateOnly: Database.Statement<[string], StateRow>;
  readonly #upsertPass: Database.Statement;
  readonly #deletePass: Database.Statement<[string]>;
  readonly #deleteState: Database.Statement<[string]>;
  readonly #putState: Database.Statement;
  readonly #upsert: Record<TableName, Database.Statement<[string, string]>>;
  readonly #delete: Record<TableName, Database.Statement<[string]>>;

  constructor(private readonly db: Database.Database) {
    this.#byId = db.prepare(`SELECT ${PASS_COLUMNS} FROM passes p LEFT JOIN pass_state s ON s.pass_id = p.id WHERE p.id = ?`);
    // A card re-issued to a new pass: prefer an active pass, then the one valid longest.
    this.#byCard = db.prepare(
      `SELECT ${PASS_COLUMNS} FROM passes p LEFT JOIN pass_state s ON s.pass_id = p.id
       WHERE p.card_key = ? ORDER BY (p.status = 'active') DESC, p.valid_to DESC LIMIT 1`,
    );
    this.#stateOnly = db.prepare('SELECT use_count, last_direction, last_totp_step, last_at FROM pass_state WHERE pass_id = ?');
    this.#upsertPass = db.prepare(
      `INSERT OR REPLACE INTO passes (id, org_id, rule_id, type, status, valid_from, valid_to, max_uses, totp_secret, card_format, card_number, card_key, escort)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#deletePass = db.prepare('DELETE FROM passes WHERE id = ?');
    this.#deleteState = db.prepare('DELETE FROM pass_state WHERE pass_id = ?');
    // An upsert updates the row in place; REPLACE would delete and re-insert it on every scan.
    this.#putState = db.prepare(
      `INSERT INTO pass_state (pass_id, use_count, last_direction, last_totp_step, last_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (pass_id) DO UPDATE SET use_count = excluded.use_count, last_direction = excluded.last_direction,
         last_totp_step = excluded.last_totp_step, last_at = excluded.last_at`,
    );
    this.#upsert = Object.fromEntries(TABLES.map((t) => [t, db.prepare(`INSERT OR REPLACE INTO ${t} (id, data) VALUES (?, ?)`)])) as Record<
      TableName,
      Database.Statement<[string, string]>
    >;
    this.#delete = Object.fromEntries(TABLES.map((t) => [t, db.prepare(`DELETE FROM ${t} WHERE id = ?`)])) as Record<
      TableName,
      Database.Statement<[string]>
    >;
    this.reload();
  }

  /** Re-reads the small tables into memory. */
  reload(): void {
    const load = <T extends { id: string }>(table: string, into: Map<string, T>) => {
      into.clear();
      for (const row of this.db.prepare(`SELECT data FROM ${table}`).all() as { data: string }[]) {
        const rec = JSON.parse(row.data) as T;
        into.set(rec.id, rec);
      }
    };
    load('rules', this.rules);
    load('zones', this.zones);
    load('gates', this.gates);
    load('sites', this.sites);
    load('holidays', this.holidays);
    this.#calendars = new Map();
    for (const h of this.holidays.values()) {
      const cal = this.#calendars.get(h.siteId) ?? new Map<string, HolidayRecord>();
      cal.set(h.date, h);
      this.#calendars.set(h.siteId, cal);
    }
  }

  /** DEC-14: the site's calendar by local date; an empty map when it has none. */
  calendar(siteId: string): HolidayCalendar {
    return this.#calendars.get(siteId) ?? NO_HOLIDAYS;
  }

  #fromRow(row: PassRow): PassLookup {
    const pass: PassRecord = {
      id: row.id,
      orgId: row.org_id,
      ruleId: row.rule_id,
      type: row.type,
      status: row.status,
      validFrom: row.valid_from,
      validTo: row.valid_to,
      maxUses: row.max_uses,
      totpSecret: row.totp_secret,
      card: row.card_format && row.card_number ? { format: row.card_format, number: row.card_number } : null,
      escort: row.escort === 1,
    };
    const state: PassState | undefined =
      row.use_count === null
        ? undefined
        : { useCount: row.use_count, lastDirection: row.last_direction, lastTotpStep: row.last_totp_step, lastAt: row.last_at };
    return { pass, rule: row.rule_id === null ? undefined : this.rules.get(row.rule_id), state };
  }

  findByPassId(passId: string): PassLookup {
    const row = this.#byId.get(passId);
    if (row) return this.#fromRow(row);
    // A static QR can be valid without a cached pass; its state still matters (replay, passback, uses).
    const s = this.#stateOnly.get(passId);
    if (!s) return NO_PASS;
    return { pass: undefined, rule: undefined, state: stateOf(s) };
  }

  findByCard(key: string): PassLookup {
    const row = this.#byCard.get(key);
    return row ? this.#fromRow(row) : NO_PASS;
  }

  putState(passId: string, s: PassState): void {
    this.#putState.run(passId, s.useCount, s.lastDirection, s.lastTotpStep, s.lastAt);
  }

  /**
   * SYNC-3: the cloud's view of a pass merged into the local state (mergePresence: counts only grow, the later
   * in/out side wins). Written even when the pass is not cached, as a static QR's state is. Call inside a transaction.
   */
  mergePresence(p: PresenceRecord): void {
    const row = this.#stateOnly.get(p.passId);
    this.putState(p.passId, mergePresence(row ? stateOf(row) : undefined, p));
  }

  upsertPass(p: PassRecord): void {
    this.#upsertPass.run(
      p.id,
      p.orgId,
      p.ruleId,
      p.type,
      p.status,
      p.validFrom,
      p.validTo,
      p.maxUses,
      p.totpSecret,
      p.card?.format ?? null,
      p.card?.number ?? null,
      p.card ? cardKey(p.card) : null,
      p.escort ? 1 : 0,
    );
  }

  /** Writes records; call inside a transaction. `replace` empties the cache first (a full snapshot). */
  writeRecords(r: CacheRecords, replace: boolean): void {
    if (replace) {
      // pass_state stays: counts and in/out survive a resync, and the snapshot's presence merges into them.
      for (const t of ['passes', ...TABLES]) this.db.exec(`DELETE FROM ${t}`);
    }
    if (r.site) this.#upsert.sites.run(r.site.id, JSON.stringify(r.site));
    for (const p of r.passes ?? []) this.upsertPass(p);
    for (const x of r.rules ?? []) this.#upsert.rules.run(x.id, JSON.stringify(x));
    for (const x of r.zones ?? []) this.#upsert.zones.run(x.id, JSON.stringify(x));
    for (const x of r.gates ?? []) this.#upsert.gates.run(x.id, JSON.stringify(x));
    for (const x of r.holidays ?? []) this.#upsert.holidays.run(x.id, JSON.stringify(x));
    for (const x of r.presence ?? []) this.mergePresence(x);
  }

  /** Applies one change of a delta; call inside a transaction. */
  applyChange(c: Change): void {
    if (c.entity === 'presence') {
      // A presence is never withdrawn (counts only grow; a guard's forgiveness is an upsert): a delete changes nothing.
      if (c.op === 'delete') return;
      if (!c.data) throw new TypeError(`upsert of presence ${c.id} without data`);
      if (c.data.passId !== c.id) throw new TypeError(`change id ${c.id} does not match its presence pass id ${c.data.passId}`);
      this.mergePresence(c.data);
      return;
    }
    const table = ENTITY_TABLES[c.entity];
    if (c.op === 'delete') {
      if (table === 'passes') {
        this.#deletePass.run(c.id);
        this.#deleteState.run(c.id);
      } else this.#delete[table].run(c.id);
      return;
    }
    if (!c.data) throw new TypeError(`upsert of ${c.entity} ${c.id} without data`);
    if (c.data.id !== c.id) throw new TypeError(`change id ${c.id} does not match its data id ${c.data.id}`);
    if (c.entity === 'pass') this.upsertPass(c.data);
    else this.#upsert[table as TableName].run(c.id, JSON.stringify(c.data));
  }
}

function stateOf(s: StateRow): PassState {
  return { useCount: s.use_count, lastDirection: s.last_direction, lastTotpStep: s.last_totp_step, lastAt: s.last_at };
}
