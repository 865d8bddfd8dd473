/**
 * Each gate's state in its latest update job (modules/updates: one `update_job_gates` row per gate and
 * rollout), for the fleet list and /metrics. "Latest" is the newest job the gate is in: job ids are UUIDv7,
 * so the greatest is the last created — whatever its state, so a finished rollout's done or rolled_back stays
 * visible until the next one.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import { updateJobGates, updateJobs, updatePackages } from '../../db/schema.js';

export interface GateUpdateState {
  jobId: string;
  state: string;
  version: string;
  detail: string | null;
  updatedAt: string;
}

export async function latestUpdateStates(db: Executor, orgId: string, gateIds: readonly string[]): Promise<Map<string, GateUpdateState>> {
  if (gateIds.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([updateJobGates.gateId], {
      gateId: updateJobGates.gateId,
      jobId: updateJobGates.jobId,
      state: updateJobGates.state,
      detail: updateJobGates.detail,
      updatedAt: updateJobGates.updatedAt,
      version: updatePackages.version,
    })
    .from(updateJobGates)
    .innerJoin(updateJobs, and(eq(updateJobs.id, updateJobGates.jobId), eq(updateJobs.orgId, orgId)))
    .innerJoin(updatePackages, eq(updatePackages.id, updateJobs.packageId))
    .where(and(eq(updateJobGates.orgId, orgId), inArray(updateJobGates.gateId, [...gateIds])))
    .orderBy(updateJobGates.gateId, desc(updateJobGates.jobId));
  return new Map(
    rows.map((r) => [
      r.gateId,
      { jobId: r.jobId, state: r.state, version: r.version, detail: r.detail, updatedAt: r.updatedAt.toISOString() },
    ]),
  );
}

/** Gates by their state in their latest update job, over every organisation (for /metrics). */
export async function gateUpdateCounts(db: Db): Promise<Array<{ state: string; n: number }>> {
  const latest = db
    .selectDistinctOn([updateJobGates.gateId], { gateId: updateJobGates.gateId, state: updateJobGates.state })
    .from(updateJobGates)
    .orderBy(updateJobGates.gateId, desc(updateJobGates.jobId))
    .as('latest');
  const rows = await db
    .select({ state: latest.state, n: sql<number>`count(*)::int`.mapWith(Number) })
    .from(latest)
    .groupBy(latest.state);
  return rows;
}
