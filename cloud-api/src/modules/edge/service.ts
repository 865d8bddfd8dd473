import { isDevicePublicKey } from '@gatehouse/protocol';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { AppContext } from '../../context.js';
import { enrollmentCodes, gates, organizations } from '../../db/schema.js';
import { writeAudit } from '../../lib/audit.js';
import { randomToken, sha256 } from '../../lib/crypto.js';
import { badRequest, HttpError } from '../../lib/errors.js';
import { hashBrokerPassword } from '../../mqtt/broker-credentials.js';
import { normaliseCode, tellBroker } from '../gates/service.js';

/** Where the controller finds the broker: MQTT_URL, or the embedded broker on this host. */
function brokerUrl(ctx: AppContext): string {
  if (ctx.config.mqttUrl) {
    // MQTT_URL carries the cloud's own broker login: a device must never receive it.
    const u = new URL(ctx.config.mqttUrl);
    u.username = '';
    u.password = '';
    return u.toString();
  }
  const scheme = ctx.sync?.broker?.tls || ctx.config.mqttTls ? 'mqtts' : 'mqtt';
  return `${scheme}://${new URL(ctx.config.publicUrl).hostname}:${ctx.sync?.broker?.port ?? ctx.config.mqttPort}`;
}

export async function enroll(ctx: AppContext, code: string, ip: string, sealKey: string | null = null) {
  // SEAL-1: a key that cannot be used is refused before the code is spent.
  if (sealKey !== null && !isDevicePublicKey(sealKey)) throw badRequest('sealKey is not an X25519 public key');
  const now = new Date();
  const enrolled = await ctx.db.transaction(async (tx) => {
    // Consumed atomically: of two controllers racing with one code, one wins.
    const [used] = await tx
      .update(enrollmentCodes)
      .set({ usedAt: now, updatedAt: now })
      .where(
        and(eq(enrollmentCodes.codeHash, sha256(normaliseCode(code))), isNull(enrollmentCodes.usedAt), gt(enrollmentCodes.expiresAt, now)),
      )
      .returning();
    if (!used) throw new HttpError(401, 'invalid_code', 'unknown, used or expired enrollment code');
    const [gate] = await tx
      .select()
      .from(gates)
      .where(and(eq(gates.id, used.gateId), isNull(gates.deletedAt)));
    if (!gate) throw new HttpError(401, 'invalid_code', 'the gate of this code is gone');
    // Refused before the code is spent: it works once an admin enables the gate again.
    if (gate.disabledAt) throw new HttpError(409, 'gate_disabled', 'the gate of this code is disabled');
    const [org] = await tx
      .select({ publicKey: organizations.signingPublicKey })
      .from(organizations)
      .where(eq(organizations.id, gate.orgId));
    // A fresh device id per enrollment: re-enrolling a gate retires the old controller's credentials.
    const deviceId = `gw-${gate.id.replaceAll('-', '').slice(-12)}-${randomToken(6).replace(/[^A-Za-z0-9]/g, 'x')}`;
    const password = randomToken(24);
    await tx
      .update(gates)
      .set({ deviceId, deviceSecretHash: hashBrokerPassword(password), deviceSealKey: sealKey, updatedAt: now })
      .where(eq(gates.id, gate.id));
    // The broker learns the new login before the code is spent: if it cannot, the enrollment fails and the code stays good.
    await ctx.sync?.access.grant(deviceId, password).catch((err: unknown) => {
      throw new HttpError(503, 'broker_unavailable', `the broker did not take the new controller's login: ${(err as Error).message}`);
    });
    await writeAudit(
      tx,
      { orgId: gate.orgId, userId: null, ip, userAgent: null },
      { action: 'gate.enrolled', entityType: 'gate', entityId: gate.id, data: { deviceId, sealed: sealKey !== null } },
    );
    return {
      replaced: gate.deviceId,
      deviceId,
      gateId: gate.id,
      siteId: gate.siteId,
      orgId: gate.orgId,
      mqtt: { url: brokerUrl(ctx), username: deviceId, password },
      orgPublicKey: org!.publicKey,
    };
  });
  // Re-enrollment retires the controller it replaces: its session is closed and its login refused.
  const { replaced, ...answer } = enrolled;
  await tellBroker(ctx, replaced, 'delete');
  return answer;
}
