/**
 * Signed edge releases (SPEC REL-1..REL-9).
 *
 * A release is a manifest — version, monotonic serial, expiry, the SHA-256 and
 * size of every file — signed with a *release* key, which is not an
 * organisation key: a controller trusts the release keys of its own config,
 * so an org key (held by the cloud) cannot ship code to controllers. The
 * checks follow The Update Framework's threat model: a signature against the
 * arbitrary package, an expiry against freeze, a serial against rollback, a
 * complete file list against mix-and-match, sizes against endless data.
 */
import { createHash } from 'node:crypto';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { SemverSchema } from './messages.js';
import type { KeyRing, SigningKey } from './signing.js';

export const RELEASE_PRODUCT = 'gatehouse-edge';
/** REL-2: the domain tag; keeps a release signature from being valid as an envelope or static QR signature. */
const RELEASE_TAG = Buffer.from('gatehouse/release/v1\n');
/** REL-8: a signed release (release.json) is never longer than this; a downloader stops reading past it. */
export const MAX_SIGNED_RELEASE_BYTES = 2 * 1024 * 1024;
/** The most files a release lists, and the largest one (bounds what a downloader may be asked to fetch). */
export const MAX_RELEASE_FILES = 20_000;
export const MAX_RELEASE_FILE_BYTES = 1024 * 1024 * 1024;

export const ReleasePlatformSchema = Type.Union([Type.Literal('linux-x64'), Type.Literal('linux-arm64')]);
export type ReleasePlatform = Static<typeof ReleasePlatformSchema>;
export const RELEASE_PLATFORMS: readonly ReleasePlatform[] = ['linux-x64', 'linux-arm64'];

const COMPARATOR = '(?:>=|<=|>|<|=)?[0-9]+(?:\\.[0-9]+){0,2}';
const COMPARATOR_SET = `${COMPARATOR}(?: +${COMPARATOR})*`;
/** REL-7: a Node range: comparator sets (`>=22 <25`) joined by `||`; numbers only, no `^`/`~`/`x`. */
const NODE_RANGE = `^${COMPARATOR_SET}(?: *\\|\\| *${COMPARATOR_SET})*$`;
const NODE_RANGE_RE = new RegExp(NODE_RANGE);
export const NodeRangeSchema = Type.String({ maxLength: 100, pattern: NODE_RANGE });

/**
 * REL-5: a relative POSIX path of safe characters — no leading `/`, no backslash, no empty segment. `.` and `..`
 * segments are refused by the verifier (a pattern cannot say it readably).
 */
export const ReleasePathSchema = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^[A-Za-z0-9._@+~-]+(?:/[A-Za-z0-9._@+~-]+)*$',
});

export const ReleaseFileSchema = Type.Object(
  {
    path: ReleasePathSchema,
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    size: Type.Integer({ minimum: 0, maximum: MAX_RELEASE_FILE_BYTES }),
    /** Absent: the file belongs to every platform. */
    platform: Type.Optional(ReleasePlatformSchema),
  },
  { additionalProperties: false },
);

const EpochMs = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });

const manifestFields = {
  v: Type.Literal(1),
  product: Type.Literal(RELEASE_PRODUCT),
  version: SemverSchema,
  /** REL-6: compared for rollback protection; higher is newer. */
  serial: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  channel: Type.Union([Type.Literal('stable'), Type.Literal('beta')]),
  createdAt: EpochMs,
  /** REL-4: at or past this (cloud time) the manifest is refused: a frozen mirror cannot keep a controller old forever. */
  expiresAt: EpochMs,
  minCloudVersion: SemverSchema,
  node: NodeRangeSchema,
  /** Path of the agent's entry file inside the release; must be a listed file of every platform. */
  entry: ReleasePathSchema,
  /** REL-5: every file of the release; nothing outside this list is installed. */
  files: Type.Array(ReleaseFileSchema, { minItems: 1, maxItems: MAX_RELEASE_FILES }),
  notes: Type.Optional(Type.String({ maxLength: 10_000 })),
};

