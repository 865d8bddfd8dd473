import type { Static } from 'typebox';
import type { DeadJob } from '../../jobs/queue.js';
import type { DeadJobItem } from './schema.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What an admin sees of a dead job: where it failed and why, and which rows it is about — only
 * the ids in its data (`id`, `…Id`), never other values: a job's data may reference personal data.
 */
export function publicDeadJob(j: DeadJob): Static<typeof DeadJobItem> {
  const refs: Record<string, string> = {};
  for (const [k, v] of Object.entries(j.data))
    if (k !== 'orgId' && (k === 'id' || k.endsWith('Id')) && typeof v === 'string' && UUID.test(v)) refs[k] = v;
  return {
    id: j.id,
    queue: j.queue,
    attempts: j.attempts,
    error: j.error,
    createdAt: j.createdAt,
    failedAt: j.failedAt,
    refs,
  };
}
