/**
 * What an edge would decide for a scanned QR text: the protocol's decide()
 * fed with the pass, rule and gate as the cloud stores them (the same records
 * the sync sends an edge), so "the edge admits it" is checked without faking a scan.
 */
import { decide, EMPTY_PASS_STATE, KeyRing, parseCredential } from '@gatehouse/protocol';
import { and, eq } from 'drizzle-orm';
import type { App } from '../../src/app.js';
import { accessRules, organizations, sites, visitPasses } from '../../src/db/schema.js';
import { ruleRecord } from '../../src/modules/access-rules/service.js';
import { requireGate } from '../../src/modules/gates/service.js';
import { passRecord } from '../../src/modules/passes/service.js';

export async function edgeDecides(app: App, orgId: string, gateId: string, scanned: string, now = Date.now()) {
  const { ctx } = app;
  const credential = parseCredential(scanned);
  const passId = credential.kind === 'dynamic' || credential.kind === 'static' ? credential.passId : null;
  const [row] = passId
    ? await ctx.db
        .select()
        .from(visitPasses)
        .where(and(eq(visitPasses.id, passId), eq(visitPasses.orgId, orgId)))
    : [];
  const gate = await requireGate(ctx.db, orgId, gateId);
  const [site] = await ctx.db.select().from(sites).where(eq(sites.id, gate.siteId));
  const [org] = await ctx.db.select().from(organizations).where(eq(organizations.id, orgId));
  const [rule] = row ? await ctx.db.select().from(accessRules).where(eq(accessRules.id, row.accessRuleId)) : [];
  return decide(
    credential,
    row ? passRecord(ctx, row) : undefined,
    rule ? ruleRecord(rule) : undefined,
    {
      gateId: gate.id,
      siteId: gate.siteId,
      zoneId: gate.zoneId,
      timezone: site!.timezone,
      direction: 'in',
      lockdown: gate.lockdown,
      keys: new KeyRing([org!.signingPublicKey]),
    },
    EMPTY_PASS_STATE,
    now,
  );
}
