/**
 * Personal data at rest: users' and visitors' names, e-mails and companies are
 * sealed (`Sealer`, the row id in the AAD) like phone and document number; a
 * user's e-mail is found by a keyed hash of the lower-cased address.
 *
 * `sealPersonalData` converts rows still in plaintext (written before
 * migration 0010) and `rotateKeys` re-seals every sealed column under the
 * current master key (and re-computes the hashes); both work in batches by id,
 * so they are idempotent and a run that stops resumes where it left off.
 */
import { type AnyColumn, and, asc, getTableColumns, gt, inArray, isNotNull, isNull, notLike, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
import {
  hostPreferences,
  notifications,
  organizations,
  orgSettings,
  pushSubscriptions,
  users,
  visitors,
  visitPasses,
  webhookEndpoints,
} from '../../db/schema.js';
import type { Sealer } from '../../lib/crypto.js';
import { chatIdAad } from '../host/preferences.js';
import { payloadAad, recipientAad } from '../notifications/outbox.js';
import { secretAad } from '../webhooks/secret.js';
import { telegramTokenAad } from './settings.js';

export const userAad = (id: string, col: 'email' | 'full_name') => `users.${col}:${id}`;
export const visitorAad = (id: string, col: 'full_name' | 'email' | 'company' | 'phone' | 'document_number') => `visitors.${col}:${id}`;
const EMAIL_LOOKUP = 'users.email';

const normalEmail = (email: string) => email.trim().toLowerCase();

const VISITOR_LOOKUP = { email: 'visitors.email', phone: 'visitors.phone' } as const;
/** How a visitor's e-mail or phone is hashed for search: lower-cased e-mail; a phone's digits only (spaces, dashes, "+" dropped). */
const visitorLookupText = (kind: 'email' | 'phone', v: string) => (kind === 'email' ? normalEmail(v) : v.replace(/\D/g, ''));
/** The keyed hash stored beside a visitor's sealed e-mail or phone (`email_hash`, `phone_hash`): exact-match search without opening rows. */
export function visitorLookupHash(sealer: Sealer, kind: 'email' | 'phone', v: string | null | undefined): string | null {
  if (v == null) return null;
  const text = visitorLookupText(kind, v);
  return text ? sealer.lookupHash(text, VISITOR_LOOKUP[kind]) : null;
}
/**
 * The hash column's value for a stored value: null without one, '' for a value with nothing to
 * hash (a phone without digits), so the start-up backfill does not find that row again.
 */
export function storedLookupHash(sealer: Sealer, kind: 'email' | 'phone', v: string | null | undefined): string | null {
  return v == null ? null : (visitorLookupHash(sealer, kind, v) ?? '');
}
/** The keyed-hash domain of a name's words: a visitor's and a staff member's equal words hash apart. */
const NAME_LOOKUP = { visitors: 'visitors.name_word', users: 'users.name_word' } as const;
type NameOwner = keyof typeof NAME_LOOKUP;
/** The words of a name as they are hashed: lower-cased, accents dropped ("Đorđe Müller-Łukasz" → đorđe, muller, łukasz). */
export function nameWords(name: string): string[] {
  const words = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  return [...new Set(words)];
}
/**
 * The `name_tokens` column (visitors, users): a keyed hash of each word of a name, so a name is found by whole
 * words (GIN index) while it stays sealed. Like the e-mail hash, equal words of two rows have equal hashes; the
 * key is the master key's, so the hashes say nothing without it.
 */
export function nameTokens(sealer: Sealer, name: string | null | undefined, owner: NameOwner = 'visitors'): string[] | null {
  return name == null ? null : nameWords(name).map((w) => sealer.lookupHash(w, NAME_LOOKUP[owner]));
}
/** Per word of a search, the hashes it must match (the current key's, and the previous key's during a rotation). */
export function nameSearchTokens(sealer: Sealer, text: string, owner: NameOwner = 'visitors'): string[][] {
  return nameWords(text).map((w) => sealer.lookupHashes(w, NAME_LOOKUP[owner]));
}

/** A visitor's search hash columns (e-mail, phone, name words) for its clear values, under the current key. */
function searchHashes(sealer: Sealer, clear: { email: string | null; phone: string | null; name: string | null }) {
  return {
    emailHash: storedLookupHash(sealer, 'email', clear.email),
    phoneHash: storedLookupHash(sealer, 'phone', clear.phone),
    nameTokens: nameTokens(sealer, clear.name),
  };
}

/** A sealed visitor's search hashes, made from its sealed values. */
function searchHashesOf(sealer: Sealer, r: { id: string; emailEnc: string | null; phoneEnc: string | null; fullNameEnc: string | null }) {
  return searchHashes(sealer, {
    email: sealer.openNullable(r.emailEnc, visitorAad(r.id, 'email')),
    phone: sealer.openNullable(r.phoneEnc, visitorAad(r.id, 'phone')),
    name: sealer.openNullable(r.fullNameEnc, visitorAad(r.id, 'full_name')),
  });
}

/** The hashes a visitor search for `v` must match (the current key's, and the previous key's during a rotation). */
export function visitorLookupHashes(sealer: Sealer, kind: 'email' | 'phone', v: string): string[] {
  const text = visitorLookupText(kind, v);
  return text ? sealer.lookupHashes(text, VISITOR_LOOKUP[kind]) : [];
}

/** The hashes an e-mail lookup must match (the current key's, and the previous key's during a rotation). */
export function emailHashes(sealer: Sealer, email: string): string[] {
  return sealer.lookupHashes(normalEmail(email), EMAIL_LOOKUP);
}

/** The columns of a user's e-mail and name, sealed. */
export function sealedUser(sealer: Sealer, id: string, u: { email: string; fullName: string }) {
  const email = normalEmail(u.email);
  return {
    email: null,
    emailEnc: sealer.seal(email, userAad(id, 'email')),
    emailHash: sealer.lookupHash(email, EMAIL_LOOKUP),
    ...sealedUserName(sealer, id, u.fullName),
  };
}

/** The columns of a user's (new) name: sealed, its words hashed for search, the plaintext column cleared. */
export function sealedUserName(sealer: Sealer, id: string, fullName: string) {
  return {
    fullName: null,
    fullNameEnc: sealer.seal(fullName, userAad(id, 'full_name')),
    nameTokens: nameTokens(sealer, fullName, 'users'),
  };
}

/** What `openUser` reads: select these with a user. */
export const userPersonalColumns = {
  email: users.email,
  fullName: users.fullName,
  emailEnc: users.emailEnc,
  fullNameEnc: users.fullNameEnc,
};
type UserPersonal = { email: string | null; fullName: string | null; emailEnc: string | null; fullNameEnc: string | null };

/** A user's e-mail and name in clear (a row not yet sealed is read as it is). */
export function openUser(sealer: Sealer, id: string, r: UserPersonal): { email: string; fullName: string } {
  return {
    email: r.emailEnc ? sealer.open(r.emailEnc, userAad(id, 'email')) : (r.email ?? ''),
    fullName: openUserName(sealer, id, r.fullName, r.fullNameEnc) ?? '',
  };
}

/** A user's name in clear: the plaintext of a row not yet sealed, else the sealed column (null when neither is there). */
export function openUserName(sealer: Sealer, id: string, fullName: string | null, fullNameEnc: string | null): string | null {
  // A plaintext name beside a sealed one is the newer: before migration 0028 a rename wrote the plaintext
  // column and left the old sealed name, which the start-up sealing then kept, dropping the new name.
  return fullName ?? (fullNameEnc ? sealer.open(fullNameEnc, userAad(id, 'full_name')) : null);
}

/**
 * A staff member a record names (who acknowledged an alarm, who changed a site's mode): the id and the
 * name from a left join of `users`, or null when the record names nobody. A user the join no longer
 * finds keeps the id with a null name.
 */
export function staffMember(
  sealer: Sealer,
  id: string | null,
  fullName: string | null,
  fullNameEnc: string | null,
): { id: string; name: string | null } | null {
  return id ? { id, name: openUserName(sealer, id, fullName, fullNameEnc) } : null;
}

export const visitorNameColumns = { fullName: visitors.fullName, fullNameEnc: visitors.fullNameEnc };

export function openVisitorName(sealer: Sealer, id: string, r: { fullName: string | null; fullNameEnc: string | null }): string {
  return r.fullNameEnc ? sealer.open(r.fullNameEnc, visitorAad(id, 'full_name')) : (r.fullName ?? '');
}

/** A visitor's clear field: the sealed column, or the plaintext one of a row not yet sealed. */
export function openVisitorField(
  sealer: Sealer,
  id: string,
  col: 'full_name' | 'email' | 'company',
  enc: string | null,
  plain: string | null,
): string | null {
  return enc ? sealer.open(enc, visitorAad(id, col)) : plain;
}

const BATCH = 200;

/** Walks a table by id in batches; `step` returns how many rows it changed. */
async function walk<R extends { id: string }>(
  fetch: (after: string | null) => Promise<R[]>,
  step: (rows: R[]) => Promise<number>,
): Promise<number> {
  let after: string | null = null;
  let changed = 0;
  for (;;) {
    const rows = await fetch(after);
    if (rows.length === 0) return changed;
    changed += await step(rows);
    after = rows[rows.length - 1]!.id;
  }
}

/**
 * Writes each row's own values in one statement per batch (`UPDATE … FROM jsonb_to_recordset`): a statement
 * per row made the first start after a migration that adds a hash, or a key rotation, one round trip per
 * visitor or pass, minutes for a million. Every row of a batch sets the same columns (the first row's keys).
 */
async function updateRows<T extends PgTable>(
  db: Executor,
  table: T,
  id: PgColumn,
  rows: Array<{ id: string; set: Partial<T['$inferInsert']> }>,
): Promise<number> {
  const first = rows[0];
  if (!first) return 0;
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  const cols = Object.keys(first.set).map((k) => [k, columns[k]!] as const);
  const records = rows.map((r) => {
    const set = r.set as Record<string, unknown>;
    return Object.fromEntries([['id', r.id], ...cols.map(([k, c]) => [c.name, set[k] ?? null])]);
  });
  const shape = sql.join(
    [sql.raw(`id ${id.getSQLType()}`), ...cols.map(([, c]) => sql`${sql.identifier(c.name)} ${sql.raw(c.getSQLType())}`)],
    sql`, `,
  );
  const sets = sql.join(
    cols.map(([, c]) => sql`${sql.identifier(c.name)} = u.${sql.identifier(c.name)}`),
    sql`, `,
  );
  await db.execute(sql`update ${table} set ${sets} from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as u(${shape})
                       where ${id} = u.id`);
  return rows.length;
}

/**
 * Re-seals under the current key the `sealed` columns of `table` (rows
 * keyed by `id`, walked in batches in id order), each with its AAD of the row
 * id; answers how many rows changed. For tables whose sealed values need
 * nothing but a re-seal (users and visitors also re-hash, see below).
 */
async function resealColumns<T extends PgTable>(
  db: Executor,
  sealer: Sealer,
  stale: (col: AnyColumn) => SQL | undefined,
  batch: number,
  table: T,
  id: PgColumn,
  sealed: Array<{ key: keyof T['$inferSelect'] & string; aad: (id: string) => string }>,
): Promise<number> {
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  const pick = Object.fromEntries(sealed.map((c) => [c.key, columns[c.key]!]));
  return walk(
    (after) =>
      db
        .select({ id, ...pick })
        .from(table as PgTable)
        .where(and(or(...sealed.map((c) => stale(columns[c.key]!))), after ? gt(id, after) : undefined))
        .orderBy(asc(id))
        .limit(batch) as unknown as Promise<Array<Record<string, string | null> & { id: string }>>,
    (rows) =>
      updateRows(
        db,
        table,
        id,
        rows.map((r) => ({
          id: r.id,
          set: Object.fromEntries(sealed.map((c) => [c.key, sealer.resealNullable(r[c.key] ?? null, c.aad(r.id))])) as never,
        })),
      ),
  );
}

/** Seals under the current key the e-mail and name of the users `which` picks (plaintext or another key's), in batches by id. */
function sealUsers(db: Executor, sealer: Sealer, which: SQL | undefined, batch: number): Promise<number> {
  return walk(
    (after) =>
      db
        .select({ id: users.id, ...userPersonalColumns })
        .from(users)
        .where(and(which, after ? gt(users.id, after) : undefined))
        .orderBy(asc(users.id))
        .limit(batch),
    (rows) =>
      updateRows(
        db,
        users,
        users.id,
        rows.map((r) => ({ id: r.id, set: sealedUser(sealer, r.id, openUser(sealer, r.id, r)) })),
      ),
  );
}

/**
 * Seals the plaintext names, e-mails and companies of rows written before
 * migration 0010 and clears the plaintext columns. Cheap when there is nothing
 * to do (one indexed-free query that finds no row): run at every start.
 */
export async function sealPersonalData(db: Executor, sealer: Sealer): Promise<number> {
  let changed = 0;
  // Users sealed before migration 0028 have no name hashes: sealed again, which hashes them.
  changed += await sealUsers(
    db,
    sealer,
    or(isNotNull(users.email), isNotNull(users.fullName), and(isNotNull(users.fullNameEnc), isNull(users.nameTokens))),
    BATCH,
  );
  changed += await walk(
    (after) =>
      db
        .select()
        .from(visitors)
        .where(
          and(
            or(isNotNull(visitors.fullName), isNotNull(visitors.email), isNotNull(visitors.company)),
            after ? gt(visitors.id, after) : undefined,
          ),
        )
        .orderBy(asc(visitors.id))
        .limit(BATCH),
    (rows) =>
      updateRows(
        db,
        visitors,
        visitors.id,
        rows.map((r) => {
          // Each field opened once (the sealed column, or the plaintext one), then sealed and hashed.
          const name = openVisitorField(sealer, r.id, 'full_name', r.fullNameEnc, r.fullName);
          const email = openVisitorField(sealer, r.id, 'email', r.emailEnc, r.email);
          const company = openVisitorField(sealer, r.id, 'company', r.companyEnc, r.company);
          return {
            id: r.id,
            set: {
              fullNameEnc: sealer.sealNullable(name, visitorAad(r.id, 'full_name')),
              emailEnc: sealer.sealNullable(email, visitorAad(r.id, 'email')),
              companyEnc: sealer.sealNullable(company, visitorAad(r.id, 'company')),
              ...searchHashes(sealer, { email, phone: sealer.openNullable(r.phoneEnc, visitorAad(r.id, 'phone')), name }),
              fullName: null,
              email: null,
              company: null,
            },
          };
        }),
      ),
  );
  // Rows sealed before migration 0019 (0026 for names) have no search hashes: opened once and hashed.
  changed += await walk(
    (after) =>
      db
        .select({ id: visitors.id, emailEnc: visitors.emailEnc, phoneEnc: visitors.phoneEnc, fullNameEnc: visitors.fullNameEnc })
        .from(visitors)
        .where(
          and(
            or(
              and(isNotNull(visitors.emailEnc), isNull(visitors.emailHash)),
              and(isNotNull(visitors.phoneEnc), isNull(visitors.phoneHash)),
              and(isNotNull(visitors.fullNameEnc), isNull(visitors.nameTokens)),
            ),
            after ? gt(visitors.id, after) : undefined,
          ),
        )
        .orderBy(asc(visitors.id))
        .limit(BATCH),
    (rows) =>
      updateRows(
        db,
        visitors,
        visitors.id,
        rows.map((r) => ({ id: r.id, set: searchHashesOf(sealer, r) })),
      ),
  );
  return changed;
}

export interface RotationReport {
  organizations: number;
  passes: number;
  users: number;
  visitors: number;
  /** Message log rows (recipient and template variables). */
  notifications: number;
  /** Organisations' Telegram bot tokens. */
  orgSettings: number;
  /** Hosts' linked Telegram chats. */
  hostPreferences: number;
  /** Webhook endpoints' signing secrets. */
  webhookEndpoints: number;
  /**
   * Web Push subscriptions deleted, not re-sealed: they were made for the
   * previous key's VAPID pair, which push services now refuse (see rotateKeys).
   */
  pushSubscriptionsRemoved: number;
}

/**
 * Re-seals every sealed column under the current master key and re-computes
 * the keyed e-mail hashes: the step of a key rotation that lets the previous
 * key go (README "Rotating the master key"). A row is touched only while some
 * column of it is not yet in the current form (`v2-<current key id>.`), so a
 * second run changes nothing and a run that stops resumes where it left off.
 * Values of the previous key open only while GATEHOUSE_MASTER_KEY_PREVIOUS is set.
 *
 * Not rotated, on purpose:
 * - Web Push subscriptions of the previous key are deleted. The VAPID key pair
 *   is derived from the master key (notifications/channels/webpush.ts), and a
 *   browser's subscription is bound to the `applicationServerKey` it was made
 *   with (RFC 8292 §4): from the restart under the new key on, the push service
 *   refuses every message to it (403), so keeping it would keep a bearer
 *   capability that can never deliver and show the host a browser that is not
 *   reached. A subscription sealed under another key was necessarily made for
 *   that key's VAPID pair (the same request seals it and the console subscribed
 *   with the key GET /api/host/push/key answered), so the sealed text's key id
 *   says which ones are stale. Hosts enable push again in My visits; the
 *   endpoint hash of a kept (current) subscription is already the current key's.
 * - guest_codes.code_hash is an HMAC of a 6-digit code under a key derived from
 *   the master key (guest-auth/service.ts). The code itself is not stored, so it
 *   cannot be re-hashed; it lives 10 minutes and is useless without its guest
 *   link, a JWT of the old key that is refused from the restart on anyway: the
 *   visitor asks for a new link and code. Expired rows go with cleanup.expired.
 * - telegram_link_codes, sessions, enrollment codes: plain SHA-256 of random
 *   secrets, no key involved.
 */
export async function rotateKeys(db: Executor, sealer: Sealer, batch = BATCH): Promise<RotationReport> {
  await sealPersonalData(db, sealer);
  const prefix = `v2-${sealer.keyId}.%`;
  const stale = (col: AnyColumn) => and(isNotNull(col), notLike(col, prefix));
  const report: RotationReport = {
    organizations: 0,
    passes: 0,
    users: 0,
    visitors: 0,
    notifications: 0,
    orgSettings: 0,
    hostPreferences: 0,
    webhookEndpoints: 0,
    pushSubscriptionsRemoved: 0,
  };

  report.organizations = await resealColumns(db, sealer, stale, batch, organizations, organizations.id, [
    { key: 'signingKeyEnc', aad: (id) => `organizations.signing_key:${id}` },
  ]);
  report.passes = await resealColumns(db, sealer, stale, batch, visitPasses, visitPasses.id, [
    { key: 'totpSecretEnc', aad: (id) => `visit_passes.totp_secret:${id}` },
  ]);
  report.users = await sealUsers(db, sealer, or(stale(users.emailEnc), stale(users.fullNameEnc)), batch);
  report.visitors = await walk(
    (after) =>
      db
        .select()
        .from(visitors)
        .where(
          and(
            or(
              stale(visitors.fullNameEnc),
              stale(visitors.emailEnc),
              stale(visitors.companyEnc),
              stale(visitors.phoneEnc),
              stale(visitors.documentNumberEnc),
            ),
            after ? gt(visitors.id, after) : undefined,
          ),
        )
        .orderBy(asc(visitors.id))
        .limit(batch),
    (rows) =>
      updateRows(
        db,
        visitors,
        visitors.id,
        rows.map((r) => ({
          id: r.id,
          set: {
            fullNameEnc: sealer.resealNullable(r.fullNameEnc, visitorAad(r.id, 'full_name')),
            emailEnc: sealer.resealNullable(r.emailEnc, visitorAad(r.id, 'email')),
            companyEnc: sealer.resealNullable(r.companyEnc, visitorAad(r.id, 'company')),
            phoneEnc: sealer.resealNullable(r.phoneEnc, visitorAad(r.id, 'phone')),
            documentNumberEnc: sealer.resealNullable(r.documentNumberEnc, visitorAad(r.id, 'document_number')),
            // The search hashes were made with the same (previous) key as the sealed values: made again with the current one.
            ...searchHashesOf(sealer, r),
          },
        })),
      ),
  );
  report.notifications = await resealColumns(db, sealer, stale, batch, notifications, notifications.id, [
    { key: 'recipientEnc', aad: recipientAad },
    { key: 'payloadEnc', aad: payloadAad },
  ]);
  report.orgSettings = await resealColumns(db, sealer, stale, batch, orgSettings, orgSettings.orgId, [
    { key: 'telegramBotTokenEnc', aad: telegramTokenAad },
  ]);
  report.hostPreferences = await resealColumns(db, sealer, stale, batch, hostPreferences, hostPreferences.userId, [
    { key: 'telegramChatIdEnc', aad: chatIdAad },
  ]);
  report.webhookEndpoints = await resealColumns(db, sealer, stale, batch, webhookEndpoints, webhookEndpoints.id, [
    { key: 'secretEnc', aad: secretAad },
  ]);
  // Deleted, not re-sealed: made for the previous key's VAPID pair (see above). Always stale: `after` is not
  // needed, as every batch deletes what it read.
  for (;;) {
    const rows = await db
      .select({ id: pushSubscriptions.id })
      .from(pushSubscriptions)
      .where(notLike(pushSubscriptions.subscriptionEnc, prefix))
      .orderBy(asc(pushSubscriptions.id))
      .limit(batch);
    if (rows.length === 0) break;
    const gone = await db
      .delete(pushSubscriptions)
      .where(
        and(
          inArray(
            pushSubscriptions.id,
            rows.map((r) => r.id),
          ),
          notLike(pushSubscriptions.subscriptionEnc, prefix),
        ),
      )
      .returning({ id: pushSubscriptions.id });
    report.pushSubscriptionsRemoved += gone.length;
  }
  return report;
}
