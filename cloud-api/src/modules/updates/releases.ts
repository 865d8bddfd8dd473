/**
 * Edge releases in the cloud: a platform operator publishes the signed release.json (REL-1..REL-3), the cloud
 * verifies it against its trusted release keys and refuses anything else, then takes each listed file by PUT,
 * streamed to disk and checked against the manifest's SHA-256 and size; the release is `ready` once every file
 * is there. Controllers download the same signed release.json and the files (HTTP Range, resumable) with their
 * broker credentials, and only while they have a job for that release.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeyRing, type ReleaseManifest, type SignedRelease, uuidv7, verifyRelease } from '@gatehouse/protocol';
import { and, asc, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Executor } from '../../db/client.js';
import { gates, updateJobGates, updateJobs, updatePackageFiles, updatePackages } from '../../db/schema.js';
import { type Actor, writeAudit } from '../../lib/audit.js';
import { conflict, HttpError, notFound, unauthorized } from '../../lib/errors.js';
import { decodeCursor, iso, page, pageLimit } from '../../lib/pagination.js';
import { verifyBrokerPassword } from '../../mqtt/broker-credentials.js';

type PackageRow = typeof updatePackages.$inferSelect;
type FileRow = typeof updatePackageFiles.$inferSelect;

/** The trusted release keys of the config, as a key ring (built once per key list). */
const rings = new WeakMap<readonly string[], KeyRing>();
export function releaseKeyRing(ctx: AppContext): KeyRing {
  const keys = ctx.config.updates.releaseKeys;
  let ring = rings.get(keys);
  if (!ring) {
    ring = new KeyRing(keys);
    rings.set(keys, ring);
  }
  return ring;
}

function releasesDir(ctx: AppContext): string {
  const dir = ctx.config.updates.releasesDir;
  if (!dir) throw new HttpError(503, 'releases_unavailable', 'this server keeps no release files (no data directory; set RELEASES_DIR)');
  return dir;
}

const fileOnDisk = (ctx: AppContext, packageId: string, sha256: string) => join(releasesDir(ctx), packageId, sha256);

export const releaseView = (r: PackageRow, files: FileRow[]) => ({
  id: r.id,
  version: r.version,
  serial: r.serial,
  channel: r.channel,
  kid: r.kid,
  notes: r.notes,
  status: r.status,
  minCloudVersion: String((r.manifest as Partial<ReleaseManifest>).minCloudVersion ?? ''),
  node: String((r.manifest as Partial<ReleaseManifest>).node ?? ''),
  totalBytes: r.totalBytes,
  files: files.length,
  filesUploaded: files.filter((f) => f.uploadedAt !== null).length,
  /** Files still to upload, at most 100 (path and platform), so a publisher's script knows what is left. */
  missing: files
    .filter((f) => f.uploadedAt === null)
    .slice(0, 100)
    .map((f) => ({ path: f.path, platform: f.platform, size: f.size, sha256: f.sha256 })),
  expiresAt: r.expiresAt.toISOString(),
  publishedAt: iso(r.publishedAt),
  createdAt: r.createdAt.toISOString(),
});
export type ReleaseView = ReturnType<typeof releaseView>;

async function filesOf(db: Executor, packageId: string): Promise<FileRow[]> {
  return db.select().from(updatePackageFiles).where(eq(updatePackageFiles.packageId, packageId)).orderBy(asc(updatePackageFiles.idx));
}

export async function requireRelease(db: Executor, id: string): Promise<PackageRow> {
  const [row] = await db.select().from(updatePackages).where(eq(updatePackages.id, id));
  if (!row) throw notFound('release');
  return row;
}

/**
 * REL-3 at the door: the signed release must verify under a trusted release key, name this product, be
 * unexpired and well formed; its serial and version must be new here. Refused with 422 `release_refused`
 * (the reason first: `bad_signature: …`), 409 for a serial or version published already.
 */
