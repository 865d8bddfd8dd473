import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DatabaseTimeouts, DEFAULT_DB_TIMEOUTS } from './db/breaker.js';
import { syncLagAlertS } from './sync/lag.js';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * Sign-in throttling (auth/rate-limit.ts): attempts allowed before each further
 * one must wait a delay that doubles from `baseDelayMs` up to `maxDelayMs`;
 * a counter is forgotten `windowMs` after its last attempt (or block) ends.
 */
export interface LoginThrottleConfig {
  /** Per account and address (LOGIN_FREE_ATTEMPTS). */
  perAccountAddress: number;
  /** Per address, whatever the account (LOGIN_ADDRESS_LIMIT). */
  perAddress: number;
  /** Per account from addresses it never signed in from (LOGIN_ACCOUNT_LIMIT): bounds guessing spread over many addresses. */
  perAccount: number;
  baseDelayMs: number;
  /** LOGIN_MAX_DELAY_S. */
  maxDelayMs: number;
  windowMs: number;
}

/** Requests a minute (plugins/external/rate-limit.ts). */
export interface RateLimits {
  /** Any API route, per signed-in user, else per address (RATE_LIMIT_API). */
  api: number;
  /** POST /api/auth/refresh per address (RATE_LIMIT_REFRESH). */
  refresh: number;
  /** POST /api/edge/enroll per address (RATE_LIMIT_ENROLL). */
  enroll: number;
  /** /api/guest/* per address (RATE_LIMIT_GUEST). */
  guest: number;
}

function mqttTlsOf(env: NodeJS.ProcessEnv): Pick<Config, 'mqttTls' | 'mqttCaFile'> {
  if (!!env.MQTT_TLS_CERT !== !!env.MQTT_TLS_KEY) throw new ConfigError('MQTT_TLS_CERT and MQTT_TLS_KEY must be set together');
  return {
    ...(env.MQTT_TLS_CERT && env.MQTT_TLS_KEY ? { mqttTls: { certFile: env.MQTT_TLS_CERT, keyFile: env.MQTT_TLS_KEY } } : {}),
    ...(env.MQTT_CA_FILE ? { mqttCaFile: env.MQTT_CA_FILE } : {}),
  };
}

/** The background job queue (jobs/queue.ts, pg-boss). */
export interface JobsConfig {
  /** Retries after the first attempt before a job is dead (JOB_RETRY_LIMIT). */
  retryLimit: number;
  /** First retry delay; each next one doubles (JOB_RETRY_DELAY_S). */
  retryDelayS: number;
  /** How often an idle worker looks for work (pg-boss's floor is 0.5 s). */
  pollIntervalS: number;
  /** false: this process enqueues but runs no job (tests that look at the queue itself). */
  work: boolean;
  /**
   * The timeouts of pg-boss's own connections on PostgreSQL: the pool's (`dbTimeouts`, the DB_* variables), so a
   * hung or stuck database fails the queue's statements in bounded time too. Unset: db/breaker.ts's defaults.
   */
  dbTimeouts?: DatabaseTimeouts;
}

/** Where messages go (modules/notifications/channels). */
export interface NotifyConfig {
  /** SMTP_URL; null: the development mailbox under the data directory (or in memory). */
  smtpUrl: string | null;
  /** MAIL_FROM. */
  mailFrom: string;
  /** TELEGRAM_API_URL: the Bot API's base (a self-hosted Bot API server works too). */
  telegramApiUrl: string;
  /** SMS_URL: a provider-neutral HTTP endpoint that takes `POST {to, text}`; null: SMS is not configured. */
  smsUrl: string | null;
  /** SMS_TOKEN: sent as a bearer token to SMS_URL. */
  smsToken: string | null;
  /** VAPID_SUBJECT: a mailto: or https: URL push services may contact. */
  vapidSubject: string;
  /**
   * NOTIFY_TIMEOUT_S (default 10): how long one delivery attempt of any channel may take — SMTP's connect,
   * greeting and socket timeouts, and the whole request to the SMS gateway, the Bot API or a push service.
   */
  timeoutMs: number;
}

/**
 * The circuit breakers of outbound dependencies (lib/breaker.ts: SMTP, SMS, Telegram, each Web Push
 * service and each webhook host; the database has its own, DB_BREAKER_*).
 */
