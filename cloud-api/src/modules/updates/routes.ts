import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { actorOf } from '../../lib/audit.js';
import { IdParams, Page } from '../../lib/pagination.js';
import {
  authorizeDownload,
  downloadKey,
  getRelease,
  listReleases,
  publishRelease,
  releaseFileFor,
  sendRanged,
  uploadReleaseFile,
} from './releases.js';
import {
  Available,
  Job,
  JobBody,
  JobDetail,
  JobList,
  LogLines,
  LogQuery,
  MaintenanceWindow,
  MaintenanceWindowBody,
  MaintenanceWindows,
  PlatformQuery,
  PostponeBody,
  PublishBody,
  Release,
  ReleaseFileParams,
  ReleaseList,
  SignedRelease,
  SiteParams,
} from './schema.js';
import {
  availableUpdates,
  cancelJob,
  checkNow,
  createJob,
  defineUpdateQueues,
  getJob,
  jobLogs,
  listJobs,
  listMaintenanceWindows,
  pauseJob,
  postponeJob,
  resumeJob,
  setMaintenanceWindow,
} from './service.js';

/** Releases and rollouts, under /api/admin. */
export const updateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  await defineUpdateQueues(ctx);
  const tags = ['updates'];
  // A release file arrives as the raw request body, streamed to disk by the handler (never buffered here).
  app.addContentTypeParser('application/octet-stream', (_req, _payload, done) => done(null, undefined));

  app.post(
    '/releases',
    {
      config: {
        permission: 'releases:publish',
        errors: {
          409: 'a release of this serial or version is published already',
          422: '`release_refused`: not signed by a trusted release key, expired, wrong product or malformed (the reason first)',
          503: 'the server keeps no release files (no data directory, no RELEASES_DIR)',
        },
      },
      schema: {
        tags,
        summary: 'Publish a signed edge release (installation-wide); then upload each listed file',
        description:
          'The signature is checked against the server’s trusted release keys (RELEASE_KEYS), never an organisation key. The release is `incomplete` until every file of its manifest has been uploaded with PUT /releases/{id}/files/{path}.',
        body: PublishBody,
        response: { 201: Release },
      },
    },
    async (req, reply) => reply.code(201).send(await publishRelease(ctx, actorOf(req), req.body.release)),
  );
  app.put(
    '/releases/:id/files/*',
    {
      config: {
        permission: 'releases:publish',
        errors: {
          404: 'no such release, or the manifest lists no file at this path',
          413: 'longer than the manifest says',
          422: '`checksum_mismatch`: size or SHA-256 differ from the manifest',
        },
      },
      schema: {
        tags,
        summary: 'Upload one file of a published release (Content-Type: application/octet-stream), checked against its SHA-256',
        params: ReleaseFileParams,
        querystring: PlatformQuery,
        response: { 200: Release },
      },
      bodyLimit: 1024 * 1024 * 1024,
    },
    async (req) => uploadReleaseFile(ctx, actorOf(req), req.params.id, req.params['*'], req.query.platform, req.raw),
  );
  app.get(
    '/releases',
    {
      config: { permission: 'updates:read' },
      schema: { tags, summary: 'Published edge releases, newest first', querystring: ReleaseList, response: { 200: Page(Release) } },
    },
    async (req) => listReleases(ctx, req.query),
  );
  app.get(
    '/releases/:id',
    { config: { permission: 'updates:read' }, schema: { tags, summary: 'One release', params: IdParams, response: { 200: Release } } },
    async (req) => getRelease(ctx, req.params.id),
  );

  app.get(
    '/updates/available',
    {
      config: { permission: 'updates:read' },
      schema: {
        tags,
        summary: 'Releases newer than what this organisation’s gates run (the nightly check’s notices)',
        response: { 200: Available },
      },
    },
    async (req) => availableUpdates(ctx, req.principal!.orgId),
  );
  app.post(
    '/updates/check',
    {
      config: { permission: 'updates:manage' },
      schema: { tags, summary: 'Check for a newer release now (“Check”); nothing is rolled out', response: { 200: Available } },
    },
    async (req) => checkNow(ctx, actorOf(req)),
  );

  app.post(
    '/updates/jobs',
    {
      config: {
        permission: 'updates:manage',
        errors: {
          404: 'no such release or site',
          409: 'the release is not ready (files missing), has expired, or needs a newer cloud (minCloudVersion)',
          422: 'no enrolled gate in scope; a canary gate not in scope',
        },
      },
      schema: {
        tags,
        summary: 'Roll a release out (“Update”): canary gates first, then batches, in each site’s maintenance window',
        body: JobBody,
        response: { 201: Job },
      },
    },
    async (req, reply) => reply.code(201).send(await createJob(ctx, actorOf(req), req.body)),
  );
  app.get(
    '/updates/jobs',
    {
      config: { permission: 'updates:read' },
      schema: { tags, summary: 'Rollouts, newest first', querystring: JobList, response: { 200: Page(Job) } },
    },
    async (req) => listJobs(ctx, req.principal!.orgId, req.query),
  );
  app.get(
    '/updates/jobs/:id',
    {
      config: { permission: 'updates:read' },
      schema: { tags, summary: 'A rollout with every gate’s state', params: IdParams, response: { 200: JobDetail } },
    },
    async (req) => getJob(ctx, req.principal!.orgId, req.params.id),
  );
  app.get(
    '/updates/jobs/:id/logs',
    {
      config: { permission: 'updates:read' },
      schema: {
        tags,
        summary: 'The rollout’s log: its own lines and each gate’s (the controller’s lines start with "edge:")',
        params: IdParams,
        querystring: LogQuery,
        response: { 200: LogLines },
      },
    },
    async (req) => jobLogs(ctx, req.principal!.orgId, req.params.id, req.query),
  );
  const action = (path: string, summary: string, run: (id: string, req: Parameters<typeof actorOf>[0]) => Promise<unknown>) =>
    app.post(
      `/updates/jobs/:id/${path}`,
      {
        config: { permission: 'updates:manage', errors: { 409: 'the job is not in a state this applies to' } },
        schema: { tags, summary, params: IdParams, response: { 200: Job } },
      },
      async (req) => run(req.params.id, req) as never,
    );
  action('pause', 'Pause: no new gate starts; gates already updating finish', (id, req) => pauseJob(ctx, actorOf(req), id));
  action('resume', 'Resume a paused rollout', (id, req) => resumeJob(ctx, actorOf(req), id));
  action('cancel', 'Cancel: gates not started stay on their version; gates updating finish', (id, req) => cancelJob(ctx, actorOf(req), id));
  app.post(
    '/updates/jobs/:id/postpone',
    {
      config: {
        permission: 'updates:manage',
        errors: { 409: 'the job is finished, or a gate has started already', 422: 'until is not in the future' },
      },
      schema: {
        tags,
        summary: 'Postpone (“Postpone”) the rollout, or only some gates not started yet, until a time',
        params: IdParams,
        body: PostponeBody,
        response: { 200: Job },
      },
    },
    async (req) => postponeJob(ctx, actorOf(req), req.params.id, req.body),
  );

  app.get(
    '/updates/maintenance-windows',
    {
      config: { permission: 'updates:read' },
      schema: { tags, summary: 'Each site’s maintenance window (local time in its time zone)', response: { 200: MaintenanceWindows } },
    },
    async (req) => listMaintenanceWindows(ctx, req.principal!.orgId),
  );
  app.put(
    '/updates/maintenance-windows/:siteId',
    {
      config: { permission: 'updates:manage' },
      schema: {
        tags,
        summary: 'Set (or clear, with null) when updates may start at a site',
        params: SiteParams,
        body: MaintenanceWindowBody,
        response: { 200: MaintenanceWindow },
      },
    },
    async (req) => setMaintenanceWindow(ctx, actorOf(req), req.params.siteId, req.body.window),
  );
};

const DownloadParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const DownloadFileParams = Type.Object({ id: Type.String({ maxLength: 64 }), '*': Type.String({ minLength: 1, maxLength: 255 }) });
/** Per controller: a release of a few thousand files fetched in a minute, resumed a few times. */
const downloadLimit = { max: 6000, timeWindow: 60_000, keyGenerator: downloadKey };
const downloadErrors = {
  401: 'no or wrong device credentials (HTTP Basic: device id and broker password)',
  404: 'no such release or file, or this controller has no update job for it',
  416: 'the range lies outside the file',
};

/** What controllers download, under /api/edge: their broker credentials, and only a release they have a job for. */
export const releaseDownloadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['edge'];
  app.get(
    '/releases/:id/release.json',
    {
      config: { rateLimit: downloadLimit, errors: downloadErrors },
      schema: {
        tags,
        summary: 'The signed release.json of a release this controller is to install (it verifies it itself, REL-3)',
        params: DownloadParams,
        response: { 200: SignedRelease },
      },
    },
    async (req, reply) => {
      const pkg = await authorizeDownload(ctx, req, req.params.id);
      return reply.header('cache-control', 'private, max-age=0').send(pkg.signed);
    },
  );
  app.get(
    '/releases/:id/files/*',
    {
      config: { rateLimit: downloadLimit, errors: downloadErrors },
      schema: {
        tags,
        summary: 'One file of the release, with HTTP Range (206) for resumption',
        params: DownloadFileParams,
        querystring: PlatformQuery,
        response: {
          200: { description: 'The whole file', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } },
          206: {
            description: 'The range asked for (Content-Range)',
            content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
          },
        },
      },
    },
    async (req, reply) => {
      const pkg = await authorizeDownload(ctx, req, req.params.id);
      const file = await releaseFileFor(ctx, pkg, req.params['*'], req.query.platform);
      return sendRanged(ctx, req, reply, pkg, file);
    },
  );
};