export async function publishRelease(ctx: AppContext, actor: Actor, signed: SignedRelease) {
  releasesDir(ctx);
  const verdict = verifyRelease(signed, releaseKeyRing(ctx), { now: Date.now(), installedSerial: null });
  if (!verdict.ok) throw new HttpError(422, 'release_refused', `${verdict.reason}: ${verdict.detail}`);
  const m = verdict.manifest;
  const id = uuidv7();
  const row = await ctx.db.transaction(async (tx) => {
    const [clash] = await tx
      .select({ version: updatePackages.version, serial: updatePackages.serial })
      .from(updatePackages)
      .where(sql`${updatePackages.serial} = ${m.serial} or ${updatePackages.version} = ${m.version}`);
    if (clash) throw conflict(`release ${clash.version} (serial ${clash.serial}) is published already`);
    const [pkg] = await tx
      .insert(updatePackages)
      .values({
        id,
        version: m.version,
        serial: m.serial,
        channel: m.channel,
        kid: signed.kid,
        signed: { kid: signed.kid, payload: signed.payload, sig: signed.sig },
        manifest: m as unknown as Record<string, unknown>,
        notes: m.notes ?? null,
        status: 'incomplete',
        totalBytes: m.files.reduce((n, f) => n + f.size, 0),
        expiresAt: new Date(m.expiresAt),
        publisherOrgId: actor.orgId,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      })
      .returning();
    // Large file lists go in slices: one statement's parameters are bounded.
    for (let i = 0; i < m.files.length; i += 1000)
      await tx.insert(updatePackageFiles).values(
        m.files.slice(i, i + 1000).map((f, j) => ({
          packageId: id,
          idx: i + j,
          path: f.path,
          platform: f.platform ?? null,
          sha256: f.sha256,
          size: f.size,
        })),
      );
    await writeAudit(tx, actor, {
      action: 'release.publish',
      entityType: 'release',
      entityId: id,
      data: { version: m.version, serial: m.serial, channel: m.channel, kid: signed.kid, files: m.files.length },
    });
    return pkg!;
  });
  await mkdir(join(releasesDir(ctx), id), { recursive: true });
  return releaseView(row, await filesOf(ctx.db, id));
}

/**
 * One file of a published release, streamed from `body` to a temporary file while hashed, kept (named by its
 * SHA-256) only when it matches a listed file of that path (and platform, when given) byte for byte in size
 * and digest. The same content listed for two platforms is stored once. Answers the release as it stands.
 */
