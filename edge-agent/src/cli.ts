#!/usr/bin/env node
/**
 * gatehouse-edge run | status | scan <text> | seed --file F | enroll
 * Exit codes: 0 ok, 1 runtime failure, 2 usage, 78 bad config (EX_CONFIG).
 */
import { parseArgs } from 'node:util';
import { keyFingerprint } from '@gatehouse/protocol';
import { pino } from 'pino';
import { ConfigError, configPath, type EdgeConfig, loadConfig } from './config.js';
import { Daemon, dbPath } from './daemon.js';
import { readLocalToken } from './local-token.js';
import { applySeed, loadSeedFile, SeedError } from './seed.js';
import { EdgeStore } from './store/index.js';
import { enroll } from './sync/enroll.js';
import { bootGuardMain } from './update/boot-guard.js';

const USAGE = `usage: gatehouse-edge <command> [--config FILE]
  run                 the daemon
  status              cache seq, outbox depth, link state, last decisions
  scan <text>         feed text to the running daemon's simulated reader
  seed --file F       load a JSON snapshot {site, gates, zones, rules, passes, gateId, orgPublicKey?} (dev/demo)
  enroll --cloud URL --code CODE   enroll with the cloud: writes device id, broker credentials, org key into the config
  boot-guard          before each start (systemd ExecStartPre): counts starts of a release on trial, switches back after too many
config: --config FILE, or $GATEHOUSE_EDGE_CONFIG, or /etc/gatehouse-edge/config.json`;

function config(path: string | undefined): EdgeConfig {
  try {
    return loadConfig(configPath(path));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`gatehouse-edge: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}

/** Calls the running daemon's local API with the token from the data dir (local-token.ts). */
async function localRequest(cfg: EdgeConfig, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const token = readLocalToken(cfg.dataDir);
  const res = await fetch(`http://127.0.0.1:${cfg.localPort}${path}`, {
    method,
    headers: {
      ...('token' in token ? { authorization: `Bearer ${token.token}` } : {}),
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    },
    ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
    signal: AbortSignal.timeout(5000),
  });
  const json = (await res.json()) as unknown;
  if (res.status === 401 && 'error' in token) {
    throw new Error(`${method} ${path}: the local API needs its token: ${token.error} (run as the daemon's user, or root)`);
  }
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function run(cfg: EdgeConfig): Promise<void> {
  const log = pino({ level: cfg.logLevel ?? 'info', base: { svc: 'gatehouse-edge' } });
  const daemon = new Daemon(cfg, log);
  const fatal = (what: string) => (e: unknown) => {
    daemon.emergencyOff();
    log.fatal({ err: e }, what);
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled rejection'));
  try {
    await daemon.start();
  } catch (e) {
    daemon.emergencyOff();
    log.fatal({ err: (e as Error).message }, 'cannot start');
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    daemon.stop().then(
      () => process.exit(0),
      (e) => fatal('shutdown failed')(e),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** SIGN-7: the fingerprint of the org key this controller trusts, to compare with the console's. */
const fingerprintOf = (cfg: EdgeConfig): string | null => (cfg.orgPublicKey ? keyFingerprint(cfg.orgPublicKey) : null);

async function status(cfg: EdgeConfig): Promise<void> {
  const health = await localRequest(cfg, 'GET', '/health').catch(() => null);
  if (health) {
    // /health is open; the decisions need the token (a user who cannot read it hears why).
    const recent = (await localRequest(cfg, 'GET', '/events/recent?limit=10')) as { items: unknown[] };
    process.stdout.write(
      `${JSON.stringify({ running: true, ...(health as object), orgKeyFingerprint: fingerprintOf(cfg), recent: recent.items }, null, 2)}\n`,
    );
    return;
  }
  // Not running (or not answering): read the store directly.
  const store = new EdgeStore(dbPath(cfg), { quickCheck: false });
  try {
    process.stdout.write(
      `${JSON.stringify(
        {
          running: false,
          orgKeyFingerprint: fingerprintOf(cfg),
          gateId: store.gateId ?? null,
          cacheSeq: store.seq,
          fullSyncNeeded: store.fullSyncNeeded,
          outboxDepth: store.outbox.depth,
          lockdown: store.localLockdown,
          emergency: store.emergency,
          link: 'down',
          recent: store.outbox.recent(10),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    store.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      file: { type: 'string' },
      reader: { type: 'string' },
      cloud: { type: 'string' },
      code: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, ...rest] = positionals;
  if (values.help || !cmd) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(cmd || values.help ? 0 : 2);
  }
  switch (cmd) {
    case 'run':
      return run(config(values.config));
    case 'status':
      return status(config(values.config));
    case 'scan': {
      const text = rest.join(' ');
      if (!text) throw new UsageError('scan needs the text a reader would deliver');
      const out = await localRequest(config(values.config), 'POST', '/scan', { text, ...(values.reader ? { reader: values.reader } : {}) });
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return;
    }
    case 'seed': {
      if (!values.file) throw new UsageError('seed needs --file FILE');
      const cfg = config(values.config);
      const seed = loadSeedFile(values.file);
      const store = new EdgeStore(dbPath(cfg));
      try {
        applySeed(store, seed);
      } finally {
        store.close();
      }
      process.stdout.write(`seeded gate ${seed.gateId}: ${seed.passes.length} passes, ${seed.rules.length} rules\n`);
      return;
    }
    case 'enroll': {
      if (!values.cloud || !values.code) throw new UsageError('enroll needs --cloud URL and --code CODE');
      const path = configPath(values.config);
      const e = await enroll({ cloud: values.cloud, code: values.code, configPath: path });
      // The password stays in the file (mode 0600); only the identity is printed.
      process.stdout.write(`enrolled as device ${e.deviceId} for gate ${e.gateId}; credentials written to ${path}\n`);
      // SIGN-7: compare with the console's enrollment dialog; a difference means someone answered in the cloud's place.
      process.stdout.write(`organisation key fingerprint: ${e.orgKeyFingerprint}\n`);
      process.stdout.write(
        'check that the console shows exactly this fingerprint; if not, remove this enrollment and do not run the daemon\n',
      );
      return;
    }
    case 'boot-guard':
      // Never fails the start: a guard that cannot read its state lets the agent run (exit 0 after saying why).
      bootGuardMain(configPath(values.config));
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError) {
    process.stderr.write(`gatehouse-edge: ${e.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (e instanceof SeedError) {
    process.stderr.write(`gatehouse-edge seed: ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`gatehouse-edge: ${(e as Error).message}\n`);
  process.exit(1);
});
