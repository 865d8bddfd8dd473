/** What the end-to-end tests share: waiting, free ports, and an edge enrolled to a gate as a controller would be. */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import type { App } from '../cloud-api/src/app.js';
import type { Login } from '../cloud-api/test/helpers.js';
import { loadConfig } from '../edge-agent/src/config.js';
import { Daemon } from '../edge-agent/src/daemon.js';
import { enroll } from '../edge-agent/src/sync/enroll.js';

export async function until<T>(fn: () => T | Promise<T>, what: string, ms = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * Enrolls a simulated controller for `gateId` through the cloud at `baseUrl`
 * (one-time code from the admin API, then `gatehouse-edge enroll`), starts its
 * daemon in-process and returns it with its config path.
 */
export async function enrolledEdge(
  app: App,
  baseUrl: string,
  admin: Login,
  gateId: string,
  dataDir: string,
  extra: Record<string, unknown> = {},
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
  const daemon = new Daemon(loadConfig(configPath), pino({ level: 'silent' }));
  await daemon.start();
  return { daemon, configPath, code };
}
