/**
 * What the update tests share: a release built and signed here (a small entry file and a 300 kB blob, so a
 * Range request has something to split), publishing and uploading it as a platform admin, and enrolling a
 * gate's controller for its broker credentials.
 */
import { createHash, randomBytes } from 'node:crypto';
import { RELEASE_PRODUCT, type SignedRelease, type SigningKey, signRelease } from '@gatehouse/protocol';
import { expect } from 'vitest';
import type { App } from '../src/app.js';
import type { ReleaseView } from '../src/modules/updates/releases.js';
import type { Login } from './helpers.js';

export interface TestRelease {
  signed: SignedRelease;
  files: Array<{ path: string; content: Buffer }>;
}

export function makeRelease(
  key: SigningKey,
  o: { version: string; serial: number; channel?: 'stable' | 'beta'; createdAt?: number; expiresAt?: number; minCloudVersion?: string },
): TestRelease {
  const files = [
    { path: 'agent/gatehouse-edge.mjs', content: Buffer.from(`// gatehouse-edge ${o.version}\nconsole.log('ok');\n`) },
    { path: 'lib/blob.bin', content: randomBytes(300_000) },
  ];
  const createdAt = o.createdAt ?? Date.now();
  const signed = signRelease(
    {
      v: 1,
      product: RELEASE_PRODUCT,
      version: o.version,
      serial: o.serial,
      channel: o.channel ?? 'stable',
      createdAt,
      expiresAt: o.expiresAt ?? createdAt + 30 * 86_400_000,
      minCloudVersion: o.minCloudVersion ?? '0.1.0',
      node: '>=22 <25',
      entry: 'agent/gatehouse-edge.mjs',
      files: files.map((f) => ({ path: f.path, size: f.content.length, sha256: createHash('sha256').update(f.content).digest('hex') })),
      notes: `release ${o.version}`,
    },
    key,
  );
  return { signed, files };
}

export async function publish(app: App, platform: Login, rel: TestRelease): Promise<ReleaseView> {
  const r = await app.inject({ method: 'POST', url: '/api/admin/releases', headers: platform.auth, payload: { release: rel.signed } });
  expect(r.statusCode, r.body).toBe(201);
  return r.json() as ReleaseView;
}

export async function uploadAll(app: App, platform: Login, id: string, rel: TestRelease): Promise<ReleaseView> {
  let last: ReleaseView | null = null;
  for (const f of rel.files) {
    const r = await app.inject({
      method: 'PUT',
      url: `/api/admin/releases/${id}/files/${f.path}`,
      headers: { ...platform.auth, 'content-type': 'application/octet-stream' },
      payload: f.content,
    });
    expect(r.statusCode, r.body).toBe(200);
    last = r.json() as ReleaseView;
  }
  return last!;
}

/** A published, complete release in one call. */
export async function readyRelease(app: App, platform: Login, rel: TestRelease): Promise<string> {
  const { id } = await publish(app, platform, rel);
  await uploadAll(app, platform, id, rel);
  return id;
}

export async function enrollGate(app: App, admin: Login, gateId: string): Promise<{ deviceId: string; password: string }> {
  const e = await app.inject({ method: 'POST', url: `/api/admin/gates/${gateId}/enrollment`, headers: admin.auth });
  expect(e.statusCode, e.body).toBe(201);
  const r = await app.inject({ method: 'POST', url: '/api/edge/enroll', payload: { code: (e.json() as { code: string }).code } });
  expect(r.statusCode, r.body).toBe(200);
  const body = r.json() as { deviceId: string; mqtt: { password: string } };
  return { deviceId: body.deviceId, password: body.mqtt.password };
}
