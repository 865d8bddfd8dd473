/**
 * `gatehouse-edge enroll --cloud URL --code CODE`: trades a one-time code for
 * this controller's identity, broker credentials and the org's public key,
 * and writes them into the config file (mode 0600: it now holds secrets —
 * the broker password and the private key TOTP secrets are sealed to).
 * The file is replaced atomically so a crash cannot leave half a config.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { generateDeviceKeyPair, KeyRing, keyFingerprint } from '@gatehouse/protocol';

export interface Enrollment {
  deviceId: string;
  gateId: string;
  siteId: string;
  orgId: string;
  mqtt: { url: string; username: string; password: string };
  orgPublicKey: string;
  /** SPEC SIGN-7: computed here from the key received, never taken from the answer; the console shows the cloud's. */
  orgKeyFingerprint: string;
}

/**
 * SIGN-7: plain HTTP only to this machine (127.0.0.0/8, ::1, localhost): anywhere
 * else anyone on the path could answer with their own org key and broker.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

export async function enroll(opts: { cloud: string; code: string; configPath: string; fetch?: typeof fetch }): Promise<Enrollment> {
  const base = new URL(opts.cloud);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`--cloud must be an http(s) URL, got ${opts.cloud}`);
  if (base.protocol === 'http:' && !isLoopbackHost(base.hostname)) {
    throw new Error(
      `refusing to enroll over plain HTTP with ${base.host}: use https:// (http:// only to this machine: 127.0.0.1, ::1, localhost)`,
    );
  }
  // SEAL-1: the key pair secrets are sealed to is made here; only its public half leaves the controller.
  const seal = generateDeviceKeyPair();
  const res = await (opts.fetch ?? fetch)(new URL('/api/edge/enroll', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: opts.code, sealKey: seal.publicKey }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json().catch(() => ({}))) as Partial<Enrollment> & { error?: { message?: string } };
  if (!res.ok) throw new Error(`enrollment refused (${res.status}): ${body.error?.message ?? 'no reason given'}`);
  const e = body as Enrollment;
  if (!e.deviceId || !e.orgId || !e.gateId || !e.mqtt?.url || !e.mqtt.username || !e.mqtt.password || !e.orgPublicKey) {
    throw new Error('enrollment answer is incomplete');
  }
  new KeyRing([e.orgPublicKey]); // throws on a key that is not an Ed25519 public key
  const orgKeyFingerprint = keyFingerprint(e.orgPublicKey);
  const current = existsSync(opts.configPath) ? (JSON.parse(readFileSync(opts.configPath, 'utf8')) as Record<string, unknown>) : {};
  const next = {
    ...current,
    cloud: base.origin,
    deviceId: e.deviceId,
    orgId: e.orgId,
    gateId: e.gateId,
    siteId: e.siteId,
    mqtt: e.mqtt,
    orgPublicKey: e.orgPublicKey,
    sealKey: seal.privateKey,
  };
  const tmp = `${opts.configPath}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, opts.configPath);
  return {
    deviceId: e.deviceId,
    gateId: e.gateId,
    siteId: e.siteId,
    orgId: e.orgId,
    mqtt: e.mqtt,
    orgPublicKey: e.orgPublicKey,
    orgKeyFingerprint,
  };
}
