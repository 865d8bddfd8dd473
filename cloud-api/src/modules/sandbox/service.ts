/**
 * Developer sandboxes (issue 13): an organisation of its own per sandbox
 * application, seeded like the demo, where an integrator's `ghk_test_` keys
 * issue passes and scan them at a simulated gate without a real door behind
 * anything. Its data is walled off from the owner's as any other
 * organisation's is; `organizations.sandbox_of` names the owner.
 */
import { type Decision, uuidv7 } from '@gatehouse/protocol';
import { and, asc, count, eq, isNull } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { gates, organizations } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { HttpError, notFound, unprocessable } from '../../lib/errors.js';
import { ingestCheckins, publishCheckins } from '../checkins/ingest.js';
import { seedPremises, seedVisitors } from '../orgs/premises.js';
import { createOrganization, createUser } from '../orgs/service.js';
import { checkPass } from '../passes/service.js';

export const SIMULATED_GATE = 'Simulated gate';

/** Fictitious people (reserved example domains): nothing in a sandbox may name a real person. */
const SANDBOX_HOST = { email: 'host@sandbox.example', fullName: 'Harper Host' };
const SANDBOX_VISITORS = [
  { fullName: 'Alex Example', email: 'alex@visitor.example', company: 'Example Ltd' },
  { fullName: 'Sam Sample', email: 'sam@visitor.example', company: null },
] as const;

export interface SandboxOrganization {
  id: string;
  name: string;
  siteId: string;
  zoneId: string;
  gateId: string;
  ruleId: string;
  hostId: string;
  visitorIds: string[];
}

/**
 * Creates and seeds the sandbox organisation of a new sandbox application of
 * `ownerOrgId`, inside the caller's transaction (the application's): named
 * "<owner> — sandbox <n>", with a site, a zone, the simulated gate, an
 * any-time rule, a host and two visitors.
 */
export async function createSandboxOrganization(
  ctx: AppContext,
  tx: Executor,
  ownerOrgId: string,
  actor: Actor,
): Promise<SandboxOrganization> {
  // The owner's row is locked so that two sandboxes created at once do not both pick the same number.
  const [owner] = await tx
    .select({ name: organizations.name })
    .from(organizations)
    .where(and(eq(organizations.id, ownerOrgId), isNull(organizations.deletedAt)))
    .for('update');
  if (!owner) throw notFound('organization');
  const [had] = await tx.select({ n: count() }).from(organizations).where(eq(organizations.sandboxOf, ownerOrgId));
  let n = (had?.n ?? 0) + 1;
  // Names are unique across every organisation ever made (deleted ones too): skip a number somebody took by hand.
  for (;;) {
    const [taken] = await tx
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.name, sandboxName(owner.name, n)));
    if (!taken) break;
    n++;
  }
  const by = actor.userId;
  const org = await createOrganization(ctx, tx, sandboxName(owner.name, n), by);
  await tx.update(organizations).set({ sandboxOf: ownerOrgId }).where(eq(organizations.id, org.id));
  const premises = await seedPremises(
    tx,
    org.id,
    { site: 'Sandbox site', timezone: 'UTC', address: null, zone: 'Sandbox lobby', gate: SIMULATED_GATE, rule: 'Sandbox, any time' },
    by,
  );
  const host = await createUser(ctx, tx, { orgId: org.id, ...SANDBOX_HOST, roles: ['Host'], actorId: by });
  const visitorIds = await seedVisitors(ctx, tx, org.id, SANDBOX_VISITORS, by);
  await writeAudit(tx, actor, { action: 'sandbox.create', entityType: 'organization', entityId: org.id, data: { name: org.name } });
  return { id: org.id, name: org.name, ...premises, hostId: host.hostId!, visitorIds };
}

const sandboxName = (owner: string, n: number) => `${owner} — sandbox ${n}`;

/** Whether the organisation is a sandbox (only there may a scan be simulated). */
async function isSandbox(ctx: AppContext, orgId: string): Promise<boolean> {
  const [org] = await ctx.db.select({ of: organizations.sandboxOf }).from(organizations).where(eq(organizations.id, orgId));
  return !!org?.of;
}

export interface ScanInput {
  passId: string;
  gateId?: string | undefined;
  direction?: 'in' | 'out' | undefined;
}

export interface ScanResult {
  allow: boolean;
  reason: Decision['reason'];
  checkinId: string;
}

/**
 * A visitor presenting the pass at a sandbox gate: the credential the pass
 * shows now, decided by the edge's own decide() (as POST /passes/:id/check),
 * then stored as the gate's check-in through the edges' ingestion, so the
 * live feed, the journey (arrival notices) and the webhooks follow as they do
 * for a real gate's event.
 */
export async function simulateScan(ctx: AppContext, orgId: string, b: ScanInput, log?: FastifyBaseLogger): Promise<ScanResult> {
  if (!(await isSandbox(ctx, orgId))) throw new HttpError(403, 'not_sandbox', 'scans can be simulated only in a sandbox organisation');
  const gateId = b.gateId ?? (await simulatedGate(ctx, orgId));
  const at = Date.now();
  const decision = await checkPass(ctx, orgId, b.passId, { gateId, at: new Date(at).toISOString(), direction: b.direction });
  const [gate] = await ctx.db
    .select({ siteId: gates.siteId, direction: gates.direction })
    .from(gates)
    .where(and(eq(gates.id, gateId), eq(gates.orgId, orgId)));
  if (!gate) throw notFound('gate');
  const event = {
    id: uuidv7(),
    type: 'attempt' as const,
    gateId,
    passId: b.passId,
    credentialKind: decision.credentialKind,
    // As checkPass chose it: the gate's own direction unless the caller named one.
    direction: b.direction ?? (gate.direction === 'out' ? ('out' as const) : ('in' as const)),
    allow: decision.allow,
    reason: decision.reason,
    occurredAt: at,
    reader: 'sandbox',
  };
  const { journeyError } = await ingestCheckins(ctx, { orgId, siteId: gate.siteId, gateId, deviceId: null }, [event], {
    onStored: (rows) => publishCheckins(ctx.events, orgId, rows),
  });
  // Stored either way, as an edge's batch is: the journey step's failure is logged, not the scan's.
  if (journeyError) log?.error({ err: journeyError, orgId }, 'sandbox: recording the arrival failed');
  return { allow: decision.allow, reason: decision.reason, checkinId: event.id };
}

/** The sandbox's simulated gate: the oldest gate still there (an integrator may have added or removed some). */
async function simulatedGate(ctx: AppContext, orgId: string): Promise<string> {
  const [g] = await ctx.db
    .select({ id: gates.id })
    .from(gates)
    .where(and(eq(gates.orgId, orgId), isNull(gates.deletedAt), isNull(gates.disabledAt)))
    .orderBy(asc(gates.id))
    .limit(1);
  if (!g) throw unprocessable('gateId: this sandbox has no gate left; create one or name it');
  return g.id;
}
