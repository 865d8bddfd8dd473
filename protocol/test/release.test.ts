import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { TEST_KEYS, TEST_RELEASE_KEYS } from '../scripts/make-vectors.js';
import {
  compareVersions,
  generateKeyPair,
  KeyRing,
  MAX_SIGNED_RELEASE_BYTES,
  nodeSupported,
  RELEASE_PLATFORMS,
  type ReleaseFile,
  type ReleaseManifest,
  ReleaseManifestSchema,
  releaseFileChecker,
  releaseFilesFor,
  releaseFileUrl,
  releasePathProblem,
  type SignedRelease,
  signEnvelope,
  signingKey,
  signRelease,
  signReleaseBytes,
  validators,
  verifyRelease,
} from '../src/index.js';

const dir = new URL('../test-vectors/', import.meta.url);
const releaseKey = signingKey(TEST_RELEASE_KEYS.release.privateKey);
const ring = () => new KeyRing([TEST_RELEASE_KEYS.release.publicKey]);
const NOW = Date.UTC(2026, 10, 30, 12);
const D = 86_400_000;

const fileOf = (path: string, text: string, platform?: ReleaseFile['platform']): ReleaseFile => ({
  path,
  sha256: createHash('sha256').update(text).digest('hex'),
  size: Buffer.byteLength(text),
  ...(platform ? { platform } : {}),
});

const manifest = (over: Partial<ReleaseManifest> = {}): ReleaseManifest => ({
  v: 1,
  product: 'gatehouse-edge',
  version: '1.2.3',
  serial: 12,
  channel: 'beta',
  createdAt: NOW - D,
  expiresAt: NOW + 7 * D,
  minCloudVersion: '0.1.0',
  node: '>=22 <25',
  entry: 'agent/main.mjs',
  files: [fileOf('agent/main.mjs', 'main'), fileOf('lib/x.node', 'x64', 'linux-x64'), fileOf('lib/x.node', 'arm', 'linux-arm64')],
  ...over,
});

const opts = { now: NOW, installedSerial: 11 };
const refusal = (s: unknown, o: Parameters<typeof verifyRelease>[2] = opts) => {
  const r = verifyRelease(s, ring(), o);
  return r.ok ? 'ok' : r.reason;
};

describe('release vectors (SPEC REL-*)', () => {
  const vectors = JSON.parse(readFileSync(new URL('releases.json', dir), 'utf8')) as {
    keys: typeof TEST_RELEASE_KEYS;
    contents: Record<string, string>;
    cases: {
      name: string;
      spec: string[];
      signed: string;
      opts: { now: number; installedSerial: number | null; allowDowngradeTo?: number };
      result: { ok: true; version: string; serial: number; files: Record<string, string[]> } | { ok: false; reason: string };
    }[];
    node: { range: string; node: string; supported: boolean }[];
  };
  const vring = new KeyRing([vectors.keys.release.publicKey]);

  it.each(vectors.cases.map((c) => [`${c.spec.join(', ')}: ${c.name}`, c] as const))('%s', (_n, c) => {
    const r = verifyRelease(c.signed, vring, c.opts);
    if (c.result.ok) {
      expect(r.ok, r.ok ? '' : r.detail).toBe(true);
      if (!r.ok) return;
      expect({ version: r.manifest.version, serial: r.manifest.serial }).toEqual({ version: c.result.version, serial: c.result.serial });
      for (const p of RELEASE_PLATFORMS) expect(releaseFilesFor(r.manifest, p).map((f) => f.path)).toEqual(c.result.files[p]);
    } else {
      expect(r.ok ? 'ok' : r.reason).toBe(c.result.reason);
    }
  });

  it('REL-3: the vectors give every refusal reason verifyRelease has', () => {
    const reasons = new Set(vectors.cases.map((c) => (c.result.ok ? 'ok' : c.result.reason)));
    expect([...reasons].sort()).toEqual(['bad_signature', 'expired', 'malformed', 'ok', 'rollback', 'unknown_key', 'wrong_product']);
  });

  it('REL-8: the contents of the vector release match its manifest, file by file and platform by platform', () => {
    const good = vectors.cases[0]!;
    const r = verifyRelease(good.signed, vring, good.opts);
    if (!r.ok) throw new Error(r.detail);
    for (const f of r.manifest.files) {
      const text = vectors.contents[f.platform ? `${f.path}#${f.platform}` : f.path];
      expect(text, f.path).toBeDefined();
      const check = releaseFileChecker(f);
      expect(check.update(Buffer.from(text ?? ''))).toBe(true);
      expect(check.done()).toBeNull();
    }
  });

  it.each(vectors.node.map((c) => [`REL-7: ${c.range} with Node ${c.node} is ${c.supported ? '' : 'not '}supported`, c] as const))(
    '%s',
    (_n, c) => {
      expect(nodeSupported(c.range, c.node)).toBe(c.supported);
    },
  );

  it('REL-2: the release test keys are not the organisation test keys', () => {
    const orgKids = Object.values(TEST_KEYS).map((k) => k.kid);
    for (const k of Object.values(TEST_RELEASE_KEYS)) {
      expect(orgKids).not.toContain(k.kid);
      expect(signingKey(k.privateKey).kid).toBe(k.kid);
    }
  });
});

