/**
 * A ready-to-use set of premises for a new organisation: one site, one zone,
 * one gate and an any-time rule that opens the zone (the rule hosts invite
 * with). The demo organisation (demo.ts) and every developer sandbox
 * (modules/sandbox) start from it.
 */
import { uuidv7 } from '@gatehouse/protocol';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { accessRules, gates, orgSettings, sites, visitors, zones } from '../../db/schema.js';
import { sealedVisitorColumns } from '../visitors/service.js';

export interface PremisesNames {
  site: string;
  timezone: string;
  address: string | null;
  zone: string;
  gate: string;
  rule: string;
}

export interface Premises {
  siteId: string;
  zoneId: string;
  gateId: string;
  ruleId: string;
}

export async function seedPremises(db: Executor, orgId: string, n: PremisesNames, actorId: string | null = null): Promise<Premises> {
  const by = { createdBy: actorId, updatedBy: actorId };
  const siteId = uuidv7();
  const zoneId = uuidv7();
  const gateId = uuidv7();
  const ruleId = uuidv7();
  await db.insert(sites).values({ id: siteId, orgId, name: n.site, timezone: n.timezone, address: n.address, ...by });
  await db.insert(zones).values({ id: zoneId, orgId, siteId, name: n.zone, ...by });
  await db.insert(gates).values({ id: gateId, orgId, siteId, zoneId, name: n.gate, direction: 'both', ...by });
  // Any day, any hour: whoever tries it (the README's walk-through, an integrator's sandbox) is admitted whenever they try.
  await db.insert(accessRules).values({ id: ruleId, orgId, name: n.rule, zoneIds: [zoneId], weekdays: [], timeWindows: [], ...by });
  // Guests a host invites from the host portal get passes of this rule.
  await db.insert(orgSettings).values({ orgId, hostInviteRuleId: ruleId, ...by });
  return { siteId, zoneId, gateId, ruleId };
}

/** Inserts visitors with their personal data sealed as the visitors API seals it (inside the caller's transaction). */
export async function seedVisitors(
  ctx: AppContext,
  db: Executor,
  orgId: string,
  people: readonly { fullName: string; email: string | null; company: string | null }[],
  actorId: string | null = null,
): Promise<string[]> {
  const rows = people.map((p) => {
    const id = uuidv7();
    return {
      id,
      orgId,
      ...sealedVisitorColumns(ctx.sealer, id, p),
      createdBy: actorId,
      updatedBy: actorId,
    };
  });
  if (rows.length) await db.insert(visitors).values(rows);
  return rows.map((r) => r.id);
}