export async function uploadReleaseFile(
  ctx: AppContext,
  actor: Actor,
  id: string,
  path: string,
  platform: string | undefined,
  body: Readable,
) {
  const pkg = await requireRelease(ctx.db, id);
  const candidates = (
    await ctx.db
      .select()
      .from(updatePackageFiles)
      .where(and(eq(updatePackageFiles.packageId, id), eq(updatePackageFiles.path, path)))
  ).filter((f) => platform === undefined || f.platform === platform || f.platform === null);
  if (candidates.length === 0) {
    body.resume();
    throw notFound(`file ${JSON.stringify(path)} in release ${pkg.version}`);
  }
  const limit = Math.max(...candidates.map((f) => f.size));
  const dir = join(releasesDir(ctx), id);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.upload-${randomUUID()}`);
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          size += chunk.length;
          // Endless data: nothing longer than the manifest says is read on.
          if (size > limit) throw new HttpError(413, 'too_large', `file is larger than the ${limit} bytes the manifest lists`);
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(tmp, { mode: 0o644 }),
    );
    const digest = hash.digest('hex');
    const matched = candidates.filter((f) => f.sha256 === digest && f.size === size);
    if (matched.length === 0)
      throw new HttpError(422, 'checksum_mismatch', `${path}: ${size} bytes with SHA-256 ${digest} match no file the manifest lists`);
    await rename(tmp, join(dir, digest));
    const now = new Date();
    return await ctx.db.transaction(async (tx) => {
      await tx
        .update(updatePackageFiles)
        .set({ uploadedAt: now })
        .where(and(eq(updatePackageFiles.packageId, id), eq(updatePackageFiles.path, path), eq(updatePackageFiles.sha256, digest)));
      const [left] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(updatePackageFiles)
        .where(and(eq(updatePackageFiles.packageId, id), isNull(updatePackageFiles.uploadedAt)));
      let row = pkg;
      if (Number(left?.n ?? 0) === 0 && pkg.status !== 'ready') {
        [row] = (await tx
          .update(updatePackages)
          .set({ status: 'ready', publishedAt: now, updatedAt: now, updatedBy: actor.userId })
          .where(eq(updatePackages.id, id))
          .returning()) as [PackageRow];
        await writeAudit(tx, actor, { action: 'release.ready', entityType: 'release', entityId: id, data: { version: pkg.version } });
      }
      return releaseView(row, await filesOf(tx, id));
    });
  } finally {
    await rm(tmp, { force: true });
  }
}

export async function listReleases(ctx: AppContext, q: { limit?: number; cursor?: string; channel?: 'stable' | 'beta' }) {
  const limit = q.limit ?? 50;
  const cursor = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(updatePackages)
    .where(and(q.channel ? eq(updatePackages.channel, q.channel) : undefined, cursor ? lt(updatePackages.id, cursor) : undefined))
    .orderBy(desc(updatePackages.id))
    .limit(pageLimit(limit + 1));
  const files = rows.length
    ? await ctx.db
        .select()
        .from(updatePackageFiles)
        .where(
          inArray(
            updatePackageFiles.packageId,
            rows.map((r) => r.id),
          ),
        )
    : [];
  return page(
    rows.map((r) =>
      releaseView(
        r,
        files.filter((f) => f.packageId === r.id),
      ),
    ),
    limit,
  );
}

export async function getRelease(ctx: AppContext, id: string) {
  const row = await requireRelease(ctx.db, id);
  return releaseView(row, await filesOf(ctx.db, id));
}

// ---- controllers' downloads ----

/** States of a gate's row in which its controller may still fetch the release. */
const FETCHING = ['pending', 'downloading', 'verifying', 'installing', 'restarting', 'checking_health'] as const;

function basicCredentials(req: FastifyRequest): { user: string; pass: string } | null {
  const h = req.headers.authorization;
  if (!h?.startsWith('Basic ')) return null;
  const text = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i > 0 ? { user: text.slice(0, i), pass: text.slice(i + 1) } : null;
}

/** The device id a download request names (for its rate limit), before it is checked. */
export const downloadKey = (req: FastifyRequest) => {
  const c = basicCredentials(req);
  return c ? `device:${c.user.slice(0, 100)}` : `ip:${req.ip}`;
};

/**
 * The controller of these Basic credentials (its device id and broker password, checked as the broker checks
 * them), and 404 unless it has a dispatched, unfinished job for this release: a release is not a public file.
 */
export async function authorizeDownload(ctx: AppContext, req: FastifyRequest, packageId: string): Promise<PackageRow> {
  const creds = basicCredentials(req);
  const refuse = () => unauthorized('device credentials required (HTTP Basic: device id and broker password)');
  if (!creds) throw refuse();
  const [g] = await ctx.db
    .select({ id: gates.id, orgId: gates.orgId, hash: gates.deviceSecretHash })
    .from(gates)
    .where(and(eq(gates.deviceId, creds.user), isNull(gates.deletedAt), isNull(gates.disabledAt)));
  if (!g?.hash || !verifyBrokerPassword(creds.pass, g.hash)) throw refuse();
  if (!/^[0-9a-f-]{36}$/i.test(packageId)) throw notFound('release');
  const [job] = await ctx.db
    .select({ id: updateJobGates.id })
    .from(updateJobGates)
    .innerJoin(updateJobs, and(eq(updateJobs.id, updateJobGates.jobId), eq(updateJobs.orgId, g.orgId)))
    .where(
      and(
        eq(updateJobGates.orgId, g.orgId),
        eq(updateJobGates.gateId, g.id),
        eq(updateJobs.packageId, packageId),
        inArray(updateJobGates.state, [...FETCHING]),
        sql`${updateJobGates.commandId} is not null`,
      ),
    )
    .limit(1);
  if (!job) throw notFound('release');
  return requireRelease(ctx.db, packageId);
}

/** The file a controller asks for by path (and platform, when the path is listed once per platform). */
export async function releaseFileFor(ctx: AppContext, pkg: PackageRow, path: string, platform: string | undefined): Promise<FileRow> {
  const rows = (
    await ctx.db
      .select()
      .from(updatePackageFiles)
      .where(and(eq(updatePackageFiles.packageId, pkg.id), eq(updatePackageFiles.path, path)))
  ).filter((f) => platform === undefined || f.platform === null || f.platform === platform);
  const distinct = new Set(rows.map((f) => f.sha256));
  if (rows.length === 0) throw notFound('file');
  if (distinct.size > 1) throw conflict(`${path} differs per platform: ask with ?platform=linux-x64 or linux-arm64`);
  const f = rows[0]!;
  if (!f.uploadedAt) throw notFound('file');
  return f;
}

/**
 * Streams a file with single-range support (RFC 9110): 200 whole, 206 with Content-Range for `bytes=a-b`,
 * `bytes=a-` or `bytes=-n`, 416 with `Content-Range: bytes *\/size` for a range outside the file. A range
 * list or another unit is answered with the whole file, as the RFC allows. Never buffered.
 */
export async function sendRanged(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, pkg: PackageRow, f: FileRow) {
  const path = fileOnDisk(ctx, pkg.id, f.sha256);
  const size = (await stat(path)).size;
  const etag = `"${f.sha256}"`;
  reply.header('accept-ranges', 'bytes').header('etag', etag).header('content-type', 'application/octet-stream');
  reply.header('cache-control', 'private, max-age=0');
  const range = req.headers.range;
  const ifRange = req.headers['if-range'];
  const m = range && (!ifRange || ifRange === etag) ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
  if (m && (m[1] !== '' || m[2] !== '')) {
    let start: number;
    let end: number;
    if (m[1] === '') {
      const n = Number(m[2]);
      start = Math.max(0, size - n);
      end = size - 1;
    } else {
      start = Number(m[1]);
      end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    }
    if (start >= size || end < start || (m[1] === '' && Number(m[2]) === 0)) {
      reply.removeHeader('content-type');
      throw new HttpError(416, 'range_not_satisfiable', `the file has ${size} bytes`, { 'content-range': `bytes */${size}` });
    }
    reply
      .code(206)
      .header('content-range', `bytes ${start}-${end}/${size}`)
      .header('content-length', end - start + 1);
    return reply.send(createReadStream(path, { start, end }));
  }
  reply.code(200).header('content-length', size);
  return reply.send(createReadStream(path));
}
