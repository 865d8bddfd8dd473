/**
 * What the rollout's events carry, on the live feed and in webhooks (`update.gate_changed`,
 * `update.completed`). Plain types with no imports, so the console can read them (api-types.ts).
 */

export type UpdateGateChangedData = {
  jobId: string;
  gateId: string;
  siteId: string;
  canary: boolean;
  /** The gate's state in the job (the edge's states, or the cloud's: pending, skipped, cancelled, postponed). */
  state: string;
  detail: string | null;
  version: string;
  changedAt: string;
};

export type UpdateCompletedData = {
  jobId: string;
  releaseId: string;
  version: string;
  outcome: 'done' | 'halted' | 'cancelled';
  /** Why it halted (a canary that failed, too many failures); null otherwise. */
  reason: string | null;
  gates: number;
  done: number;
  failed: number;
  rolledBack: number;
  skipped: number;
  cancelled: number;
  /** Gates never started: pending or postponed. */
  pending: number;
  completedAt: string;
};
