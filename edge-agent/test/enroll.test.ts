/**
 * `enroll` as a man in the middle would meet it (SPEC SIGN-7): plain HTTP is
 * refused before anything is sent unless the cloud is on this machine, and the
 * fingerprint of the org key is computed from the key received, so the one
 * printed can be compared with the console's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, keyFingerprint } from '@gatehouse/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { enroll, isLoopbackHost } from '../src/sync/enroll.js';
import { tempDir } from './tmp.js';

const org = generateKeyPair();

/** A cloud that answers every enrollment, noting what it was sent. */
function fakeCloud() {
  const calls: { url: string; body: Record<string, unknown> }[] = [];
  const fetch = (async (url: URL | string, init?: RequestInit) => {
    calls.push({ url: String(url), body: JSON.parse(String(init?.body ?? '{}')) as Record<string, unknown> });
    return new Response(
      JSON.stringify({
        deviceId: 'gw-1',
        gateId: 'g1',
        siteId: 's1',
        orgId: 'o1',
        mqtt: { url: 'mqtts://broker.example:8883', username: 'gw-1', password: 'pw' },
        orgPublicKey: org.publicKey,
      }),
      { status: 200, headers: { 'content-type': 'application/json' } },
    );
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

describe('enroll (SPEC SIGN-7, SEAL-1)', () => {
  const dir = tempDir('gh-enroll-');
  afterAll(() => dir.cleanup());

  it.each([
    'http://gatehouse.example.com',
    'http://10.0.0.5:8080',
    'http://192.168.1.10',
    'http://[fe80::1]',
    'http://127.example.com',
    'http://localhost.evil.example',
  ])('SIGN-7: refuses plain HTTP to %s, and sends nothing', async (cloud) => {
    const { calls, fetch } = fakeCloud();
    const configPath = join(dir.dir, 'refused.json');
    await expect(enroll({ cloud, code: 'ABCD-EFGH', configPath, fetch })).rejects.toThrow(/plain HTTP/);
    expect(calls).toEqual([]);
    expect(existsSync(configPath)).toBe(false);
  });

  it.each(['http://127.0.0.1:3000', 'http://127.1.2.3', 'http://localhost:3000', 'http://[::1]:3000', 'https://gatehouse.example.com'])(
    'SIGN-7: enrolls with %s, returns the fingerprint of the key received, and sends only the public half of its sealing key (SEAL-1)',
    async (cloud) => {
      const { calls, fetch } = fakeCloud();
      const configPath = join(dir.dir, `ok-${calls.length}-${Date.now()}.json`);
      const e = await enroll({ cloud, code: 'ABCD-EFGH', configPath, fetch });
      expect(e.orgKeyFingerprint).toBe(keyFingerprint(org.publicKey));
      expect(calls).toHaveLength(1);
      const saved = JSON.parse(readFileSync(configPath, 'utf8')) as { sealKey: string };
      expect(calls[0]?.body.sealKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(calls[0]?.body.sealKey).not.toBe(saved.sealKey);
      expect(JSON.stringify(calls[0]?.body)).not.toContain(saved.sealKey);
    },
  );

  it('SIGN-7: loopback means 127.0.0.0/8, ::1 and localhost only', () => {
    for (const h of ['127.0.0.1', '127.255.0.1', '[::1]', 'localhost', 'LOCALHOST']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['128.0.0.1', '0.0.0.0', '[::]', 'example.com', '127.0.0.1.nip.io', '[fe80::1]'])
      expect(isLoopbackHost(h), h).toBe(false);
  });
});