export interface BreakersConfig {
  /** BREAKER_THRESHOLD (default 5): failures in a row that open a dependency's breaker. */
  threshold: number;
  /** BREAKER_COOLDOWN_S (default 10): an open breaker fails fast this long, then lets one probe through. */
  cooldownMs: number;
}

/** Alarms (modules/alarms). */
export interface AlarmsConfig {
  /**
   * CONTROLLER_OFFLINE_ALARM_S (default 60): a controller must stay offline this long before its
   * `controller_offline` alarm is raised, so a restart (an update, a power blip) does not call a guard; 0 = at once.
   */
  controllerOfflineSeconds: number;
  /** SYNC_LAG_ALERT_S (default 30): a site's sync lag at or above this raises gatehouse_sync_lag_alert and a warning. */
  syncLagAlertSeconds: number;
  /**
   * The `outbox_growing` alarm (modules/fleet/outbox.ts), judged on each status of an online controller:
   * OUTBOX_ALARM_RISES (default 10, 0 = off) statuses in a row whose outbox grew and never shrank, or an
   * outbox at or above OUTBOX_ALARM_DEPTH (default 1000 records) for OUTBOX_ALARM_S (default 300).
   */
  outboxAlarmRises: number;
  outboxAlarmDepth: number;
  outboxAlarmSeconds: number;
}

/** Webhook delivery (modules/webhooks). */
export interface WebhooksConfig {
  /**
   * WEBHOOK_ALLOW_PRIVATE_URLS=1: endpoints may be plain http and resolve to loopback, private,
   * link-local or other non-public addresses (tests, a cloud on a closed network). Off by default:
   * the cloud would otherwise POST into its own network on anyone's behalf (SSRF).
   */
  allowPrivateUrls: boolean;
  /** A delivery not answered with a 2xx within this fails (WEBHOOK_TIMEOUT_S, default 15). */
  timeoutMs: number;
  /** Retries after the first attempt before a delivery is dead (WEBHOOK_RETRY_LIMIT, default 12: with the delay below, over a day). */
  retryLimit: number;
  /** First retry delay; each next one doubles, with jitter (WEBHOOK_RETRY_DELAY_S, default 30). */
  retryDelayS: number;
  /** An endpoint whose deliveries have all failed for this long is disabled (WEBHOOK_DISABLE_AFTER_DAYS, default 5). */
  disableAfterDays: number;
}

