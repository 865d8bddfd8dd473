/**
 * Guest sign-in by one-time code (issue 12 item 4). The guest link only shows
 * the visit: whoever it was forwarded to holds it too. To get the pass's
 * rotating credential the visitor proves the address the invitation went to
 * with a 6-digit code, and receives a guest session (a JWT of its own `typ`
 * and audience, auth/tokens.ts) bound to that one pass.
 *
 * The code is stored only as an HMAC under a key of its own
 * (`deriveKey(masterKey, 'guest-code')`), one live code per pass
 * (guest_codes), for 10 minutes and 5 attempts. Sending is limited per pass
 * (5 an hour, counted from the message log) on top of the per-address limit
 * every /api/guest route has (plugins/external/rate-limit.ts).
 *
 * Errors (`{error: {code, message}}`, lib/errors.ts HttpError):
 * - 401 `unauthorized`: the link (or session) is not valid;
 * - 409 `pass_inactive`: the pass is revoked or over, so there is nothing to sign in to;
 * - 422 `no_address`: the pass was never invited and its visitor has neither e-mail nor phone;
 * - 429 `too_many_codes` (with Retry-After): 5 codes were sent for this pass in the last hour;
 * - 422 `code_invalid`: wrong code, the message says how many attempts are left;
 * - 429 `too_many_attempts`: the 5th wrong code; the code is burned, request a new one;
 * - 410 `code_expired`: older than 10 minutes; request a new one;
 * - 410 `no_code`: no code is waiting (never requested, already used or burned).
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { and, count, desc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { appointments, type Channel, guestCodes, type Language, notifications, visitors, visitPasses } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { deriveKey } from '../../lib/crypto.js';
import { HttpError, unauthorized } from '../../lib/errors.js';
import { isLanguage } from '../../lib/i18n.js';
import { maskRecipient, notify, recipientAad } from '../notifications/outbox.js';
import { openVisitorField, openVisitorName, visitorAad } from '../orgs/personal-data.js';
import { getOrgSettings } from '../orgs/settings.js';
import { effectiveStatus, requirePass } from '../passes/service.js';

export const CODE_TTL_MS = 10 * 60_000;
export const MAX_ATTEMPTS = 5;
/** Codes sent for one pass within SEND_WINDOW_MS. */
export const MAX_SENDS = 5;
export const SEND_WINDOW_MS = 60 * 60_000;
/** A guest session lasts until the pass ends, but never longer than this. */
export const MAX_SESSION_MS = 30 * 24 * 3600_000;

type PassRow = typeof visitPasses.$inferSelect;

const passInactive = () => new HttpError(409, 'pass_inactive', 'this pass is revoked or over; there is nothing to sign in to');

/** The keyed hash a code is stored as; bound to its pass, so a row copied to another pass matches nothing. */
function codeHash(ctx: AppContext, passId: string, code: string): string {
  return createHmac('sha256', deriveKey(ctx.config.masterKey, 'guest-code')).update(`${passId}:${code}`).digest('base64url');
}

/** The pass a guest link names (401 when the link is not one of ours or has expired). */
export async function passOfLink(ctx: AppContext, token: string): Promise<PassRow> {
  const claims = await ctx.tokens.verifyGuest(token);
  if (!claims) throw unauthorized('invalid or expired guest link');
  return requirePass(ctx.db, claims.org, claims.sub);
}

/** The language of everything the visitor reads: the invitation's (the pass's, else its appointment's), else the organisation's. */
export async function passLanguage(db: Executor, pass: PassRow, orgDefault: Language): Promise<Language> {
  if (isLanguage(pass.language)) return pass.language;
  if (pass.appointmentId) {
    const [a] = await db
      .select({ language: appointments.language })
      .from(appointments)
      .where(and(eq(appointments.id, pass.appointmentId), eq(appointments.orgId, pass.orgId)));
    if (isLanguage(a?.language)) return a.language;
  }
  return orgDefault;
}

/** Records that the guest opened their link, the first time only. */
export async function markLinkOpened(db: Executor, pass: Pick<PassRow, 'id' | 'orgId'>): Promise<void> {
  await db
    .update(visitPasses)
    .set({ linkOpenedAt: new Date() })
    .where(and(eq(visitPasses.id, pass.id), eq(visitPasses.orgId, pass.orgId), isNull(visitPasses.linkOpenedAt)));
}