describe('verifyRelease (SPEC REL-3..REL-6)', () => {
  const signed = signRelease(manifest(), releaseKey);

  it('REL-1, REL-3: accepts a signed release as an object, as JSON text and as bytes', () => {
    for (const input of [signed, JSON.stringify(signed), Buffer.from(JSON.stringify(signed))]) {
      const r = verifyRelease(input, ring(), opts);
      expect(r).toEqual({ ok: true, manifest: manifest() });
    }
  });

  it('REL-1: the signed release and its manifest are valid under the written JSON Schemas (Ajv)', () => {
    const ajv = new Ajv2020({ strict: false });
    const schema = (name: string) => ajv.compile(JSON.parse(readFileSync(new URL(`../schemas/${name}.json`, import.meta.url), 'utf8')));
    const signedCheck = schema('signed-release');
    const manifestCheck = schema('release-manifest');
    expect(signedCheck(signed)).toBe(true);
    expect(manifestCheck(manifest())).toBe(true);
    expect(manifestCheck({ ...manifest(), extra: 1 })).toBe(false);
    expect(manifestCheck(manifest({ version: '01.2.3' }))).toBe(false);
    expect(manifestCheck(manifest({ files: [{ ...fileOf('a', 'a'), path: '/abs' }] }))).toBe(false);
    expect(signedCheck({ ...signed, sig: 'x' })).toBe(false);
    // The files judge shapes as the TypeBox schemas do; path rules beyond the pattern (REL-5) are the verifier's.
    const typebox = Compile(ReleaseManifestSchema);
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (key, value) => {
        const mutated = { ...manifest(), [key]: value };
        expect(manifestCheck(mutated)).toBe(typebox.Check(mutated));
      }),
      { numRuns: 300 },
    );
  });

  it('REL-3: never throws, whatever it is given (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = verifyRelease(value, ring(), opts);
        expect(r.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
    for (const junk of [null, undefined, 42, '', 'null', new Uint8Array([0xff, 0xfe]), { kid: 1 }]) expect(refusal(junk)).toBe('malformed');
  });

  it('REL-3, REL-9: refuses an oversized release file before parsing it', () => {
    const big = JSON.stringify({ ...signed, notes: 'x'.repeat(MAX_SIGNED_RELEASE_BYTES) });
    const r = verifyRelease(big, ring(), opts);
    expect(r).toMatchObject({ ok: false, reason: 'malformed', detail: 'signed release too large' });
    // Counted in bytes, not characters: 1 MiB of three-byte characters is 3 MiB.
    const wide = JSON.stringify({ ...signed, notes: '€'.repeat(MAX_SIGNED_RELEASE_BYTES / 2) });
    expect(verifyRelease(wide, ring(), opts)).toMatchObject({ ok: false, detail: 'signed release too large' });
    expect(verifyRelease(Buffer.from(wide), ring(), opts)).toMatchObject({ ok: false, detail: 'signed release too large' });
  });

  it('REL-2, REL-3: a key that is not in the release ring is unknown, even a genuine organisation key', () => {
    const org = signingKey(TEST_KEYS.org.privateKey);
    expect(refusal(signRelease(manifest(), org))).toBe('unknown_key');
    expect(refusal(signRelease(manifest(), signingKey(generateKeyPair().privateKey)))).toBe('unknown_key');
    // Trusting two release keys during a rotation: either signs.
    const next = signingKey(TEST_RELEASE_KEYS.otherRelease.privateKey);
    const both = new KeyRing([TEST_RELEASE_KEYS.release.publicKey, TEST_RELEASE_KEYS.otherRelease.publicKey]);
    expect(verifyRelease(signRelease(manifest(), next), both, opts).ok).toBe(true);
  });

  it('REL-3: a tampered payload and a swapped signature are bad signatures', () => {
    const payload = Buffer.from(JSON.stringify(manifest({ notes: 'evil' }))).toString('base64');
    expect(refusal({ ...signed, payload })).toBe('bad_signature');
    const other = signRelease(manifest({ serial: 13 }), releaseKey);
    expect(refusal({ ...signed, sig: other.sig })).toBe('bad_signature');
    expect(refusal({ ...other, payload: signed.payload })).toBe('bad_signature');
  });

  it('REL-2: a message envelope signature by the same key does not pass as a release signature', () => {
    const env = signEnvelope(Buffer.from(JSON.stringify(manifest())), releaseKey);
    expect(refusal(env)).toBe('bad_signature');
    // …nor the other way round: the envelope validator would take the shape, but the tags differ.
    expect(validators.envelope.check(signed)).toBe(true);
  });

  it('REL-3: any single byte changed in the signed payload is refused (property)', () => {
    const bytes = Buffer.from(signed.payload, 'base64');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const flipped = Buffer.from(bytes);
        flipped[i] = (flipped[i] ?? 0) ^ x;
        expect(refusal({ ...signed, payload: flipped.toString('base64') })).toBe('bad_signature');
      }),
      { numRuns: 500 },
    );
  });

  it('REL-3: any single bit of the signature flipped is refused (property)', () => {
    const sig = Buffer.from(signed.sig, 'base64');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sig.length * 8 - 1 }), (bit) => {
        const s = Buffer.from(sig);
        s[bit >> 3] = (s[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(refusal({ ...signed, sig: s.toString('base64') })).toBe('bad_signature');
      }),
      { numRuns: 200 },
    );
  });

  it('REL-3: signature before anything of the manifest: a forged expired or older manifest is bad_signature', () => {
    const forged = (m: ReleaseManifest): SignedRelease => ({ ...signed, payload: Buffer.from(JSON.stringify(m)).toString('base64') });
    expect(refusal(forged(manifest({ expiresAt: NOW - 1, createdAt: NOW - D })))).toBe('bad_signature');
    expect(refusal(forged(manifest({ serial: 1 })))).toBe('bad_signature');
    expect(refusal({ ...signed, payload: Buffer.from('not json').toString('base64') })).toBe('bad_signature');
  });

  it('REL-3: a well-signed payload that is not a manifest is malformed; another product is wrong_product', () => {
    const signAny = (v: unknown) => signReleaseBytes(Buffer.from(JSON.stringify(v)), releaseKey);
    expect(refusal(signReleaseBytes(Buffer.from('{'), releaseKey))).toBe('malformed');
    expect(refusal(signAny([manifest()]))).toBe('malformed');
    expect(refusal(signAny({ ...manifest(), v: 2 }))).toBe('malformed');
    expect(refusal(signAny({ ...manifest(), serial: 0 }))).toBe('malformed');
    expect(refusal(signAny({ ...manifest(), files: [] }))).toBe('malformed');
    expect(refusal(signAny({ ...manifest(), node: '^22' }))).toBe('malformed');
    expect(refusal(signAny({ ...manifest(), product: 'gatehouse-cloud' }))).toBe('wrong_product');
  });

  it('REL-4: refuses a manifest at or past its expiry by the given clock; a frozen mirror cannot hold an edge back', () => {
    expect(refusal(signed, { ...opts, now: NOW + 7 * D - 1 })).toBe('ok');
    expect(refusal(signed, { ...opts, now: NOW + 7 * D })).toBe('expired');
    expect(refusal(signed, { ...opts, now: NOW + 365 * D })).toBe('expired');
    // A downgrade job does not lift the expiry.
    expect(refusal(signed, { now: NOW + 8 * D, installedSerial: 13, allowDowngradeTo: 12 })).toBe('expired');
  });

  it('REL-6: an older or equal serial is a rollback unless the signed job names exactly that serial', () => {
    expect(refusal(signed, { now: NOW, installedSerial: null })).toBe('ok');
    expect(refusal(signed, { now: NOW, installedSerial: 11 })).toBe('ok');
    expect(refusal(signed, { now: NOW, installedSerial: 12 })).toBe('rollback');
    expect(refusal(signed, { now: NOW, installedSerial: 40 })).toBe('rollback');
    expect(refusal(signed, { now: NOW, installedSerial: 40, allowDowngradeTo: 12 })).toBe('ok');
    expect(refusal(signed, { now: NOW, installedSerial: 12, allowDowngradeTo: 12 })).toBe('ok');
    expect(refusal(signed, { now: NOW, installedSerial: 40, allowDowngradeTo: 11 })).toBe('rollback');
    // The version text plays no part: a higher version with a lower serial is still a rollback.
    expect(refusal(signRelease(manifest({ version: '9.0.0', serial: 3 }), releaseKey), { now: NOW, installedSerial: 11 })).toBe('rollback');
  });
});