export interface Config {
  /** null = embedded PGlite under dataDir (or in memory when dataDir is null). */
  databaseUrl: string | null;
  /**
   * The connection LISTEN runs on (DATABASE_LISTEN_URL): a session connection, which a transaction-mode pooler
   * (PgBouncer) in DATABASE_URL does not give; null = DATABASE_URL.
   */
  databaseListenUrl: string | null;
  /**
   * DATABASE_PREPARED_STATEMENTS (default on): parameterised statements are prepared once per connection and their
   * plans reused. Off for a transaction-mode PgBouncer older than 1.21 (it cannot carry prepared statements).
   */
  databasePreparedStatements: boolean;
  /** null = in-memory PGlite and an in-memory master key (tests). */
  dataDir: string | null;
  /** PostgreSQL pool timeouts and connection breaker (DB_CONNECT_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS, DB_IDLE_IN_TX_TIMEOUT_MS, DB_BREAKER_THRESHOLD, DB_BREAKER_COOLDOWN_MS). */
  dbTimeouts: DatabaseTimeouts;
  port: number;
  host: string;
  publicUrl: string;
  masterKey: Buffer;
  /** GATEHOUSE_MASTER_KEY_PREVIOUS: the key before a rotation, only read (sealed data and lookup hashes) until `rotate-keys` has run. */
  previousMasterKey: Buffer | null;
  /** OIDC_TIMEOUT_S (default 5): how long discovery or one key-set fetch may take before the provider counts as down. */
  oidc: { issuer: string; audience: string; timeoutMs?: number } | null;
  mqttUrl: string | null;
  /**
   * MQTT_SHARE_GROUP (default `ingest`): the shared-subscription group the instances of one installation split
   * controllers' events and sync requests in, on an external broker. Instances of another installation on the
   * same broker (a staging cloud, or parallel test runs) need a group of their own, or they take its messages.
   */
  mqttShareGroup: string;
  mqttPort: number;
  /** MQTT_TLS_CERT / MQTT_TLS_KEY: PEM files; the embedded broker then listens with TLS only (mqtts://). */
  mqttTls?: { certFile: string; keyFile: string };
  /** MQTT_CA_FILE: PEM of the CA the cloud trusts for an external broker's TLS certificate (mqtts://). */
  mqttCaFile?: string;
  logLevel: string;
  argon2: Argon2Params;
  loginThrottle: LoginThrottleConfig;
  rateLimits: RateLimits;
  /** Fastify's `trustProxy` (TRUST_PROXY): false, true, a hop count, or the proxies' addresses/CIDRs; sets the client address. */
  trustProxy: boolean | number | string[];
  accessTokenTtlS: number;
  /** How long a session's principal is reused without a database lookup; a revocation elsewhere shows within this. */
  authCacheMs: number;
  refreshTokenTtlS: number;
  version: string;
  /** Built console (vite output); null = the package's console/dist. */
  consoleDir: string | null;
  /** Origins that may frame the console and hand it a token (CONSOLE_FRAME_ANCESTORS, comma-separated); empty = framing denied. */
  frameAncestors: string[];
  jobs: JobsConfig;
  notify: NotifyConfig;
  webhooks: WebhooksConfig;
  alarms: AlarmsConfig;
  updates: UpdatesConfig;
  breakers: BreakersConfig;
  /**
   * CHECKINS_RETENTION_MONTHS: check-ins are kept at least this many months; the daily job drops the
   * month partitions wholly older (modules/checkins/partitions.ts). null (unset): kept for ever.
   */
  checkinRetentionMonths: number | null;
}

/** Edge releases and their rollouts (modules/updates). */
export interface UpdatesConfig {
  /**
   * RELEASE_KEYS: the release public keys (raw Ed25519, base64, comma-separated) a published release must be
   * signed with, or a release-keys.json file; default: the project's edge-agent/release-keys.json (none: every
   * release is refused). A release key is not an organisation key.
   */
  releaseKeys: string[];
  /** RELEASES_DIR (default `<data dir>/releases`): where release files are kept; null: the server takes none. */
  releasesDir: string | null;
  /** UPDATE_TICK_S (default 30): how often a rollout looks at its deadlines and its next gates. */
  tickS: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** OWASP's argon2id floor (m=19 MiB, t=2); tests pass lower values explicitly. */
export const DEFAULT_ARGON2: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

function port(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]{1,5}$/.test(raw) || Number(raw) > 65535)
    throw new ConfigError(`${name} must be a port number 0-65535, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < 1)
    throw new ConfigError(`${name} must be a whole number >= 1, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** TRUST_PROXY: unset/false, true, a hop count, or a comma-separated list of addresses, CIDRs or proxy-addr's names. */
export function parseTrustProxy(raw: string | undefined): Config['trustProxy'] {
  const text = (raw ?? '').trim();
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^[0-9]{1,3}$/.test(text)) return Number(text);
  return text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const [addr = '', bits, ...rest] = p.split('/');
      const family = isIP(addr);
      const okBits = bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
      if (!(['loopback', 'linklocal', 'uniquelocal'].includes(p) || (family !== 0 && okBits && rest.length === 0)))
        throw new ConfigError(`TRUST_PROXY: ${JSON.stringify(p)} is not true, false, a hop count, an address or a CIDR`);
      return p;
    });
}