/**
 * Where the code goes: the address the latest invitation of this pass went to
 * (that is the address the visitor is known to read), else the visitor's
 * e-mail, else their phone.
 */
async function recipientOf(ctx: AppContext, db: Executor, pass: PassRow): Promise<{ channel: Channel; to: string } | null> {
  const [inv] = await db
    .select({ id: notifications.id, channel: notifications.channel, recipientEnc: notifications.recipientEnc })
    .from(notifications)
    .where(
      and(
        eq(notifications.orgId, pass.orgId),
        eq(notifications.passId, pass.id),
        eq(notifications.template, 'invitation'),
        inArray(notifications.channel, ['email', 'sms']),
      ),
    )
    .orderBy(desc(notifications.id))
    .limit(1);
  if (inv) return { channel: inv.channel, to: ctx.sealer.open(inv.recipientEnc, recipientAad(inv.id)) };
  const [v] = await db
    .select({ email: visitors.email, emailEnc: visitors.emailEnc, phoneEnc: visitors.phoneEnc })
    .from(visitors)
    .where(and(eq(visitors.id, pass.visitorId), eq(visitors.orgId, pass.orgId)));
  if (!v) return null;
  const email = openVisitorField(ctx.sealer, pass.visitorId, 'email', v.emailEnc, v.email);
  if (email) return { channel: 'email', to: email };
  const phone = v.phoneEnc ? ctx.sealer.open(v.phoneEnc, visitorAad(pass.visitorId, 'phone')) : null;
  // SMS providers take E.164: keep the leading + and the digits only.
  if (phone) return { channel: 'sms', to: phone.replace(/(?!^\+)[^\d]/g, '') };
  return null;
}

export interface CodeSent {
  sentTo: string;
  channel: Channel;
  expiresAt: string;
}

/** Sends a fresh code for the pass of `token` (replacing any earlier one). */
export async function sendCode(ctx: AppContext, who: Omit<Actor, 'orgId' | 'userId'>, token: string): Promise<CodeSent> {
  const link = await passOfLink(ctx, token);
  const now = new Date();
  return ctx.db.transaction(async (tx) => {
    // The pass row is locked so that concurrent requests count their sends one after another.
    const [pass] = await tx
      .select()
      .from(visitPasses)
      .where(and(eq(visitPasses.id, link.id), eq(visitPasses.orgId, link.orgId)))
      .for('update');
    if (!pass || effectiveStatus(pass, now.getTime()) !== 'active') throw passInactive();
    const since = new Date(now.getTime() - SEND_WINDOW_MS);
    const [sent] = await tx
      .select({ n: count(), oldest: sql<string | Date | null>`min(${notifications.createdAt})` })
      .from(notifications)
      .where(
        and(
          eq(notifications.orgId, pass.orgId),
          eq(notifications.passId, pass.id),
          eq(notifications.template, 'guest_code'),
          gt(notifications.createdAt, since),
        ),
      );
    if (sent && sent.n >= MAX_SENDS) {
      const oldest = sent.oldest ? new Date(sent.oldest).getTime() : now.getTime();
      const retryS = Math.max(1, Math.ceil((oldest + SEND_WINDOW_MS - now.getTime()) / 1000));
      throw new HttpError(429, 'too_many_codes', `too many codes for this pass; try again in ${retryS} s`, {
        'retry-after': String(retryS),
      });
    }
    const to = await recipientOf(ctx, tx, pass);
    if (!to) throw new HttpError(422, 'no_address', 'the visitor has no e-mail or phone to send a code to; ask your host');
    const settings = await getOrgSettings(tx, pass.orgId);
    const language = await passLanguage(tx, pass, settings.defaultLanguage);
    const [v] = await tx
      .select({ fullName: visitors.fullName, fullNameEnc: visitors.fullNameEnc })
      .from(visitors)
      .where(eq(visitors.id, pass.visitorId));
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(now.getTime() + CODE_TTL_MS);
    const sentTo = maskRecipient(to.channel, to.to);
    const row = {
      passId: pass.id,
      orgId: pass.orgId,
      codeHash: codeHash(ctx, pass.id, code),
      channel: to.channel,
      sentToMasked: sentTo,
      attempts: 0,
      expiresAt,
      createdAt: now,
    };
    // A new request replaces the previous code (and its attempts): only the latest message is valid.
    await tx.insert(guestCodes).values(row).onConflictDoUpdate({ target: guestCodes.passId, set: row });
    await notify(ctx, tx, {
      orgId: pass.orgId,
      channel: to.channel,
      to: to.to,
      template: 'guest_code',
      language,
      vars: {
        code,
        minutes: String(CODE_TTL_MS / 60_000),
        visitorName: v ? openVisitorName(ctx.sealer, pass.visitorId, v) : '',
        orgName: settings.orgName,
      },
      passId: pass.id,
      appointmentId: pass.appointmentId,
    });
    await markLinkOpened(tx, pass);
    await writeAudit(tx, guestActor(pass, who), {
      action: 'guest.code_sent',
      entityType: 'pass',
      entityId: pass.id,
      data: { channel: to.channel, sentTo },
    });
    return { sentTo, channel: to.channel, expiresAt: expiresAt.toISOString() };
  });
}

