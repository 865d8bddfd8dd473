/**
 * The platform's own timed jobs, declared in this one place (the app calls it once, before the
 * routes register their queues). Their data carries NO_ORG: no organisation's admin lists them.
 */
import type { AppContext } from '../context.js';
import { defineCheckinPartitions } from './checkin-partitions.js';
import { defineCleanup } from './cleanup.js';

export async function defineSystemJobs(ctx: AppContext): Promise<void> {
  await defineCleanup(ctx);
  await defineCheckinPartitions(ctx);
}