function url(name: string, raw: string, protocols: string[]): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL: ${JSON.stringify(raw.replace(/\/\/[^@/]*@/, '//***@'))}`);
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(`${name} must use ${protocols.join(' or ')} (got ${u.protocol})`);
  return raw;
}

export function parseMasterKey(raw: string, source: string): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new ConfigError(`${source} must be 32 bytes as 64 hex digits or base64 (got ${key.length} bytes)`);
  return key;
}

/** Reads the key file of the data dir, creating it (0600) on first start. */
function masterKeyFromDataDir(dataDir: string): Buffer {
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) return parseMasterKey(readFileSync(file, 'utf8'), file);
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}

function packageVersion(): string {
  // src/ and dist/ are both one level below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

export interface LoadOptions {
  /** Overrides applied after the environment (tests, benches). */
  overrides?: Partial<Config>;
  /** Do not touch the file system: in-memory PGlite, random master key unless given. */
  ephemeral?: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): Config {
  const databaseUrl = env.DATABASE_URL ? url('DATABASE_URL', env.DATABASE_URL, ['postgres:', 'postgresql:']) : null;
  const databaseListenUrl = env.DATABASE_LISTEN_URL
    ? url('DATABASE_LISTEN_URL', env.DATABASE_LISTEN_URL, ['postgres:', 'postgresql:'])
    : null;
  if (databaseListenUrl && !databaseUrl) throw new ConfigError('DATABASE_LISTEN_URL needs DATABASE_URL');
  const prepared = (env.DATABASE_PREPARED_STATEMENTS ?? '').trim().toLowerCase();
  if (!['', 'on', 'off', 'true', 'false', '1', '0'].includes(prepared))
    throw new ConfigError(`DATABASE_PREPARED_STATEMENTS must be on or off, got ${JSON.stringify(prepared)}`);
  const databasePreparedStatements = !['off', 'false', '0'].includes(prepared);
  const dataDir = opts.ephemeral ? null : resolve(env.GATEHOUSE_DATA || './.data');
  const p = port('PORT', env.PORT, 8080);
  const host = env.HOST || '127.0.0.1';
  const publicUrl = url('PUBLIC_URL', env.PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${p}`, [
    'http:',
    'https:',
  ]).replace(/\/+$/, '');
  let masterKey: Buffer;
  if (env.GATEHOUSE_MASTER_KEY) masterKey = parseMasterKey(env.GATEHOUSE_MASTER_KEY, 'GATEHOUSE_MASTER_KEY');
  else if (dataDir) masterKey = masterKeyFromDataDir(dataDir);
  else masterKey = randomBytes(32);
  const previousMasterKey = env.GATEHOUSE_MASTER_KEY_PREVIOUS
    ? parseMasterKey(env.GATEHOUSE_MASTER_KEY_PREVIOUS, 'GATEHOUSE_MASTER_KEY_PREVIOUS')
    : null;

  let oidc: Config['oidc'] = null;
  if (env.OIDC_ISSUER || env.OIDC_AUDIENCE) {
    if (!env.OIDC_ISSUER || !env.OIDC_AUDIENCE) throw new ConfigError('OIDC_ISSUER and OIDC_AUDIENCE must be set together');
    oidc = {
      issuer: url('OIDC_ISSUER', env.OIDC_ISSUER, ['http:', 'https:']),
      audience: env.OIDC_AUDIENCE,
      timeoutMs: positiveInt('OIDC_TIMEOUT_S', env.OIDC_TIMEOUT_S, 5) * 1000,
    };
  }
  const mqttUrl = env.MQTT_URL ? url('MQTT_URL', env.MQTT_URL, ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:']) : null;
  const mqttShareGroup = env.MQTT_SHARE_GROUP || 'ingest';
  // A topic level: no wildcard, separator or space.
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(mqttShareGroup))
    throw new ConfigError(`MQTT_SHARE_GROUP must be 1-64 letters, digits, "_" or "-" (got ${JSON.stringify(mqttShareGroup)})`);
  const logLevel = env.LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got ${JSON.stringify(logLevel)})`);
  }
  const dbTimeouts: DatabaseTimeouts = {
    connectTimeoutMs: positiveInt('DB_CONNECT_TIMEOUT_MS', env.DB_CONNECT_TIMEOUT_MS, DEFAULT_DB_TIMEOUTS.connectTimeoutMs),
    statementTimeoutMs: positiveInt('DB_STATEMENT_TIMEOUT_MS', env.DB_STATEMENT_TIMEOUT_MS, DEFAULT_DB_TIMEOUTS.statementTimeoutMs),
    idleInTransactionTimeoutMs: positiveInt(
      'DB_IDLE_IN_TX_TIMEOUT_MS',
      env.DB_IDLE_IN_TX_TIMEOUT_MS,
      DEFAULT_DB_TIMEOUTS.idleInTransactionTimeoutMs,
    ),
    breakerThreshold: positiveInt('DB_BREAKER_THRESHOLD', env.DB_BREAKER_THRESHOLD, DEFAULT_DB_TIMEOUTS.breakerThreshold),
    breakerCooldownMs: positiveInt('DB_BREAKER_COOLDOWN_MS', env.DB_BREAKER_COOLDOWN_MS, DEFAULT_DB_TIMEOUTS.breakerCooldownMs),
  };
  const config: Config = {
    databaseUrl,
    databaseListenUrl,
    databasePreparedStatements,
    dataDir,
    dbTimeouts,
    port: p,
    host,
    publicUrl,
    masterKey,
    previousMasterKey,
    oidc,
    mqttUrl,
    mqttShareGroup,
    mqttPort: port('MQTT_PORT', env.MQTT_PORT, 1883),
    ...mqttTlsOf(env),
    logLevel,
    argon2: DEFAULT_ARGON2,
    loginThrottle: {
      perAccountAddress: positiveInt('LOGIN_FREE_ATTEMPTS', env.LOGIN_FREE_ATTEMPTS, 5),
      perAddress: positiveInt('LOGIN_ADDRESS_LIMIT', env.LOGIN_ADDRESS_LIMIT, 20),
      perAccount: positiveInt('LOGIN_ACCOUNT_LIMIT', env.LOGIN_ACCOUNT_LIMIT, 100),
      baseDelayMs: 1_000,
      maxDelayMs: positiveInt('LOGIN_MAX_DELAY_S', env.LOGIN_MAX_DELAY_S, 15 * 60) * 1000,
      windowMs: 15 * 60_000,
    },
    rateLimits: {
      api: positiveInt('RATE_LIMIT_API', env.RATE_LIMIT_API, 1200),
      refresh: positiveInt('RATE_LIMIT_REFRESH', env.RATE_LIMIT_REFRESH, 30),
      enroll: positiveInt('RATE_LIMIT_ENROLL', env.RATE_LIMIT_ENROLL, 10),
      guest: positiveInt('RATE_LIMIT_GUEST', env.RATE_LIMIT_GUEST, 120),
    },
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    accessTokenTtlS: 15 * 60,
    authCacheMs: 5_000,
    refreshTokenTtlS: 7 * 24 * 3600,
    version: packageVersion(),
    consoleDir: env.GATEHOUSE_CONSOLE_DIR ? resolve(env.GATEHOUSE_CONSOLE_DIR) : null,
    frameAncestors: (env.CONSOLE_FRAME_ANCESTORS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean)
      .map((o) => {
        if (!/^https?:\/\/[^/\s]+$/.test(o))
          throw new ConfigError(`CONSOLE_FRAME_ANCESTORS: ${JSON.stringify(o)} is not an origin like https://panel.example.com`);
        return o;
      }),
    jobs: {
      retryLimit: positiveInt('JOB_RETRY_LIMIT', env.JOB_RETRY_LIMIT, 10),
      retryDelayS: positiveInt('JOB_RETRY_DELAY_S', env.JOB_RETRY_DELAY_S, 30),
      pollIntervalS: 0.5,
      work: true,
      dbTimeouts,
    },
    notify: notifyConfig(env),
    breakers: {
      threshold: positiveInt('BREAKER_THRESHOLD', env.BREAKER_THRESHOLD, 5),
      cooldownMs: positiveInt('BREAKER_COOLDOWN_S', env.BREAKER_COOLDOWN_S, 10) * 1000,
    },
    webhooks: {
      allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS === '1' || env.WEBHOOK_ALLOW_PRIVATE_URLS === 'true',
      timeoutMs: positiveInt('WEBHOOK_TIMEOUT_S', env.WEBHOOK_TIMEOUT_S, 15) * 1000,
      retryLimit: positiveInt('WEBHOOK_RETRY_LIMIT', env.WEBHOOK_RETRY_LIMIT, 12),
      retryDelayS: positiveInt('WEBHOOK_RETRY_DELAY_S', env.WEBHOOK_RETRY_DELAY_S, 30),
      disableAfterDays: positiveInt('WEBHOOK_DISABLE_AFTER_DAYS', env.WEBHOOK_DISABLE_AFTER_DAYS, 5),
    },
    alarms: {
      controllerOfflineSeconds:
        env.CONTROLLER_OFFLINE_ALARM_S === '0' ? 0 : positiveInt('CONTROLLER_OFFLINE_ALARM_S', env.CONTROLLER_OFFLINE_ALARM_S, 60),
      syncLagAlertSeconds: syncLagAlertS(env),
      outboxAlarmRises: env.OUTBOX_ALARM_RISES === '0' ? 0 : positiveInt('OUTBOX_ALARM_RISES', env.OUTBOX_ALARM_RISES, 10),
      outboxAlarmDepth: positiveInt('OUTBOX_ALARM_DEPTH', env.OUTBOX_ALARM_DEPTH, 1000),
      outboxAlarmSeconds: positiveInt('OUTBOX_ALARM_S', env.OUTBOX_ALARM_S, 300),
    },
    updates: updatesConfig(env, dataDir),
    checkinRetentionMonths: env.CHECKINS_RETENTION_MONTHS
      ? positiveInt('CHECKINS_RETENTION_MONTHS', env.CHECKINS_RETENTION_MONTHS, 1)
      : null,
  };
  return { ...config, ...opts.overrides };
}