describe('release file paths (SPEC REL-5)', () => {
  const withFile = (f: Partial<ReleaseFile>) => manifest({ files: [...manifest().files, { ...fileOf('extra', 'e'), ...f }] });

  it.each([
    ['a .. segment', 'agent/../../../etc/passwd'],
    ['a leading ..', '../x'],
    ['a . segment', 'agent/./x'],
    ['an absolute path', '/etc/passwd'],
    ['a backslash', 'agent\\x'],
    ['an empty segment', 'agent//x'],
    ['a trailing slash', 'agent/'],
    ['a space', 'agent/a b'],
    ['a NUL', 'agent/a\u0000b'],
    ['the reserved release.json', 'release.json'],
  ])('REL-5: %s is malformed, and signRelease will not sign it', (_what, path) => {
    const m = withFile({ path });
    expect(() => signRelease(m, releaseKey)).toThrow(TypeError);
    expect(refusal(signReleaseBytes(Buffer.from(JSON.stringify(m)), releaseKey))).toBe('malformed');
  });

  it('REL-5: duplicates, a file under a file, and an entry missing on a platform are problems; one path per platform is not', () => {
    const base = manifest();
    expect(releasePathProblem(base)).toBeNull();
    expect(releasePathProblem({ ...base, files: [...base.files, fileOf('agent/main.mjs', 'again')] })).toMatch(/twice/);
    expect(releasePathProblem({ ...base, files: [...base.files, fileOf('lib/x.node', 'all')] })).toMatch(/twice/);
    expect(releasePathProblem({ ...base, files: [...base.files, fileOf('agent/main.mjs/inner', 'x')] })).toMatch(/under the file/);
    expect(releasePathProblem({ ...base, entry: 'lib/x.node', files: base.files.filter((f) => f.platform !== 'linux-arm64') })).toMatch(
      /not a listed file for linux-arm64/,
    );
    expect(releasePathProblem({ ...base, entry: 'agent/../agent/main.mjs' })).toMatch(/segment/);
    // A nested directory path named like a file elsewhere is fine: `agent/x` and `agent2/x`.
    expect(releasePathProblem({ ...base, files: [...base.files, fileOf('agent2/main.mjs', 'y')] })).toBeNull();
  });

  it('REL-5: releaseFilesFor gives the common files and the platform’s own', () => {
    const m = manifest();
    expect(releaseFilesFor(m, 'linux-x64').map((f) => [f.path, f.size])).toEqual([
      ['agent/main.mjs', 4],
      ['lib/x.node', 3],
    ]);
    expect(releaseFilesFor(m, 'linux-arm64').map((f) => [f.path, f.size])).toEqual([
      ['agent/main.mjs', 4],
      ['lib/x.node', 3],
    ]);
    expect(releaseFilesFor(m, 'linux-arm64')[1]?.sha256).toBe(createHash('sha256').update('arm').digest('hex'));
  });

  it('REL-5: a file URL is the release URL without release.json, then files/ and the encoded path', () => {
    const url = 'https://cloud.example/api/edge/releases/0190f000-0000-7000-8000-000000000001/release.json';
    expect(releaseFileUrl(url, 'node_modules/@serialport/a+b.node')).toBe(
      'https://cloud.example/api/edge/releases/0190f000-0000-7000-8000-000000000001/files/node_modules/%40serialport/a%2Bb.node',
    );
    expect(releaseFileUrl('http://127.0.0.1:8080/r/', 'a')).toBe('http://127.0.0.1:8080/r/files/a');
    // A file of one platform names it: the same path may be listed once per platform (the GPIO helper is).
    expect(releaseFileUrl('http://127.0.0.1:8080/r/release.json', 'agent/bin/h', 'linux-arm64')).toBe(
      'http://127.0.0.1:8080/r/files/agent/bin/h?platform=linux-arm64',
    );
  });
});