export const ReleaseManifestSchema = Type.Object(manifestFields, { additionalProperties: false });
/** The same with any product name, so a release of another product is told apart (`wrong_product`) from garbage. */
const AnyProductManifestSchema = Type.Object(
  { ...manifestFields, product: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const SignedReleaseSchema = Type.Object(
  {
    kid: Type.String({ pattern: '^[0-9a-f]{8}$' }),
    /** Base64 of the manifest's JSON bytes; bounded so the whole file stays under MAX_SIGNED_RELEASE_BYTES. */
    payload: Type.String({ minLength: 1, maxLength: MAX_SIGNED_RELEASE_BYTES - 1024, pattern: '^[A-Za-z0-9+/]*={0,2}$' }),
    sig: Type.String({ pattern: '^[A-Za-z0-9+/]{86}==$' }),
  },
  { additionalProperties: false },
);

export type ReleaseFile = Static<typeof ReleaseFileSchema>;
export type ReleaseManifest = Static<typeof ReleaseManifestSchema>;
export type SignedRelease = Static<typeof SignedReleaseSchema>;

const checkSigned = Compile(SignedReleaseSchema);
const checkManifest = Compile(AnyProductManifestSchema);

export type ReleaseRefusal = 'malformed' | 'unknown_key' | 'bad_signature' | 'wrong_product' | 'expired' | 'rollback' | 'node_unsupported';

export type ReleaseVerdict = { ok: true; manifest: ReleaseManifest } | { ok: false; reason: ReleaseRefusal; detail: string };

export interface VerifyReleaseOptions {
  /** The time to judge expiry by: the cloud's clock as the edge estimates it (SYNC-5). */
  now: number;
  /** Serial of the release running now; null when none is installed (first install). */
  installedSerial: number | null;
  /** REL-6: a signed rollback job names the one lower (or equal) serial it allows; nothing else lowers the serial. */
  allowDowngradeTo?: number;
}

/**
 * REL-5: why a file list cannot be installed as it stands, or null. Per platform, no two files may land on the same
 * path, and no file may sit under another file's path (`a` and `a/b`); the same path may appear once per platform
 * (a native module built for each). `release.json` at the top is reserved for the signed manifest itself.
 */
export function releasePathProblem(m: Pick<ReleaseManifest, 'files' | 'entry'>): string | null {
  const segmentsOk = (p: string) => p.split('/').every((s) => s !== '.' && s !== '..');
  for (const f of m.files) {
    if (!segmentsOk(f.path)) return `path ${JSON.stringify(f.path)} has a . or .. segment`;
    if (f.path === 'release.json') return 'path release.json is reserved for the signed manifest';
  }
  if (!segmentsOk(m.entry)) return `entry ${JSON.stringify(m.entry)} has a . or .. segment`;
  for (const platform of RELEASE_PLATFORMS) {
    const paths = new Set<string>();
    for (const f of releaseFilesFor(m, platform)) {
      if (paths.has(f.path)) return `path ${JSON.stringify(f.path)} is listed twice for ${platform}`;
      paths.add(f.path);
    }
    for (const p of paths) {
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (paths.has(dir)) return `path ${JSON.stringify(p)} lies under the file ${JSON.stringify(dir)} for ${platform}`;
      }
    }
    if (!paths.has(m.entry)) return `entry ${JSON.stringify(m.entry)} is not a listed file for ${platform}`;
  }
  return null;
}

/** The files a controller of `platform` installs: the common ones and its own. */
export function releaseFilesFor(m: Pick<ReleaseManifest, 'files'>, platform: ReleasePlatform): ReleaseFile[] {
  return m.files.filter((f) => f.platform === undefined || f.platform === platform);
}

/** REL-2: signs raw payload bytes. For tests and tools that must sign something other than a valid manifest. */
export function signReleaseBytes(payload: Uint8Array, key: SigningKey): SignedRelease {
  const sig = key.sign(Buffer.concat([RELEASE_TAG, payload]));
  return { kid: key.kid, payload: Buffer.from(payload).toString('base64'), sig: sig.toString('base64') };
}

/** REL-1/REL-2: serialises and signs a manifest; throws on a manifest a controller would refuse as malformed. */
export function signRelease(m: ReleaseManifest, key: SigningKey): SignedRelease {
  const problem = manifestProblem(m);
  if (problem) throw new TypeError(`not a valid release manifest: ${problem}`);
  return signReleaseBytes(Buffer.from(JSON.stringify(m)), key);
}

function manifestProblem(value: unknown): string | null {
  if (!checkManifest.Check(value)) {
    const first = [...checkManifest.Errors(value)][0];
    return first ? `${first.instancePath || '/'} ${first.message}` : 'invalid';
  }
  const m = value as Static<typeof AnyProductManifestSchema>;
  if (m.expiresAt <= m.createdAt) return 'expiresAt is not after createdAt';
  return releasePathProblem(m);
}

const refuse = (reason: ReleaseRefusal, detail: string): ReleaseVerdict => ({ ok: false, reason, detail });

/**
 * REL-3: verifies a signed release in this order — envelope shape (`malformed`), a trusted kid (`unknown_key`),
 * the signature (`bad_signature`), then, and only then, the manifest read from the signed bytes: its schema and
 * file paths (`malformed`), product (`wrong_product`), expiry (`expired`), serial (`rollback`). Accepts the
 * parsed object, its JSON text or its bytes. Never throws. The Node range is checked apart (nodeSupported):
 * where the release will run is the installer's knowledge, not the manifest's.
 */
export function verifyRelease(input: unknown, trusted: KeyRing, opts: VerifyReleaseOptions): ReleaseVerdict {
  let s: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const bytes = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
    if (bytes > MAX_SIGNED_RELEASE_BYTES) return refuse('malformed', 'signed release too large');
    try {
      s = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch {
      return refuse('malformed', 'signed release is not JSON');
    }
  }
  if (!checkSigned.Check(s)) return refuse('malformed', 'not a signed release {kid, payload, sig}');
  if (!trusted.has(s.kid)) return refuse('unknown_key', `release key ${s.kid} is not trusted`);
  const payload = Buffer.from(s.payload, 'base64');
  if (!trusted.verify(s.kid, Buffer.concat([RELEASE_TAG, payload]), Buffer.from(s.sig, 'base64')))
    return refuse('bad_signature', `signature does not verify under ${s.kid}`);

  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return refuse('malformed', 'manifest is not JSON');
  }
  const problem = manifestProblem(value);
  if (problem) return refuse('malformed', problem);
  const m = value as ReleaseManifest;
  if (m.product !== RELEASE_PRODUCT) return refuse('wrong_product', `release of ${JSON.stringify(m.product)}, not ${RELEASE_PRODUCT}`);
  if (opts.now >= m.expiresAt) return refuse('expired', `manifest expired at ${new Date(m.expiresAt).toISOString()}`);
  if (opts.installedSerial !== null && m.serial <= opts.installedSerial && opts.allowDowngradeTo !== m.serial)
    return refuse('rollback', `serial ${m.serial} is not above the installed ${opts.installedSerial}`);
  return { ok: true, manifest: m };
}

