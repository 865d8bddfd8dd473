/**
 * Appending to the change log, in the writer's own transaction. Passes and
 * rules reach every site of the organisation (a pass is not tied to a site;
 * the edge's decide() narrows by zone); zones and gates reach their own site.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';

export type SyncEntity = 'pass' | 'rule' | 'zone' | 'gate' | 'site';

export async function recordChange(
  exec: Executor,
  c: { orgId: string; entity: SyncEntity; entityId: string; siteId?: string },
): Promise<void> {
  if (c.siteId) {
    await exec.execute(
      sql`insert into sync_changes (org_id, site_id, entity, entity_id) values (${c.orgId}, ${c.siteId}, ${c.entity}, ${c.entityId})`,
    );
    return;
  }
  await exec.execute(sql`
    insert into sync_changes (org_id, site_id, entity, entity_id)
    select ${c.orgId}, s.id, ${c.entity}, ${c.entityId} from sites s where s.org_id = ${c.orgId} and s.deleted_at is null`);
}
