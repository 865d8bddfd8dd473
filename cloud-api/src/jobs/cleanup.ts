/**
 * The daily sweep of short-lived secrets that outlived their use: guests' one-time codes,
 * Telegram link codes and login-throttle counters past their expiry. They are useless once
 * expired (every reader checks `expires_at`), so this is hygiene and data minimisation, not
 * correctness; deleting them across all organisations is why the job belongs to NO_ORG.
 */
import { lt } from 'drizzle-orm';
import type { AppContext } from '../context.js';
import type { Executor } from '../db/client.js';
import { guestCodes, loginThrottle, telegramLinkCodes } from '../db/schema.js';
import { NO_ORG } from '../lib/audit.js';

export const CLEANUP_QUEUE = 'cleanup.expired';
/** 03:17 UTC: a quiet hour, off the round minute every other cron picks. */
export const CLEANUP_CRON = '17 3 * * *';

export interface CleanupReport {
  guestCodes: number;
  telegramLinkCodes: number;
  loginThrottle: number;
}

/** Deletes every expired row of the three tables; returns how many went. */
export async function deleteExpired(db: Executor, now = new Date()): Promise<CleanupReport> {
  const g = await db.delete(guestCodes).where(lt(guestCodes.expiresAt, now)).returning({ k: guestCodes.passId });
  const t = await db.delete(telegramLinkCodes).where(lt(telegramLinkCodes.expiresAt, now)).returning({ k: telegramLinkCodes.codeHash });
  const l = await db.delete(loginThrottle).where(lt(loginThrottle.expiresAt, now)).returning({ k: loginThrottle.key });
  return { guestCodes: g.length, telegramLinkCodes: t.length, loginThrottle: l.length };
}

/** Declares the queue and its daily schedule. */
export async function defineCleanup(ctx: AppContext): Promise<void> {
  await ctx.jobs.define(
    CLEANUP_QUEUE,
    async () => {
      const report = await deleteExpired(ctx.db);
      ctx.jobs.log?.info({ queue: CLEANUP_QUEUE, deleted: report }, 'expired rows deleted');
    },
    { retryLimit: 3 },
  );
  await ctx.jobs.schedule(CLEANUP_QUEUE, CLEANUP_CRON, { orgId: NO_ORG });
}