type Triple = [number, number, number];
interface Comparator {
  op: '>=' | '<=' | '>' | '<' | '=';
  v: Triple;
  /** How many parts were written: `=22` means any 22.x.y. */
  parts: number;
}

function cmp(a: Triple, b: Triple): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0) ? -1 : 1;
  return 0;
}

function satisfies(v: Triple, c: Comparator): boolean {
  const d = cmp(v, c.v);
  switch (c.op) {
    case '>=':
      return d >= 0;
    case '>':
      // `>22` means above every 22.x.y, as in npm's ranges.
      return c.parts < 3 ? v.slice(0, c.parts).some((x, i) => x !== c.v[i]) && d > 0 : d > 0;
    case '<':
      return d < 0;
    case '<=':
      return c.parts < 3 ? d <= 0 || v.slice(0, c.parts).every((x, i) => x === c.v[i]) : d <= 0;
    case '=':
      return v.slice(0, c.parts).every((x, i) => x === c.v[i]);
  }
}

/**
 * REL-7: whether a Node version (`process.versions.node`, `v` optional) satisfies a manifest's `node` range.
 * Only numeric comparators are understood (`>=22 <25`, `>=22.12 <23 || >=24`): enough for the majors a release
 * names; a range outside NodeRangeSchema is unsupported (false), never a guess.
 */