/** The keys of a release-keys.json: `{keys: [{publicKey} | string]}` or a bare array (the edge reads the same file). */
function releaseKeysOf(text: string, source: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`RELEASE_KEYS: ${source} is not JSON`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new ConfigError(`RELEASE_KEYS: ${source} has no key list`);
  return list.map((k: unknown) => (typeof k === 'string' ? k : String((k as { publicKey?: unknown } | null)?.publicKey ?? '')));
}

function updatesConfig(env: NodeJS.ProcessEnv, dataDir: string | null): UpdatesConfig {
  const raw = (env.RELEASE_KEYS ?? '').trim();
  let keys: string[];
  if (raw === '') {
    const shipped = fileURLToPath(new URL('../../edge-agent/release-keys.json', import.meta.url));
    keys = existsSync(shipped) ? releaseKeysOf(readFileSync(shipped, 'utf8'), shipped) : [];
  } else if (raw.endsWith('.json') || raw.includes('/')) {
    if (!existsSync(raw)) throw new ConfigError(`RELEASE_KEYS: no file ${raw}`);
    keys = releaseKeysOf(readFileSync(raw, 'utf8'), raw);
  } else keys = raw.split(',').map((k) => k.trim());
  for (const k of keys)
    if (!/^[A-Za-z0-9+/]{43}=$/.test(k))
      throw new ConfigError(`RELEASE_KEYS: ${JSON.stringify(k.slice(0, 60))} is not a raw Ed25519 public key in base64`);
  const dir = env.RELEASES_DIR ? resolve(env.RELEASES_DIR) : dataDir ? join(dataDir, 'releases') : null;
  return { releaseKeys: keys, releasesDir: dir, tickS: positiveInt('UPDATE_TICK_S', env.UPDATE_TICK_S, 30) };
}

function notifyConfig(env: NodeJS.ProcessEnv): NotifyConfig {
  const mailFrom = env.MAIL_FROM || 'Gatehouse <no-reply@gatehouse.invalid>';
  const address = /<([^>]+)>/.exec(mailFrom)?.[1] ?? mailFrom;
  return {
    smtpUrl: env.SMTP_URL ? url('SMTP_URL', env.SMTP_URL, ['smtp:', 'smtps:']) : null,
    mailFrom,
    telegramApiUrl: url('TELEGRAM_API_URL', env.TELEGRAM_API_URL || 'https://api.telegram.org', ['http:', 'https:']).replace(/\/+$/, ''),
    smsUrl: env.SMS_URL ? url('SMS_URL', env.SMS_URL, ['http:', 'https:']) : null,
    smsToken: env.SMS_TOKEN || null,
    vapidSubject: env.VAPID_SUBJECT ? url('VAPID_SUBJECT', env.VAPID_SUBJECT, ['mailto:', 'https:']) : `mailto:${address}`,
    timeoutMs: positiveInt('NOTIFY_TIMEOUT_S', env.NOTIFY_TIMEOUT_S, 10) * 1000,
  };
}
