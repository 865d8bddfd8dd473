import { uuidv7 } from '@gatehouse/protocol';
import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { AppContext, Principal } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { visitors } from '../../db/schema.js';
import { QueryShapes } from '../../db/shapes.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import type { Sealer } from '../../lib/crypto.js';
import { forbidden, notFound } from '../../lib/errors.js';
import { decodeCursor, page, pageLimit } from '../../lib/pagination.js';
import { parseSearch, visitorsMatching } from '../../lib/search.js';
import { type HostScope, hostScope, visitorInScope } from '../appointments/service.js';
import { nameTokens, openVisitorField, storedLookupHash } from '../orgs/personal-data.js';

type Row = typeof visitors.$inferSelect;
// The row id in the AAD: an encrypted phone moved to another visitor's row does not decrypt.
const aad = (id: string, col: string) => `visitors.${col}:${id}`;

/**
 * What a caller may reach: the visitors of every meeting (appointments:any), or a Host's own — those on their
 * meetings or registered by them — and whether they see and write phone and document number (visitors:pii).
 */
export interface VisitorAccess {
  scope: HostScope;
  /** Whose registrations count as their own (null: nobody's, as for an application's key, whose rows have created_by null). */
  userId: string | null;
  pii: boolean;
}

export async function visitorAccess(
  db: Executor,
  principal: Pick<Principal, 'userId' | 'permissions'> & Partial<Pick<Principal, 'app'>>,
): Promise<VisitorAccess> {
  return {
    scope: await hostScope(db, principal),
    userId: principal.app ? null : principal.userId,
    pii: principal.permissions.has('visitors:pii'),
  };
}

// Without visitors:pii the phone and document number are left out (not null: null means "none on record").
const view = (s: Sealer, r: Row, pii: boolean) => ({
  id: r.id,
  orgId: r.orgId,
  fullName: openVisitorField(s, r.id, 'full_name', r.fullNameEnc, r.fullName) ?? '',
  email: openVisitorField(s, r.id, 'email', r.emailEnc, r.email),
  ...(pii ? { phone: s.openNullable(r.phoneEnc, aad(r.id, 'phone')) } : {}),
  company: openVisitorField(s, r.id, 'company', r.companyEnc, r.company),
  ...(pii ? { documentNumber: s.openNullable(r.documentNumberEnc, aad(r.id, 'document_number')) } : {}),
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

function checkPiiWrite(access: VisitorAccess, b: VisitorInput) {
  if (!access.pii && (b.phone !== undefined || b.documentNumber !== undefined))
    throw forbidden('phone and documentNumber need the visitors:pii permission');
}

export interface VisitorInput {
  fullName?: string;
  email?: string | null;
  phone?: string | null;
  company?: string | null;
  documentNumber?: string | null;
}

/** A visitor's columns for `b`: each given field sealed (the row id in its AAD) with its search hash; the plaintext ones stay null. */
export function sealedVisitorColumns(s: Sealer, id: string, b: VisitorInput) {
  const out: Partial<typeof visitors.$inferInsert> = {};
  // Name, e-mail and company are sealed like phone and document number (the plaintext columns stay null).
  if (b.fullName !== undefined) out.fullNameEnc = s.seal(b.fullName, aad(id, 'full_name'));
  if (b.fullName !== undefined) out.nameTokens = nameTokens(s, b.fullName);
  if (b.email !== undefined) out.emailEnc = s.sealNullable(b.email?.toLowerCase(), aad(id, 'email'));
  if (b.email !== undefined) out.emailHash = storedLookupHash(s, 'email', b.email);
  if (b.company !== undefined) out.companyEnc = s.sealNullable(b.company, aad(id, 'company'));
  if (b.phone !== undefined) out.phoneEnc = s.sealNullable(b.phone, aad(id, 'phone'));
  if (b.phone !== undefined) out.phoneHash = storedLookupHash(s, 'phone', b.phone);
  if (b.documentNumber !== undefined) out.documentNumberEnc = s.sealNullable(b.documentNumber, aad(id, 'document_number'));
  return out;
}

// Personal data stays out of the audit log: it records which fields changed, not their values.
const changed = (b: VisitorInput) => ({ fields: Object.keys(b) });

export async function createVisitor(ctx: AppContext, actor: Actor, access: VisitorAccess, b: VisitorInput & { fullName: string }) {
  checkPiiWrite(access, b);
  const id = uuidv7();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(visitors)
      .values({
        id,
        orgId: actor.orgId,
        ...sealedVisitorColumns(ctx.sealer, id, b),
        createdBy: actor.userId,
        updatedBy: actor.userId,
      })
      .returning();
    await writeAudit(tx, actor, { action: 'visitor.create', entityType: 'visitor', entityId: id, data: changed(b) });
    return view(ctx.sealer, row!, access.pii);
  });
}

