/**
 * The daily upkeep of the check-ins' month partitions (modules/checkins/partitions.ts): the
 * current month and the next ones made ahead (start-up makes them too, but a cloud may run for
 * months without a restart), and, with CHECKINS_RETENTION_MONTHS set, the months past it dropped.
 * Across all organisations, hence NO_ORG; each run that removed something says so in the log and
 * in the audit log (under NO_ORG, where the platform's own actions go).
 */
import type { AppContext } from '../context.js';
import type { Executor } from '../db/client.js';
import { NO_ORG, writeAudit } from '../lib/audit.js';
import { dropExpiredCheckins, ensureCheckinPartitions, type RetentionReport } from '../modules/checkins/partitions.js';

export const CHECKIN_PARTITIONS_QUEUE = 'checkins.partitions';
/** 02:43 UTC: a quiet hour, off the other daily jobs' minutes. */
export const CHECKIN_PARTITIONS_CRON = '43 2 * * *';

export interface PartitionsReport {
  created: string[];
  retention: RetentionReport | null;
}

/** One run: make the coming months, then (retention set) remove the expired ones; audited when anything went. */
export async function maintainCheckinPartitions(db: Executor, retentionMonths: number | null, now = new Date()): Promise<PartitionsReport> {
  const created = await ensureCheckinPartitions(db, { now });
  const retention = retentionMonths === null ? null : await dropExpiredCheckins(db, retentionMonths, now);
  if (retention && (retention.dropped.length > 0 || retention.deletedFromDefault > 0)) {
    await writeAudit(
      db,
      { orgId: NO_ORG, userId: null, ip: null, userAgent: null },
      {
        action: 'checkins.retention',
        entityType: 'checkins',
        data: {
          retentionMonths,
          before: retention.before.toISOString(),
          dropped: retention.dropped,
          deletedFromDefault: retention.deletedFromDefault,
        },
      },
    );
  }
  return { created, retention };
}

/** Declares the queue and its daily schedule. */
export async function defineCheckinPartitions(ctx: AppContext): Promise<void> {
  await ctx.jobs.define(
    CHECKIN_PARTITIONS_QUEUE,
    async () => {
      const r = await maintainCheckinPartitions(ctx.db, ctx.config.checkinRetentionMonths);
      const log = ctx.jobs.log;
      if (r.created.length > 0) log?.info({ queue: CHECKIN_PARTITIONS_QUEUE, created: r.created }, 'check-in partitions created');
      if (r.retention && (r.retention.dropped.length > 0 || r.retention.deletedFromDefault > 0)) {
        log?.info(
          {
            queue: CHECKIN_PARTITIONS_QUEUE,
            before: r.retention.before.toISOString(),
            dropped: r.retention.dropped,
            deletedFromDefault: r.retention.deletedFromDefault,
          },
          'check-ins past the retention removed',
        );
      }
    },
    { retryLimit: 3 },
  );
  await ctx.jobs.schedule(CHECKIN_PARTITIONS_QUEUE, CHECKIN_PARTITIONS_CRON, { orgId: NO_ORG });
}
