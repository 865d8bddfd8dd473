import { and, eq, isNull } from 'drizzle-orm';
import type { AppContext } from './context.js';
import { accessRules, gates, sites, users, zones } from './db/schema.js';
import { openUser, userPersonalColumns } from './modules/orgs/personal-data.js';
import { seedPremises } from './modules/orgs/premises.js';
import { createOrganization, createUser, findOrganizationByName } from './modules/orgs/service.js';

export const DEMO = {
  org: 'Demo Org',
  email: 'admin@demo.gatehouse.local',
  password: 'gatehouse-demo',
  /** A Host: invites guests from the host portal and is told when they arrive. */
  hostEmail: 'host@demo.gatehouse.local',
};

export interface DemoInfo {
  orgId: string;
  email: string;
  password: string;
  siteId: string;
  zoneId: string;
  gateId: string;
  ruleId: string;
  created: boolean;
}

/** Creates the demo organisation with an admin, a site, a zone, a gate and a rule, unless it exists. Idempotent. */
export async function seedDemo(ctx: AppContext): Promise<DemoInfo> {
  return ctx.db.transaction(async (tx) => {
    const existing = await findOrganizationByName(tx, DEMO.org);
    if (existing) {
      const [site] = await tx
        .select({ id: sites.id })
        .from(sites)
        .where(and(eq(sites.orgId, existing.id), isNull(sites.deletedAt)))
        .limit(1);
      const [zone] = await tx.select({ id: zones.id }).from(zones).where(eq(zones.orgId, existing.id)).limit(1);
      const [gate] = await tx.select({ id: gates.id }).from(gates).where(eq(gates.orgId, existing.id)).limit(1);
      const [rule] = await tx.select({ id: accessRules.id }).from(accessRules).where(eq(accessRules.orgId, existing.id)).limit(1);
      const [admin] = await tx
        .select({ id: users.id, ...userPersonalColumns })
        .from(users)
        .where(eq(users.orgId, existing.id))
        .limit(1);
      return {
        orgId: existing.id,
        email: admin ? openUser(ctx.sealer, admin.id, admin).email : DEMO.email,
        password: DEMO.password,
        siteId: site?.id ?? '',
        zoneId: zone?.id ?? '',
        gateId: gate?.id ?? '',
        ruleId: rule?.id ?? '',
        created: false,
      };
    }
    const org = await createOrganization(ctx, tx, DEMO.org);
    await createUser(ctx, tx, { orgId: org.id, email: DEMO.email, fullName: 'Demo Admin', roles: ['OrgAdmin'], password: DEMO.password });
    await createUser(ctx, tx, {
      orgId: org.id,
      email: DEMO.hostEmail,
      fullName: 'Maria Ivanova',
      roles: ['Host'],
      password: DEMO.password,
    });
    const { siteId, zoneId, gateId, ruleId } = await seedPremises(tx, org.id, {
      site: 'Head office',
      timezone: 'Europe/Moscow',
      address: '1 Tverskaya St, Moscow',
      zone: 'Lobby',
      gate: 'Main turnstile',
      rule: 'Visitors, lobby, any time',
    });
    return { orgId: org.id, email: DEMO.email, password: DEMO.password, siteId, zoneId, gateId, ruleId, created: true };
  });
}
