/**
 * Each gate's state in its latest update job, for the fleet list. Read from the Update Manager's per-gate
 * rows (modules/updates) once they exist; until then no gate has been in a job.
 */
import type { Db, Executor } from '../../db/client.js';

export interface GateUpdateState {
  jobId: string;
  state: string;
  version: string;
  detail: string | null;
  updatedAt: string;
}

export async function latestUpdateStates(
  _db: Executor,
  _orgId: string,
  _gateIds: readonly string[],
): Promise<Map<string, GateUpdateState>> {
  return new Map();
}

/** Gates by their state in their latest update job, over every organisation (for /metrics). */
export async function gateUpdateCounts(_db: Db): Promise<Array<{ state: string; n: number }>> {
  return [];
}