describe('downloaded files (SPEC REL-8, REL-9)', () => {
  const file = fileOf('agent/main.mjs', 'hello world');

  it('REL-8: the bytes pass when size and SHA-256 match, in any chunking', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 11 }), (cut) => {
        const c = releaseFileChecker(file);
        expect(c.update(Buffer.from('hello world'.slice(0, cut)))).toBe(true);
        expect(c.update(Buffer.from('hello world'.slice(cut)))).toBe(true);
        expect(c.done()).toBeNull();
        expect(c.done()).toBeNull();
      }),
    );
  });

  it('REL-8: a changed byte or a short file is refused', () => {
    const c = releaseFileChecker(file);
    c.update(Buffer.from('hello World'));
    expect(c.done()).toMatch(/SHA-256/);
    const short = releaseFileChecker(file);
    short.update(Buffer.from('hello'));
    expect(short.done()).toMatch(/5 bytes/);
  });

  it('REL-9: endless data: the checker says stop at the first byte past the listed size', () => {
    const c = releaseFileChecker(file);
    expect(c.update(Buffer.from('hello world'))).toBe(true);
    expect(c.update(Buffer.from('!'))).toBe(false);
    expect(c.update(Buffer.from('more'))).toBe(false);
    expect(c.done()).toMatch(/more than the 11 bytes/);
  });
});

describe('versions (SPEC REL-7)', () => {
  it('REL-7: nodeSupported reads the numeric ranges a release names, and refuses what it cannot read', () => {
    expect(nodeSupported('>=22 <25', process.versions.node)).toBe(Number(process.versions.node.split('.')[0]) >= 22);
    expect(nodeSupported('>=22  <25', '23.0.0')).toBe(true);
    expect(nodeSupported('~22', '22.0.0')).toBe(false);
    expect(nodeSupported('22.x', '22.0.0')).toBe(false);
    expect(nodeSupported('>=22.12.1', '22.12.0')).toBe(false);
    expect(nodeSupported('>=22.12.1', '22.12.1')).toBe(true);
  });

  it('REL-1: compareVersions orders by SemVer precedence', () => {
    const sorted = [
      '0.1.0',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.10.0',
    ];
    for (let i = 0; i < sorted.length; i++)
      for (let j = 0; j < sorted.length; j++)
        expect(compareVersions(sorted[i]!, sorted[j]!), `${sorted[i]} vs ${sorted[j]}`).toBe(Math.sign(i - j));
    expect(compareVersions('1.0.0+build.1', '1.0.0+build.2')).toBe(0);
  });
});