export function nodeSupported(range: string, nodeVersion: string): boolean {
  const vm = /^v?([0-9]+)\.([0-9]+)\.([0-9]+)/.exec(nodeVersion.trim());
  if (!vm || range.length > 100 || !NODE_RANGE_RE.test(range)) return false;
  const v: Triple = [Number(vm[1]), Number(vm[2]), Number(vm[3])];
  return range.split('||').some((set) =>
    set
      .trim()
      .split(/ +/)
      .every((text) => {
        const m = /^(>=|<=|>|<|=)?([0-9.]+)$/.exec(text);
        if (!m) return false;
        const nums = (m[2] ?? '').split('.').map(Number);
        const c: Comparator = { op: (m[1] ?? '=') as Comparator['op'], v: [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 0], parts: nums.length };
        return satisfies(v, c);
      }),
  );
}

/**
 * Orders two semantic versions (-1, 0, 1) by SemVer 2.0.0 precedence: a pre-release is below its release,
 * build metadata is ignored. For `minCloudVersion` and display; rollback protection uses the serial (REL-6).
 */
export function compareVersions(a: string, b: string): number {
  const parse = (s: string) => {
    const [core = '', pre] = s.split('+')[0]?.split(/-(.*)/s) ?? [];
    return { core: core.split('.').map(Number) as Triple, pre: pre ? pre.split('.') : [] };
  };
  const x = parse(a);
  const y = parse(b);
  const c = cmp(x.core, y.core);
  if (c !== 0) return c;
  if (!x.pre.length || !y.pre.length) return x.pre.length === y.pre.length ? 0 : x.pre.length ? -1 : 1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const pn = /^[0-9]+$/.test(p);
    const qn = /^[0-9]+$/.test(q);
    if (pn && qn) return Number(p) < Number(q) ? -1 : 1;
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/**
 * Where a release's file is fetched from: the release URL without its trailing `release.json`, then
 * `files/<path>` with each segment percent-encoded.
 */
export function releaseFileUrl(releaseUrl: string, path: string, platform?: ReleasePlatform): string {
  const base = releaseUrl.replace(/release\.json(?:[?#].*)?$/, '');
  const dir = base.endsWith('/') ? base : `${base}/`;
  // A path listed once per platform (a native helper built for each) is told apart by the platform.
  const query = platform ? `?platform=${platform}` : '';
  return `${dir}files/${path.split('/').map(encodeURIComponent).join('/')}${query}`;
}

export interface ReleaseFileChecker {
  /**
   * Feeds the next bytes of the file as they arrive. False once more bytes came than the manifest lists: the
   * caller stops the transfer there (REL-9, endless data) — the check does not wait for the end of the stream.
   */
  update(chunk: Uint8Array): boolean;
  /** After the last chunk: null when size and SHA-256 match the manifest (REL-8), else what does not. */
  done(): string | null;
}

/**
 * REL-8, REL-9: checks one downloaded file against its manifest entry while it streams (hash as you go, stop at
 * the listed size). A resumed download feeds the part already on disk first, then the rest.
 */
export function releaseFileChecker(file: ReleaseFile): ReleaseFileChecker {
  const hash = createHash('sha256');
  let seen = 0;
  let over = false;
  let digest: string | undefined;
  return {
    update(chunk) {
      if (over || digest !== undefined) return false;
      seen += chunk.length;
      if (seen > file.size) {
        over = true;
        return false;
      }
      hash.update(chunk);
      return true;
    },
    done() {
      if (over) return `${file.path}: more than the ${file.size} bytes the manifest lists`;
      if (seen !== file.size) return `${file.path}: ${seen} bytes, the manifest lists ${file.size}`;
      // A hash digests once; asking again gives the same answer.
      digest ??= hash.digest('hex');
      return digest === file.sha256 ? null : `${file.path}: SHA-256 ${digest} is not the manifest's ${file.sha256}`;
    },
  };
}
