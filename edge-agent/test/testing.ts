/**
 * The edge's test support for other packages' tests, benches and scripts:
 * `@gatehouse/edge-agent/testing`, which resolves only under the `source`
 * export condition (vitest, `tsx --conditions=source`), never in a build.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../src/config.js';
import { Daemon } from '../src/daemon.js';
import { enroll } from '../src/sync/enroll.js';

export { runWiegandLoad, type WiegandLoadOptions, type WiegandLoadResult } from './gpio-load.js';
export { memoryWire, SimBus, SimPd, type SimPdOptions } from './osdp-pd.js';
export {
  agentBundle,
  buildRelease,
  installFirst,
  linkNodeModules,
  type ReleaseKey,
  type ReleaseServer,
  releaseKey,
  serveReleases,
  type TestRelease,
} from './release-fixture.js';
export { currentEntry, type Start, Supervisor, type SupervisorOptions } from './supervisor.js';
export { tempDir } from './tmp.js';
export { type MiniCloud, startMiniCloud } from './update-cloud.js';
export { type GapResult, runUpdateGap } from './update-gap.js';

/** What enrolledEdge needs of the cloud: its admin API in-process (the Fastify app's `inject`). */
export interface CloudAdminApi {
  inject(req: {
    method: 'POST';
    url: string;
    headers: Record<string, string>;
  }): Promise<{ statusCode: number; body: string; json(): unknown }>;
}

/**
 * Enrolls a simulated controller for `gateId` through the cloud at `baseUrl`
 * (one-time code from the admin API, then `gatehouse-edge enroll`), starts its
 * daemon in-process (silent unless given a logger) and returns it with its config path.
 */
export async function enrolledEdge(
  app: CloudAdminApi,
  baseUrl: string,
  admin: { auth: Record<string, string> },
  gateId: string,
  dataDir: string,
  extra: Record<string, unknown> = {},
  opts: { log?: Logger } = {},
): Promise<{ daemon: Daemon; configPath: string; code: string }> {
  const r = await app.inject({ method: 'POST', url: `/api/admin/gates/${gateId}/enrollment`, headers: admin.auth });
  if (r.statusCode !== 201 && r.statusCode !== 200) throw new Error(`enrollment code: ${r.statusCode} ${r.body}`);
  const { code } = r.json() as { code: string };
  const configPath = join(dataDir, 'edge.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir,
      localPort: 0,
      readers: [{ type: 'simulated', name: 'sim', direction: 'in' }],
      relay: { type: 'simulated', pulseMs: 20 },
      ...extra,
    }),
  );
  await enroll({ cloud: baseUrl, code, configPath });
  const daemon = new Daemon(loadConfig(configPath), opts.log ?? pino({ level: 'silent' }));
  await daemon.start();
  return { daemon, configPath, code };
}