const guestActor = (pass: Pick<PassRow, 'orgId'>, who: Omit<Actor, 'orgId' | 'userId'>): Actor => ({
  orgId: pass.orgId,
  userId: null,
  ip: who.ip,
  userAgent: who.userAgent,
});

export interface GuestSession {
  guestSession: string;
  expiresAt: string;
}

type Verdict = { ok: GuestSession } | { error: HttpError };

/** Checks the code for the pass of `token`; a right one becomes a guest session, a wrong one counts. */
export async function verifyCode(
  ctx: AppContext,
  who: Omit<Actor, 'orgId' | 'userId'>,
  token: string,
  code: string,
): Promise<GuestSession> {
  const link = await passOfLink(ctx, token);
  const now = new Date();
  // A wrong attempt must be counted even though the answer is an error, so the
  // transaction returns its verdict and the error is thrown after it commits.
  const verdict: Verdict = await ctx.db.transaction(async (tx) => {
    const [pass] = await tx
      .select()
      .from(visitPasses)
      .where(and(eq(visitPasses.id, link.id), eq(visitPasses.orgId, link.orgId)))
      .for('update');
    if (!pass || effectiveStatus(pass, now.getTime()) !== 'active') return { error: passInactive() };
    const [row] = await tx
      .select()
      .from(guestCodes)
      .where(and(eq(guestCodes.passId, pass.id), eq(guestCodes.orgId, pass.orgId)));
    if (!row) return { error: new HttpError(410, 'no_code', 'no code is waiting for this pass; request a new one') };
    if (row.expiresAt.getTime() <= now.getTime()) {
      await tx.delete(guestCodes).where(eq(guestCodes.passId, pass.id));
      return { error: new HttpError(410, 'code_expired', 'the code has expired; request a new one') };
    }
    const expected = Buffer.from(row.codeHash);
    const given = Buffer.from(codeHash(ctx, pass.id, code));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      const attempts = row.attempts + 1;
      const burned = attempts >= MAX_ATTEMPTS;
      if (burned) await tx.delete(guestCodes).where(eq(guestCodes.passId, pass.id));
      else await tx.update(guestCodes).set({ attempts }).where(eq(guestCodes.passId, pass.id));
      await writeAudit(tx, guestActor(pass, who), {
        action: 'guest.code_failed',
        entityType: 'pass',
        entityId: pass.id,
        data: { attempts, burned },
      });
      if (burned) return { error: new HttpError(429, 'too_many_attempts', 'too many wrong codes; request a new one') };
      const left = MAX_ATTEMPTS - attempts;
      return { error: new HttpError(422, 'code_invalid', `wrong code; ${left} attempt${left === 1 ? '' : 's'} left`) };
    }
    await tx.delete(guestCodes).where(eq(guestCodes.passId, pass.id));
    await tx
      .update(visitPasses)
      .set({ signedInAt: now })
      .where(and(eq(visitPasses.id, pass.id), eq(visitPasses.orgId, pass.orgId), isNull(visitPasses.signedInAt)));
    await writeAudit(tx, guestActor(pass, who), {
      action: 'guest.signed_in',
      entityType: 'pass',
      entityId: pass.id,
      data: { channel: row.channel },
    });
    const expiresAt = new Date(Math.min(pass.validTo.getTime(), now.getTime() + MAX_SESSION_MS));
    const guestSession = await ctx.tokens.signGuestSession({ sub: pass.id, org: pass.orgId }, expiresAt);
    return { ok: { guestSession, expiresAt: expiresAt.toISOString() } };
  });
  if ('error' in verdict) throw verdict.error;
  return verdict.ok;
}
