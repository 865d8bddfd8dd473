/**
 * The Update Manager (issue 16): publishing signed edge releases (good, tampered, forged, expired) and their
 * files (checked against the manifest), controllers' resumable downloads (HTTP Range, their broker
 * credentials, only with a job for the release), and the permissions around them. The rollout engine is
 * in updates-rollout.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type ReleaseManifest, signingKey, signReleaseBytes } from '@gatehouse/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceJob } from '../src/modules/updates/service.js';
import { createOrgWithUser, type Login, seedTopology, startApp, type TestApp } from './helpers.js';
import { enrollGate, makeRelease, publish, type TestRelease, uploadAll } from './updates-fixture.js';

const releaseKey = signingKey(generateKeyPair().privateKey);
const otherKey = signingKey(generateKeyPair().privateKey);

let t: TestApp;
let dir: string;
let platform: Login;
let admin: Login;
let stranger: Login;
let topo: Awaited<ReturnType<typeof seedTopology>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-releases-'));
  t = await startApp({ updates: { releaseKeys: [releaseKey.publicKey], releasesDir: dir, tickS: 3600 } });
  platform = await createOrgWithUser(t.app, 'Platform operator', ['PlatformAdmin']);
  admin = await createOrgWithUser(t.app, 'Updates Org', ['OrgAdmin']);
  stranger = await createOrgWithUser(t.app, 'Other Org', ['OrgAdmin']);
  topo = await seedTopology(t.app, admin);
}, 120_000);

afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const post = (who: Login, url: string, payload: object) => t.app.inject({ method: 'POST', url, headers: who.auth, payload });

describe('publishing a release', () => {
  it('refuses a forged signature, a tampered manifest, an unknown key, an expired manifest, and an organisation admin', async () => {
    const rel = makeRelease(releaseKey, { version: '0.5.0', serial: 5 });
    const forged = { ...rel.signed, sig: Buffer.from(randomBytes(64)).toString('base64') };
    const r1 = await post(platform, '/api/admin/releases', { release: forged });
    expect(r1.statusCode, r1.body).toBe(422);
    expect(r1.json().error).toMatchObject({ code: 'release_refused' });
    expect(r1.json().error.message).toMatch(/^bad_signature:/);

    // The payload changed after signing (a file's checksum swapped): the signature no longer covers it.
    const m = JSON.parse(Buffer.from(rel.signed.payload, 'base64').toString()) as ReleaseManifest;
    m.files[0]!.sha256 = 'f'.repeat(64);
    const tampered = { ...rel.signed, payload: Buffer.from(JSON.stringify(m)).toString('base64') };
    const r2 = await post(platform, '/api/admin/releases', { release: tampered });
    expect(r2.statusCode).toBe(422);
    expect(r2.json().error.message).toMatch(/^bad_signature:/);

    const r3 = await post(platform, '/api/admin/releases', { release: makeRelease(otherKey, { version: '0.5.0', serial: 5 }).signed });
    expect(r3.statusCode).toBe(422);
    expect(r3.json().error.message).toMatch(/^unknown_key:/);

    const old = makeRelease(releaseKey, { version: '0.5.0', serial: 5, expiresAt: Date.now() - 1000, createdAt: Date.now() - 10_000 });
    const r4 = await post(platform, '/api/admin/releases', { release: old.signed });
    expect(r4.statusCode).toBe(422);
    expect(r4.json().error.message).toMatch(/^expired:/);

    const garbage = signReleaseBytes(Buffer.from('{"v":1}'), releaseKey);
    const r5 = await post(platform, '/api/admin/releases', { release: garbage });
    expect(r5.statusCode).toBe(422);
    expect(r5.json().error.message).toMatch(/^malformed:/);

    // Installation-wide: an organisation's own admin may roll releases out, not publish them.
    const r6 = await post(admin, '/api/admin/releases', { release: rel.signed });
    expect(r6.statusCode).toBe(403);
    const list = await t.app.inject({ method: 'GET', url: '/api/admin/releases', headers: admin.auth });
    expect(list.json().items).toHaveLength(0);
  });

  it('takes a good release, then each file only when it matches its SHA-256 and size; ready when all are in', async () => {
    const rel = makeRelease(releaseKey, { version: '0.2.0', serial: 2 });
    const created = await publish(t.app, platform, rel);
    expect(created).toMatchObject({
      version: '0.2.0',
      serial: 2,
      channel: 'stable',
      status: 'incomplete',
      files: rel.files.length,
      filesUploaded: 0,
    });

    const again = await post(platform, '/api/admin/releases', { release: rel.signed });
    expect(again.statusCode).toBe(409);

    const put = (path: string, body: Buffer) =>
      t.app.inject({
        method: 'PUT',
        url: `/api/admin/releases/${created.id}/files/${path}`,
        headers: { ...platform.auth, 'content-type': 'application/octet-stream' },
        payload: body,
      });
    const big = rel.files.find((f) => f.path === 'lib/blob.bin')!;
    const wrong = Buffer.from(big.content);
    wrong[10] = wrong[10]! ^ 0xff;
    const r1 = await put('lib/blob.bin', wrong);
    expect(r1.statusCode, r1.body).toBe(422);
    expect(r1.json().error.code).toBe('checksum_mismatch');
    const r2 = await put('lib/blob.bin', Buffer.concat([big.content, Buffer.from('more')]));
    expect(r2.statusCode).toBe(413);
    const r3 = await put('lib/not-listed.bin', big.content);
    expect(r3.statusCode).toBe(404);
    const orgAdminPut = await t.app.inject({
      method: 'PUT',
      url: `/api/admin/releases/${created.id}/files/lib/blob.bin`,
      headers: { ...admin.auth, 'content-type': 'application/octet-stream' },
      payload: big.content,
    });
    expect(orgAdminPut.statusCode).toBe(403);

    const ready = await uploadAll(t.app, platform, created.id, rel);
    expect(ready).toMatchObject({ status: 'ready', filesUploaded: rel.files.length, missing: [] });
    const got = await t.app.inject({ method: 'GET', url: `/api/admin/releases/${created.id}`, headers: admin.auth });
    expect(got.json()).toMatchObject({ status: 'ready', version: '0.2.0' });
    const audit = await t.app.inject({ method: 'GET', url: '/api/admin/audit-logs?limit=50', headers: platform.auth });
    expect((audit.json() as { items: { action: string }[] }).items.map((a) => a.action)).toEqual(
      expect.arrayContaining(['release.publish', 'release.ready']),
    );
  });
});

describe('controllers download a release', () => {
  let rel: TestRelease;
  let releaseId: string;
  let canary: { deviceId: string; password: string };
  let other: { deviceId: string; password: string };
  let foreign: { deviceId: string; password: string };

  beforeAll(async () => {
    rel = makeRelease(releaseKey, { version: '0.3.0', serial: 3 });
    releaseId = (await publish(t.app, platform, rel)).id;
    await uploadAll(t.app, platform, releaseId, rel);
    canary = await enrollGate(t.app, admin, topo.gate.id);
    other = await enrollGate(t.app, admin, topo.serverGate.id);
    const strangerTopo = await seedTopology(t.app, stranger);
    foreign = await enrollGate(t.app, stranger, strangerTopo.gate.id);
    // Only the canary's batch starts; the stranger's controller has no job at all.
    const job = await post(admin, '/api/admin/updates/jobs', {
      releaseId,
      scope: [topo.site.id],
      strategy: { canaryGateIds: [topo.gate.id], batchSize: 1 },
      startAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(job.statusCode, job.body).toBe(201);
    await advanceJob(t.app.ctx, admin.orgId, job.json().id, new Date(Date.now() + 3601_000));
  });

  const basic = (d: { deviceId: string; password: string }) => ({
    authorization: `Basic ${Buffer.from(`${d.deviceId}:${d.password}`).toString('base64')}`,
  });
  const get = (url: string, headers: Record<string, string>) => t.app.inject({ method: 'GET', url, headers });

  it('serves the signed release.json and the files with Range to a controller with a job for it', async () => {
    const m = await get(`/api/edge/releases/${releaseId}/release.json`, basic(canary));
    expect(m.statusCode, m.body).toBe(200);
    expect(m.json()).toEqual(rel.signed);

    const blob = rel.files.find((f) => f.path === 'lib/blob.bin')!.content;
    const url = `/api/edge/releases/${releaseId}/files/lib/blob.bin`;
    const whole = await get(url, basic(canary));
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.rawPayload.equals(blob)).toBe(true);

    // An interrupted download resumes where it stopped: the two parts make the file.
    const first = await get(url, { ...basic(canary), range: 'bytes=0-99999' });
    expect(first.statusCode).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-99999/${blob.length}`);
    const rest = await get(url, { ...basic(canary), range: 'bytes=100000-', 'if-range': `"${sha(blob)}"` });
    expect(rest.statusCode).toBe(206);
    expect(rest.headers['content-range']).toBe(`bytes 100000-${blob.length - 1}/${blob.length}`);
    const joined = Buffer.concat([first.rawPayload, rest.rawPayload]);
    expect(sha(joined)).toBe(sha(blob));

    const tail = await get(url, { ...basic(canary), range: 'bytes=-10' });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload.equals(blob.subarray(blob.length - 10))).toBe(true);

    const beyond = await get(url, { ...basic(canary), range: `bytes=${blob.length}-` });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${blob.length}`);

    const entry = await get(`/api/edge/releases/${releaseId}/files/agent/gatehouse-edge.mjs`, basic(canary));
    expect(entry.statusCode).toBe(200);
    expect(entry.body).toBe(rel.files.find((f) => f.path === 'agent/gatehouse-edge.mjs')!.content.toString());
    const unlisted = await get(`/api/edge/releases/${releaseId}/files/etc/passwd`, basic(canary));
    expect(unlisted.statusCode).toBe(404);
  });

  it('refuses wrong credentials (401), a controller without a dispatched job and another organisation’s (404)', async () => {
    const url = `/api/edge/releases/${releaseId}/release.json`;
    expect((await get(url, {})).statusCode).toBe(401);
    expect((await get(url, basic({ ...canary, password: `${canary.password}x` }))).statusCode).toBe(401);
    expect((await get(url, basic({ deviceId: 'gw-nobody', password: 'x' }))).statusCode).toBe(401);
    // In the job, but its batch has not started: nothing to fetch yet.
    expect((await get(url, basic(other))).statusCode).toBe(404);
    expect((await get(url, basic(foreign))).statusCode).toBe(404);
    expect((await get(`/api/edge/releases/${releaseId}/files/lib/blob.bin`, basic(foreign))).statusCode).toBe(404);
    // An admin's token is not a controller's credential.
    expect((await get(url, admin.auth)).statusCode).toBe(401);
  });
});

describe('a release for a newer cloud', () => {
  it('is published, but not rolled out by a cloud older than its minCloudVersion', async () => {
    const rel = makeRelease(releaseKey, { version: '0.6.0', serial: 6, minCloudVersion: '99.0.0' });
    const { id } = await publish(t.app, platform, rel);
    await uploadAll(t.app, platform, id, rel);
    const r = await post(admin, '/api/admin/updates/jobs', { releaseId: id, scope: 'fleet' });
    expect(r.statusCode, r.body).toBe(409);
    expect(r.json().error.message).toMatch(/needs cloud 99\.0\.0 or later/);
  });
});

describe('permissions', () => {
  it('reading needs updates:read, acting updates:manage; another organisation’s job is not found', async () => {
    const { addUser } = await import('./helpers.js');
    const operator = await addUser(t.app, admin.orgId, ['Operator']);
    const officer = await addUser(t.app, admin.orgId, ['SecurityOfficer']);
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/updates/jobs', headers: operator.auth })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/updates/jobs', headers: officer.auth })).statusCode).toBe(200);
    expect((await post(officer, '/api/admin/updates/jobs', { releaseId: topo.site.id, scope: 'fleet' })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/releases', headers: officer.auth })).statusCode).toBe(200);

    const jobs = await t.app.inject({ method: 'GET', url: '/api/admin/updates/jobs', headers: admin.auth });
    const id = (jobs.json() as { items: { id: string }[] }).items[0]!.id;
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/updates/jobs/${id}`, headers: stranger.auth })).statusCode).toBe(404);
    expect((await post(stranger, `/api/admin/updates/jobs/${id}/pause`, {})).statusCode).toBe(404);
    expect((await post(stranger, `/api/admin/updates/jobs/${id}/cancel`, {})).statusCode).toBe(404);
    const theirs = await t.app.inject({ method: 'GET', url: '/api/admin/updates/jobs', headers: stranger.auth });
    expect((theirs.json() as { items: unknown[] }).items).toHaveLength(0);
  });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
