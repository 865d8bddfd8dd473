import { ApiKeyCache } from './auth/api-keys.js';
import { OidcVerifier } from './auth/oidc.js';
import { type PasswordHasher, passwordHasher } from './auth/passwords.js';
import { PrincipalCache } from './auth/principal-cache.js';
import type { Permission } from './auth/rbac.js';
import { TokenService } from './auth/tokens.js';
import type { Config } from './config.js';
import { type Database, type Db, openDatabase } from './db/client.js';
import { DatabaseStartup } from './db/startup.js';
import { JobQueue } from './jobs/queue.js';
import { Sealer, subkey } from './lib/crypto.js';
import { EventBus } from './lib/events.js';
import { ensureCheckinPartitions } from './modules/checkins/partitions.js';
import { sealPersonalData } from './modules/orgs/personal-data.js';
import type { SyncService } from './sync/service.js';

/** What every module needs, built once per app. */
export interface AppContext {
  config: Config;
  database: Database;
  db: Db;
  /** The database's own start (migrations, sealing): `ready` once done; until then API routes answer 503. */
  startup: DatabaseStartup;
  sealer: Sealer;
  tokens: TokenService;
  passwords: PasswordHasher;
  oidc: OidcVerifier | null;
  principals: PrincipalCache;
  /** Applications' API keys looked up recently (auth/api-keys.ts: dropped on every instance at revocation). */
  apiKeys: ApiKeyCache;
  events: EventBus;
  /** Background jobs (notifications, reminders, webhooks): modules define their queues when registered; the app starts them when ready. */
  jobs: JobQueue;
  /** The MQTT side (broker, edge sync, commands); null when the app runs without it (most tests). */
  sync: SyncService | null;
}

export interface ContextOptions {
  /** Use this database instead of opening one from the config (tests share a fresh one per file); its owner closes it. */
  database?: Database;
  /** Connections of the pool opened from the config (default: the client's). */
  poolSize?: number;
  /** Run migrations first (default true). */
  migrate?: boolean;
  /**
   * A database that cannot be reached at start is waited for in the background instead of failing the
   * start (serve does; commands and tests want the error). `ctx.startup.whenReady` tells when it is up.
   */
  waitForDatabase?: boolean;
}

/**
 * The composition root: the one place the application context is built, for
 * the HTTP app and the command line alike. Whoever gets it closes
 * `ctx.database` when it opened it (no `opts.database`).
 */
export async function createContext(config: Config, opts: ContextOptions = {}): Promise<AppContext> {
  const database =
    opts.database ??
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      listenUrl: config.databaseListenUrl,
      preparedStatements: config.databasePreparedStatements,
      dataDir: config.dataDir,
      timeouts: config.dbTimeouts,
      ...(opts.poolSize !== undefined ? { poolSize: opts.poolSize } : {}),
    }));
  // Separate HKDF subkeys of the master key: data encryption (and lookup hashes) here, JWT signing below.
  const sealer = new Sealer(config.masterKey, config.previousMasterKey);
  const startup = new DatabaseStartup(async () => {
    if (opts.migrate ?? true) await database.migrate();
    // This month's check-in partition and the next ones, before the first event of a new month can arrive.
    await ensureCheckinPartitions(database.db);
    // Names, e-mails and companies of rows written before they were sealed at rest are sealed now.
    await sealPersonalData(database.db, sealer);
  });
  try {
    await startup.start(opts.waitForDatabase ?? false);
  } catch (err) {
    if (!opts.database) await database.close().catch(() => undefined);
    throw err;
  }
  return {
    config,
    database,
    db: database.db,
    startup,
    sealer,
    // Tokens verify under the current key only: after a rotation an access token of the old key is
    // refused and the client refreshes (refresh tokens are opaque and stored hashed, so they survive).
    tokens: new TokenService(new Uint8Array(subkey(config.masterKey, 'jwt')), config.accessTokenTtlS),
    passwords: passwordHasher(config.argon2),
    oidc: config.oidc ? new OidcVerifier(config.oidc.issuer, config.oidc.audience, config.oidc.timeoutMs) : null,
    principals: new PrincipalCache(config.authCacheMs),
    apiKeys: new ApiKeyCache(config.authCacheMs),
    events: new EventBus(),
    jobs: new JobQueue(database, config.jobs),
    sync: null,
  };
}

/** The authenticated caller. Every admin query is scoped by `orgId`. */
export interface Principal {
  userId: string;
  orgId: string;
  email: string;
  roles: string[];
  permissions: Set<Permission>;
  via: 'password' | 'oidc' | 'apikey';
  sessionId: string | null;
  /**
   * Set when an application's API key made the call (`via: 'apikey'`): then `userId` is the
   * application's id (never a user's), `permissions` are the key's scopes and `orgId` the
   * organisation the application acts in (its sandbox for a sandbox application).
   */
  app: { id: string; keyId: string; rateLimitPerMinute: number | null } | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The permission an /api/admin route requires; routes without one do not start. */
    permission?: Permission;
    /** Route needs a signed-in user but no particular permission. */
    authenticated?: boolean;
  }
}
