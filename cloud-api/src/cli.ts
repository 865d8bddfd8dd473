#!/usr/bin/env node
/**
 * gatehouse-cloud serve [--demo] | migrate | create-admin --org NAME --email E --password P [--platform] | rotate-keys
 */
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createContext } from './context.js';
import { seedDemo } from './demo.js';
import { installProcessHandlers } from './lib/process-faults.js';
import { rotateKeys } from './modules/orgs/personal-data.js';
import { createOrganization, createUser, findOrganizationByName } from './modules/orgs/service.js';
import { mosquittoTargetFromEnv, writeMosquittoConfig } from './sync/mosquitto.js';

const USAGE = `usage:
  gatehouse-cloud serve [--demo]     HTTP API (migrates first); --demo seeds a demo org and prints its login
  gatehouse-cloud migrate            apply database migrations, then exit
  gatehouse-cloud mosquitto-config --out DIR   dynamic-security setup for an external Mosquitto (MQTT_URL holds the cloud's login)
  gatehouse-cloud create-admin --org NAME --email E --password P [--platform]
  gatehouse-cloud rotate-keys        re-seal every sealed column under GATEHOUSE_MASTER_KEY (reading GATEHOUSE_MASTER_KEY_PREVIOUS), then exit;
                                     deletes the Web Push subscriptions of the old key (its VAPID pair): hosts enable push again
environment: DATABASE_URL, GATEHOUSE_DATA, PORT, HOST, PUBLIC_URL, GATEHOUSE_MASTER_KEY, GATEHOUSE_MASTER_KEY_PREVIOUS, OIDC_ISSUER, OIDC_AUDIENCE, MQTT_URL, MQTT_PORT, LOG_LEVEL`;

function fail(message: string, code = 2): never {
  process.stderr.write(`gatehouse-cloud: ${message}\n`);
  process.exit(code);
}

async function serve(config: Config, demo: boolean) {
  const app = await buildApp(config, { sync: true, waitForDatabase: true });
  // Rejections are logged and counted, exceptions exit non-zero after the log (lib/process-faults.ts).
  installProcessHandlers(app.log);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // In-flight requests finish; a hung one cannot hold the process past this.
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    try {
      await app.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
  // Listening first: liveness and the console answer while a database that is not up yet is waited for.
  try {
    await app.ctx.startup.whenReady;
  } catch (err) {
    if (closing) return;
    // Not a database that is away (that is waited for) but one the start cannot use, such as a failed migration.
    app.log.fatal({ err }, 'database start failed');
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  const info = demo ? await seedDemo(app.ctx) : null;
  if (info) {
    app.log.info({ orgId: info.orgId, created: info.created }, 'demo organisation ready');
    // The URL printed is where the server actually listens (PORT=0 picks a free one).
    const addr = app.server.address();
    const url = process.env.PUBLIC_URL || typeof addr !== 'object' || !addr ? config.publicUrl : `http://${config.host}:${addr.port}`;
    process.stdout.write(
      `\nGatehouse cloud: ${url}\n  API docs: ${url}/docs\n  demo login: ${info.email} / ${info.password}\n  try: curl -s ${url}/api/auth/login -H 'content-type: application/json' -d '{"email":"${info.email}","password":"${info.password}"}'\n\n`,
    );
  }
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(`configuration error: ${e.message}`);
    throw e;
  }
  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { demo: { type: 'boolean', default: false } }, strict: true });
      await serve(config, values.demo ?? false);
      return;
    }
    case 'mosquitto-config': {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } }, strict: true });
      if (!values.out) fail(`mosquitto-config needs --out DIR\n${USAGE}`);
      const ctx = await createContext(config, { poolSize: 2 });
      try {
        const target = mosquittoTargetFromEnv(ctx, { ...process.env, MOSQUITTO_DIR: values.out });
        if (!target) fail("mosquitto-config needs MQTT_URL with the cloud's own login, e.g. mqtt://gatehouse-cloud:SECRET@broker:1883");
        const n = await writeMosquittoConfig(ctx, target);
        process.stdout.write(`wrote mosquitto.conf and dynamic-security.json for the cloud and ${n} devices to ${values.out}\n`);
      } finally {
        await ctx.database.close();
      }
      return;
    }
    case 'migrate': {
      const { database } = await createContext(config, { poolSize: 1 });
      await database.close();
      process.stdout.write(`migrations applied (${database.kind})\n`);
      return;
    }
    case 'create-admin': {
      const { values } = parseArgs({
        args: rest,
        options: {
          org: { type: 'string' },
          email: { type: 'string' },
          password: { type: 'string' },
          platform: { type: 'boolean', default: false },
          name: { type: 'string' },
        },
        strict: true,
      });
      if (!values.org || !values.email || !values.password) fail(`create-admin needs --org, --email and --password\n${USAGE}`);
      if (values.password.length < 8) fail('the password must be at least 8 characters');
      const ctx = await createContext(config, { poolSize: 2 });
      try {
        const result = await ctx.db.transaction(async (tx) => {
          const existing = await findOrganizationByName(tx, values.org!);
          const org = existing ?? (await createOrganization(ctx, tx, values.org!));
          const user = await createUser(ctx, tx, {
            orgId: org.id,
            email: values.email!,
            fullName: values.name ?? values.email!,
            roles: [values.platform ? 'PlatformAdmin' : 'OrgAdmin'],
            password: values.password,
          });
          return {
            organization: { id: org.id, name: org.name, created: !existing },
            user: { id: user.id, email: user.email, roles: user.roles },
          };
        });
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if ((e as { statusCode?: number }).statusCode === 409 || code === '23505')
          fail(`a user with e-mail ${values.email} already exists`, 1);
        throw e;
      } finally {
        await ctx.database.close();
      }
      return;
    }
    case 'rotate-keys': {
      // Idempotent and resumable: rows already under the current key are skipped (modules/orgs/personal-data.ts).
      const ctx = await createContext(config, { poolSize: 2 });
      try {
        const { pushSubscriptionsRemoved, ...resealed } = await rotateKeys(ctx.db, ctx.sealer);
        // `resealed`: rows re-sealed per table; `removed`: Web Push subscriptions of the old VAPID key (hosts subscribe again).
        process.stdout.write(
          `${JSON.stringify({ keyId: ctx.sealer.keyId, resealed, removed: { pushSubscriptions: pushSubscriptionsRemoved } }, null, 2)}\n`,
        );
      } finally {
        await ctx.database.close();
      }
      return;
    }
    default:
      fail(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`gatehouse-cloud: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