/** The visitor, if this org has it and (with `access`) the caller reaches it; another host's is a 404 like another org's. */
export async function requireVisitor(db: Executor, orgId: string, id: string, access?: VisitorAccess) {
  const [row] = await db
    .select()
    .from(visitors)
    .where(
      and(
        eq(visitors.id, id),
        eq(visitors.orgId, orgId),
        isNull(visitors.deletedAt),
        access ? visitorInScope(access.scope, access.userId) : undefined,
      ),
    );
  if (!row) throw notFound('visitor');
  return row;
}

/** The visitor list's prepared queries. */
const shapes = new QueryShapes();

export async function listVisitors(
  ctx: AppContext,
  orgId: string,
  access: VisitorAccess,
  q: { limit?: number; cursor?: string; q?: string },
) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const term = parseSearch(ctx.sealer, q.q);
  const who = term && term.kind !== 'id' ? visitorsMatching(orgId, term) : undefined;
  const search = !term ? undefined : term.kind === 'id' ? eq(visitors.id, term.id) : who ? sql`${visitors.id} in (${who})` : sql`false`;
  const build = (db: Executor) =>
    db
      .select()
      .from(visitors)
      .where(
        and(
          eq(visitors.orgId, sql.placeholder('org')),
          isNull(visitors.deletedAt),
          visitorInScope(access.scope, access.userId),
          search,
          cursor ? lt(visitors.id, sql.placeholder('cursor')) : undefined,
        ),
      )
      .orderBy(desc(visitors.id))
      .limit(pageLimit(limit + 1, term));
  // Built once per shape (db/shapes.ts) for a caller who sees every visitor; a host's scope and a search carry values
  // of their own in the statement.
  const shape = access.scope.any && !term ? `page:${cursor ? 1 : 0}:${limit}` : null;
  const rows = await shapes.run(ctx.db, shape, build, { org: orgId, cursor });
  return page(
    rows.map((r) => view(ctx.sealer, r, access.pii)),
    limit,
  );
}

export async function getVisitor(ctx: AppContext, orgId: string, access: VisitorAccess, id: string) {
  return view(ctx.sealer, await requireVisitor(ctx.db, orgId, id, access), access.pii);
}

export async function updateVisitor(ctx: AppContext, actor: Actor, access: VisitorAccess, id: string, b: VisitorInput) {
  return ctx.db.transaction(async (tx) => {
    await requireVisitor(tx, actor.orgId, id, access);
    checkPiiWrite(access, b);
    const [row] = await tx
      .update(visitors)
      .set({ ...sealedVisitorColumns(ctx.sealer, id, b), updatedAt: new Date(), updatedBy: actor.userId })
      .where(and(eq(visitors.id, id), eq(visitors.orgId, actor.orgId)))
      .returning();
    await writeAudit(tx, actor, { action: 'visitor.update', entityType: 'visitor', entityId: id, data: changed(b) });
    return view(ctx.sealer, row!, access.pii);
  });
}

export async function deleteVisitor(ctx: AppContext, actor: Actor, access: VisitorAccess, id: string) {
  await ctx.db.transaction(async (tx) => {
    await requireVisitor(tx, actor.orgId, id, access);
    // Soft delete, and the personal data goes with it: passes and check-ins keep their history, not the document number.
    await tx
      .update(visitors)
      .set({
        deletedAt: new Date(),
        phoneEnc: null,
        phoneHash: null,
        documentNumberEnc: null,
        updatedAt: new Date(),
        updatedBy: actor.userId,
      })
      .where(and(eq(visitors.id, id), eq(visitors.orgId, actor.orgId)));
    await writeAudit(tx, actor, { action: 'visitor.delete', entityType: 'visitor', entityId: id });
  });
}
