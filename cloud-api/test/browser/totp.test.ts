/** The guest page's WebCrypto TOTP must draw exactly the codes the protocol (and so the edge) expects. */
import { dynamicQrAt, newTotpSecret, totpCode } from '@gatehouse/protocol';
import { describe, expect, it } from 'vitest';
import { dynamicPayload, importSecret, msUntilNextStep, totpAt } from '../../console/src/lib/totp.ts';

describe('browser TOTP (console/src/lib/totp.ts)', () => {
  it('matches the protocol across secrets and times, including step edges', async () => {
    const times = [0, 29_999, 30_000, 1_700_000_000_000, 1_700_000_029_999, Date.now(), 2 ** 32 * 30_000 + 5];
    for (let i = 0; i < 20; i++) {
      const secret = newTotpSecret();
      const key = await importSecret(secret);
      for (const t of times) expect(await totpAt(key, t)).toBe(totpCode(secret, t));
    }
  });

  it('builds the GHD1 payload of protocol/credentials.ts', async () => {
    const secret = newTotpSecret();
    const passId = '0190f5c2-7b1e-7c3a-9f00-1a2b3c4d5e6f';
    const t = 1_763_000_000_123;
    expect(await dynamicPayload(passId, await importSecret(secret), t)).toBe(dynamicQrAt(passId, secret, t));
  });

  it('RFC 6238 SHA-1 vector (8 digits) and step countdown', async () => {
    // RFC 6238 appendix B: secret "12345678901234567890", T=59 s → 94287082.
    const key = await importSecret('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(await totpAt(key, 59_000)).toBe('94287082');
    expect(await totpAt(key, 1_111_111_109_000)).toBe('07081804');
    expect(msUntilNextStep(30_000)).toBe(30_000);
    expect(msUntilNextStep(59_999)).toBe(1);
  });

  it('refuses a secret that is not base32', async () => {
    await expect(importSecret('not*base32')).rejects.toThrow(TypeError);
  });
});
