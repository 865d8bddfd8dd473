import type { OidcVerifier } from './auth/oidc.js';
import type { PasswordHasher } from './auth/passwords.js';
import type { PrincipalCache } from './auth/principal-cache.js';
import type { Permission } from './auth/rbac.js';
import type { TokenService } from './auth/tokens.js';
import type { Config } from './config.js';
import type { Database, Db } from './db/client.js';
import type { Sealer } from './lib/crypto.js';
import type { EventBus } from './lib/events.js';
import type { SyncService } from './sync/service.js';

/** What every module needs, built once per app. */
export interface AppContext {
  config: Config;
  database: Database;
  db: Db;
  sealer: Sealer;
  tokens: TokenService;
  passwords: PasswordHasher;
  oidc: OidcVerifier | null;
  principals: PrincipalCache;
  events: EventBus;
  /** The MQTT side (broker, edge sync, commands); null when the app runs without it (most tests). */
  sync: SyncService | null;
}

/** The authenticated caller. Every admin query is scoped by `orgId`. */
export interface Principal {
  userId: string;
  orgId: string;
  email: string;
  roles: string[];
  permissions: Set<Permission>;
  via: 'password' | 'oidc';
  sessionId: string | null;
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
