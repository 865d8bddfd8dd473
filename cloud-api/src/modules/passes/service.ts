import {
  type Decision,
  decide,
  dynamicQrAt,
  encodeStaticQr,
  type GateContext,
  KeyRing,
  localDate,
  MAX_STATIC_SITES,
  mergePresence,
  newTotpSecret,
  type PassRecord,
  type PassState,
  type PresenceRecord,
  parseCredential,
  totpRemainingMs,
  uuidv7,
} from '@gatehouse/protocol';
import { and, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { rawRows } from '../../db/raw.js';
import {
  accessRules,
  appointments,
  checkins,
  organizations,
  passPresence,
  siteHolidays,
  sites,
  visitors,
  visitPasses,
  zones,
} from '../../db/schema.js';
import { QueryShapes } from '../../db/shapes.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { conflict, HttpError, notFound, unprocessable } from '../../lib/errors.js';
import { decodeCursor, iso, page, pageLimit } from '../../lib/pagination.js';
import { parseSearch, passMatches } from '../../lib/search.js';
import { requireRule, ruleRecord } from '../access-rules/service.js';
import { type HostScope, passInScope, requireAppointment } from '../appointments/service.js';
import { ALL_NAMES, type NameAccess } from '../checkins/service.js';
import { requireGate } from '../gates/service.js';
import { noticeRevoked } from '../invitations/service.js';
import { openVisitorName, visitorNameColumns } from '../orgs/personal-data.js';
import { orgSigningKey } from '../orgs/service.js';
import { requireVisitor } from '../visitors/service.js';
import { emitEvent, subscribed } from '../webhooks/emit.js';

type Row = typeof visitPasses.$inferSelect;
const MAX_STATIC_MS = 0xffffffff * 1000;
const totpAad = (id: string) => `visit_passes.totp_secret:${id}`;

/** Stored status, with an active pass past its end shown as expired. */
export function effectiveStatus(r: Pick<Row, 'status' | 'validTo'>, now = Date.now()): Row['status'] {
  return r.status === 'active' && r.validTo.getTime() <= now ? 'expired' : r.status;
}

/** The row the issuance statement returns (`select * from p`), mapped by the table's columns. */
const issuedRows = rawRows(visitPasses);

/** The columns `passView` shows: what a list reads (not the sealed TOTP secret, the journey's times, who wrote it). */
const viewed = {
  id: visitPasses.id,
  orgId: visitPasses.orgId,
  visitorId: visitPasses.visitorId,
  appointmentId: visitPasses.appointmentId,
  accessRuleId: visitPasses.accessRuleId,
  type: visitPasses.type,
  status: visitPasses.status,
  validFrom: visitPasses.validFrom,
  validTo: visitPasses.validTo,
  maxUses: visitPasses.maxUses,
  cardFormat: visitPasses.cardFormat,
  cardNumber: visitPasses.cardNumber,
  escort: visitPasses.escort,
  revokedAt: visitPasses.revokedAt,
  revokedReason: visitPasses.revokedReason,
  createdAt: visitPasses.createdAt,
  updatedAt: visitPasses.updatedAt,
};

export const passView = (r: Pick<Row, keyof typeof viewed>) => ({
  id: r.id,
  orgId: r.orgId,
  visitorId: r.visitorId,
  appointmentId: r.appointmentId,
  accessRuleId: r.accessRuleId,
  type: r.type,
  status: effectiveStatus(r),
  validFrom: r.validFrom.toISOString(),
  validTo: r.validTo.toISOString(),
  maxUses: r.maxUses,
  card: r.cardFormat && r.cardNumber ? { format: r.cardFormat, number: r.cardNumber } : null,
  escort: r.escort,
  revokedAt: iso(r.revokedAt),
  revokedReason: r.revokedReason,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/** The pass as the edge caches it (and as `decide()` reads it). */
export function passRecord(ctx: AppContext, r: Row): PassRecord {
  return {
    id: r.id,
    orgId: r.orgId,
    ruleId: r.accessRuleId,
    type: r.type,
    status: r.status,
    validFrom: r.validFrom.getTime(),
    validTo: r.validTo.getTime(),
    maxUses: r.maxUses,
    totpSecret: ctx.sealer.open(r.totpSecretEnc, totpAad(r.id)),
    card: r.cardFormat && r.cardNumber ? { format: r.cardFormat, number: BigInt(r.cardNumber).toString() } : null,
    escort: r.escort,
  };
}

/**
 * A pass's site-wide state as the edges merge it (SYNC-3). A guard's forgiveness later than the last passage
 * reads as "not inside since then", so it clears that entry at every gate but not a later one.
 */
export function presenceRecord(r: typeof passPresence.$inferSelect): PresenceRecord {
  const forgiven = r.forgivenAt && (!r.lastAt || r.forgivenAt >= r.lastAt);
  return {
    passId: r.passId,
    useCount: r.useCount,
    lastDirection: forgiven ? null : r.lastDirection,
    lastAt: (forgiven ? r.forgivenAt : r.lastAt)?.getTime() ?? null,
  };
}

export interface IssueInput {
  visitorId: string;
  accessRuleId: string;
  type: 'single' | 'multi' | 'group';
  validFrom: string;
  validTo: string;
  appointmentId?: string | null;
  card?: { format: 'w26' | 'w34' | 'raw'; number: string } | null;
  maxUses?: number | null;
  status?: 'draft' | 'active';
  escort?: boolean;
}

/** DEC-16: how many people a group pass may let in. */
const GROUP_MIN = 2;
const GROUP_MAX = 1000;

/**
 * A group pass is as big as its own maxUses, else its rule's: one of them must say, within bounds. The rule is
 * read only for a group pass without a size; a rule that is not there is left to the issuance to report (404).
 */
async function checkGroupSize(db: Executor, orgId: string, b: IssueInput) {
  if (b.type !== 'group') return;
  let size = b.maxUses ?? null;
  if (size === null) {
    const [rule] = await db
      .select({ maxUses: accessRules.maxUses })
      .from(accessRules)
      .where(and(eq(accessRules.id, b.accessRuleId), eq(accessRules.orgId, orgId), isNull(accessRules.deletedAt)));
    if (!rule) return;
    size = rule.maxUses;
  }
  if (size === null) throw new HttpError(422, 'group_size_required', 'a group pass needs maxUses (its size), or a rule that sets one');
  if (size < GROUP_MIN || size > GROUP_MAX)
    throw new HttpError(422, 'group_size_required', `a group's size (maxUses) must be ${GROUP_MIN}..${GROUP_MAX}, not ${size}`);
}

export async function issuePass(ctx: AppContext, actor: Actor, b: IssueInput) {
  // The single-statement issuance needs no transaction of its own; its webhook event must share one with it.
  if (await subscribed(ctx, actor.orgId, 'visitpass.issued')) return ctx.db.transaction((tx) => issuePassIn(ctx, tx, actor, b));
  return issuePassIn(ctx, ctx.db, actor, b);
}

/** What a webhook receiver learns of a pass: ids, kind, state and validity; no name, card number or reason text. */
const passEvent = (r: Row) => ({
  id: r.id,
  visitorId: r.visitorId,
  appointmentId: r.appointmentId,
  accessRuleId: r.accessRuleId,
  type: r.type,
  status: effectiveStatus(r),
  validFrom: r.validFrom.toISOString(),
  validTo: r.validTo.toISOString(),
  revokedAt: iso(r.revokedAt),
});

/**
 * `issuePass` on a given executor: an invitation issues its passes inside the transaction that
 * creates the appointment and logs the messages, so a rolled-back appointment leaves no pass behind.
 */
export async function issuePassIn(ctx: AppContext, db: Executor, actor: Actor, b: IssueInput) {
  const validFrom = new Date(b.validFrom);
  const validTo = new Date(b.validTo);
  if (!(validTo > validFrom)) throw unprocessable('validTo must be after validFrom');
  // The static QR carries validity as unsigned 32-bit seconds (CRED-4).
  if (validFrom.getTime() < 0 || validTo.getTime() > MAX_STATIC_MS) throw unprocessable('validity must lie between 1970 and 2106');
  await checkGroupSize(db, actor.orgId, b);
  const id = uuidv7();
  const org = actor.orgId;
  const appointmentId = b.appointmentId ?? null;
  const escort = b.escort ?? false;
  const audit = {
    escort,
    visitorId: b.visitorId,
    accessRuleId: b.accessRuleId,
    type: b.type,
    validFrom: b.validFrom,
    validTo: b.validTo,
    card: !!b.card,
  };
  // One statement, so one round trip: the references are checked against this org, the pass and its
  // audit row are written together (a single statement is atomic), or nothing is written at all.
  const result = await db.execute(sql`
    with v as (select 1 from ${visitors} where ${visitors.id} = ${b.visitorId} and ${visitors.orgId} = ${org} and ${visitors.deletedAt} is null),
    r as (select 1 from ${accessRules} where ${accessRules.id} = ${b.accessRuleId} and ${accessRules.orgId} = ${org} and ${accessRules.deletedAt} is null),
    ap as (select 1 from ${appointments} where ${appointments.id} = ${appointmentId} and ${appointments.orgId} = ${org} and ${appointments.deletedAt} is null),
    p as (
      insert into visit_passes (id, org_id, visitor_id, appointment_id, access_rule_id, type, status, valid_from, valid_to, max_uses,
                                totp_secret_enc, card_format, card_number, escort, created_by, updated_by)
      select ${id}, ${org}, ${b.visitorId}, ${appointmentId}, ${b.accessRuleId}, ${b.type}, ${b.status ?? 'active'}, ${validFrom.toISOString()}::timestamptz,
             ${validTo.toISOString()}::timestamptz, ${b.maxUses ?? null}::integer, ${ctx.sealer.seal(newTotpSecret(), totpAad(id))}, ${b.card?.format ?? null},
             ${b.card ? BigInt(b.card.number).toString() : null}, ${escort}::boolean, ${actor.userId}, ${actor.userId}
      where exists (select 1 from v) and exists (select 1 from r) and (${appointmentId}::uuid is null or exists (select 1 from ap))
      returning *
    ),
    a as (
      insert into audit_logs (id, org_id, actor_id, actor_app_id, action, entity_type, entity_id, ip, user_agent, data, created_by, updated_by)
      select ${uuidv7()}, ${org}, ${actor.userId}, ${actor.appId ?? null}::uuid, 'pass.issue', 'pass', p.id::text, ${actor.ip}, ${actor.userAgent}, ${JSON.stringify(audit)}::jsonb, ${actor.userId}, ${actor.userId}
      from p
    )
    select * from p`);
  const [row] = issuedRows.read(result);
  if (!row) {
    // Slow path, only on failure: say precisely which reference is missing.
    await requireVisitor(db, org, b.visitorId);
    await requireRule(db, org, b.accessRuleId);
    if (appointmentId) await requireAppointment(db, org, appointmentId);
    throw unprocessable('pass could not be issued');
  }
  // `db` is the caller's transaction whenever anyone is subscribed (issuePass, invitations).
  await emitEvent(ctx, db, org, 'visitpass.issued', passEvent(row));
  const guestToken = await ctx.tokens.signGuest({ sub: id, org: actor.orgId }, validTo);
  return { ...passView(row), guestToken, guestUrl: `${ctx.config.publicUrl}/guest#token=${guestToken}` };
}

/** The pass, if this org has it and (with a scope) the caller reaches it; another host's is a 404 like another org's. */
export async function requirePass(db: Executor, orgId: string, id: string, scope?: HostScope) {
  const [row] = await db
    .select()
    .from(visitPasses)
    .where(and(eq(visitPasses.id, id), eq(visitPasses.orgId, orgId), scope ? passInScope(scope) : undefined));
  if (!row) throw notFound('pass');
  return row;
}

/** The pass list's prepared queries. */
const shapes = new QueryShapes();

export async function listPasses(
  ctx: AppContext,
  orgId: string,
  scope: HostScope,
  q: { limit?: number; cursor?: string; visitorId?: string; status?: Row['status']; q?: string },
  access: NameAccess = ALL_NAMES,
) {
  const limit = q.limit ?? 50;
  const term = parseSearch(ctx.sealer, q.q);
  const cursor = decodeCursor(q.cursor);
  const at = sql.placeholder;
  let statusFilter: ReturnType<typeof and> | undefined;
  if (q.status === 'expired')
    statusFilter = sql`(${visitPasses.status} = 'expired' or (${visitPasses.status} = 'active' and ${visitPasses.validTo} <= ${at('now')}))`;
  else if (q.status === 'active') statusFilter = and(eq(visitPasses.status, 'active'), sql`${visitPasses.validTo} > ${at('now')}`);
  else if (q.status) statusFilter = eq(visitPasses.status, at('status'));
  // Each pass with its visitor's name (a primary-key lookup per row, org-scoped): the console no longer needs every
  // visitor of a large organisation loaded to name the passes of one page. (Spread flat: drizzle makes a nested object
  // of a left join null when its first column is, and the plaintext name column is null once sealed.)
  const build = (db: Executor) =>
    db
      .select({ pass: viewed, ...visitorNameColumns })
      .from(visitPasses)
      .leftJoin(visitors, and(eq(visitors.id, visitPasses.visitorId), eq(visitors.orgId, at('org'))))
      .where(
        and(
          eq(visitPasses.orgId, at('org')),
          passInScope(scope),
          q.visitorId ? eq(visitPasses.visitorId, at('visitor')) : undefined,
          statusFilter,
          term ? passMatches(orgId, term) : undefined,
          cursor ? lt(visitPasses.id, at('cursor')) : undefined,
        ),
      )
      .orderBy(desc(visitPasses.id))
      .limit(pageLimit(limit + 1, term));
  const values = { org: orgId, visitor: q.visitorId, now: new Date().toISOString(), status: q.status, cursor };
  // Built once per shape (db/shapes.ts) for a caller who sees every pass; a host's scope and a search carry values of
  // their own in the statement.
  const shape = scope.any && !term ? `page:${q.visitorId ? 1 : 0}${cursor ? 1 : 0}${q.status ?? ''}:${limit}` : null;
  const rows = await shapes.run(ctx.db, shape, build, values);
  return page(
    rows.map((r) => ({
      ...passView(r.pass),
      visitorName: access.visitors && (r.fullNameEnc ?? r.fullName) !== null ? openVisitorName(ctx.sealer, r.pass.visitorId, r) : null,
    })),
    limit,
  );
}

export async function getPass(ctx: AppContext, orgId: string, scope: HostScope, id: string) {
  return passView(await requirePass(ctx.db, orgId, id, scope));
}

export async function revokePass(ctx: AppContext, actor: Actor, id: string, reason: string) {
  const view = await ctx.db.transaction((tx) => revokePassIn(ctx, tx, actor, id, reason));
  // The edges hear of it now rather than at the next sweep: a revoked visitor must not get through meanwhile.
  void ctx.sync?.link.sweep();
  ctx.events.publish(actor.orgId, { type: 'pass.revoked', data: view });
  return view;
}

/**
 * Revokes in the caller's transaction (the caller publishes `pass.revoked` once it commits). The
 * audit row tells the edges; an invited visitor is told too (`notice: false` when the caller sends
 * its own message instead, as a cancelled appointment does).
 */
export async function revokePassIn(
  ctx: AppContext,
  tx: Executor,
  actor: Actor,
  id: string,
  reason: string,
  opts: { notice?: boolean } = {},
) {
  const now = new Date();
  const [row] = await tx
    .update(visitPasses)
    .set({ status: 'revoked', revokedAt: now, revokedBy: actor.userId, revokedReason: reason, updatedAt: now, updatedBy: actor.userId })
    .where(and(eq(visitPasses.id, id), eq(visitPasses.orgId, actor.orgId), sql`${visitPasses.status} <> 'revoked'`))
    .returning();
  if (!row) {
    await requirePass(tx, actor.orgId, id);
    throw conflict('pass already revoked');
  }
  await writeAudit(tx, actor, { action: 'pass.revoke', entityType: 'pass', entityId: id, data: { reason } });
  await emitEvent(ctx, tx, actor.orgId, 'visitpass.revoked', passEvent(row));
  if (row.invitedAt && opts.notice !== false) await noticeRevoked(ctx, tx, actor, row, reason);
  return passView(row);
}

/** The sites whose zones the pass's rule lists (CRED-10, SYNC-1). */
async function passSites(db: Executor, row: Row): Promise<string[]> {
  const [rule] = await db
    .select({ zoneIds: accessRules.zoneIds })
    .from(accessRules)
    .where(and(eq(accessRules.id, row.accessRuleId), eq(accessRules.orgId, row.orgId)));
  if (!rule?.zoneIds.length) return [];
  const rows = await db
    .selectDistinct({ siteId: zones.siteId })
    .from(zones)
    .where(and(eq(zones.orgId, row.orgId), inArray(zones.id, rule.zoneIds), isNull(zones.deletedAt)));
  return rows.map((r) => r.siteId);
}

/** The text a QR encodes now: the rotating TOTP code (guest phone) or the signed static form (printed badge). */
export async function credentialOf(ctx: AppContext, row: Row, kind: 'dynamic' | 'static', now = Date.now()) {
  if (row.status === 'revoked') throw conflict('pass revoked');
  if (kind === 'static') {
    const key = await orgSigningKey(ctx, row.orgId);
    const siteIds = await passSites(ctx.db, row);
    return {
      kind,
      payload: encodeStaticQr(
        {
          passId: row.id,
          validFrom: row.validFrom.getTime(),
          validTo: row.validTo.getTime(),
          // CRED-10: scoped to the sites its rule opens; a rule over more sites than a QR can name gets the unscoped form.
          ...(siteIds.length <= MAX_STATIC_SITES ? { siteIds } : {}),
        },
        key,
      ),
      expiresAt: row.validTo.toISOString(),
    };
  }
  const secret = ctx.sealer.open(row.totpSecretEnc, totpAad(row.id));
  return { kind, payload: dynamicQrAt(row.id, secret, now), expiresAt: new Date(now + totpRemainingMs(now)).toISOString() };
}

/**
 * What the site's edges know about the pass: its site-wide presence (SYNC-3), merged as an edge merges it. A pass
 * with no presence row yet (only check-ins from before presence was kept) falls back to the site's stored
 * check-ins, so history still counts.
 */
async function passState(db: Executor, orgId: string, siteId: string, passId: string, before: Date): Promise<PassState> {
  const [presence] = await db
    .select()
    .from(passPresence)
    .where(and(eq(passPresence.orgId, orgId), eq(passPresence.siteId, siteId), eq(passPresence.passId, passId)));
  if (presence) return mergePresence(undefined, presenceRecord(presence));
  const [agg] = await db
    .select({
      uses: sql<number>`count(*) filter (where ${checkins.direction} = 'in')`.mapWith(Number),
      last: sql<string | null>`(array_agg(${checkins.direction} order by ${checkins.occurredAt} desc))[1]`,
      lastAt: sql<string | null>`max(${checkins.occurredAt})`,
    })
    .from(checkins)
    .where(
      and(
        eq(checkins.orgId, orgId),
        eq(checkins.siteId, siteId),
        eq(checkins.passId, passId),
        eq(checkins.allow, true),
        eq(checkins.type, 'attempt'),
        lt(checkins.occurredAt, before),
      ),
    );
  const last = agg?.last;
  return {
    useCount: agg?.uses ?? 0,
    lastDirection: last === 'in' || last === 'out' ? last : null,
    lastTotpStep: null,
    lastAt: agg?.lastAt ? new Date(agg.lastAt).getTime() : null,
  };
}

/** DEC-14: the site's calendar entry for the local date of `at`, keyed as decide() looks it up. */
async function siteCalendar(db: Executor, orgId: string, siteId: string, date: string): Promise<GateContext['holidays']> {
  const rows = await db
    .select({ date: siteHolidays.date, kind: siteHolidays.kind, windows: siteHolidays.windows })
    .from(siteHolidays)
    .where(
      and(eq(siteHolidays.orgId, orgId), eq(siteHolidays.siteId, siteId), eq(siteHolidays.date, date), isNull(siteHolidays.deletedAt)),
    );
  return new Map(rows.map((r) => [r.date, { kind: r.kind, windows: r.windows }]));
}

/** "Would this pass open gate X at time T?" — the edge's own decide(), fed from the database. */
export async function checkPass(
  ctx: AppContext,
  orgId: string,
  id: string,
  b: { gateId: string; at?: string; direction?: 'in' | 'out'; escorted?: boolean },
): Promise<Decision> {
  const row = await requirePass(ctx.db, orgId, id);
  const gate = await requireGate(ctx.db, orgId, b.gateId);
  const [site] = await ctx.db.select({ timezone: sites.timezone }).from(sites).where(eq(sites.id, gate.siteId));
  const [org] = await ctx.db.select({ publicKey: organizations.signingPublicKey }).from(organizations).where(eq(organizations.id, orgId));
  const at = b.at ? new Date(b.at) : new Date();
  // A TOTP step and a timestamptz exist from 1970 on: earlier is the caller's mistake, not a failure.
  if (at.getTime() < 0) throw unprocessable('at: must not be before 1970');
  // A deleted rule is absent here as it is from an edge's cache after the sync: decide() then says wrong_zone.
  const [rule] = await ctx.db
    .select()
    .from(accessRules)
    .where(and(eq(accessRules.id, row.accessRuleId), isNull(accessRules.deletedAt)));
  const pass = passRecord(ctx, row);
  const direction = b.direction ?? (gate.direction === 'out' ? 'out' : 'in');
  const gateCtx: GateContext = {
    gateId: gate.id,
    zoneId: gate.zoneId,
    siteId: gate.siteId,
    timezone: site!.timezone,
    direction,
    lockdown: gate.lockdown,
    keys: new KeyRing([org!.publicKey]),
    holidays: await siteCalendar(ctx.db, orgId, gate.siteId, localDate(at.getTime(), site!.timezone)),
    // "With an escort beside them": an escort's credential shown at this gate at that very moment (DEC-15).
    escortAt: b.escorted ? at.getTime() : null,
  };
  // The credential the visitor would present at that moment: their card, or the dynamic code of time `at`.
  const credential = pass.card
    ? { kind: 'card' as const, format: pass.card.format, number: pass.card.number }
    : parseCredential(dynamicQrAt(row.id, pass.totpSecret!, at.getTime()));
  const state = await passState(ctx.db, orgId, gate.siteId, row.id, at);
  return decide(credential, pass, rule ? ruleRecord(rule) : undefined, gateCtx, state, at.getTime());
}
