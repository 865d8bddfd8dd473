/**
 * `npm start`: the whole system on one machine on its embedded defaults —
 * the cloud (PGlite under GATEHOUSE_DATA, embedded MQTT broker, console, API)
 * with a seeded demo organisation, and one simulated edge enrolled to the
 * demo gate the way a real controller is (one-time code → `enroll`).
 * State lives in GATEHOUSE_DATA (default ./.data), so a restart keeps it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { buildApp, createEnrollment, DEMO, loadConfig as loadCloudConfig, seedDemo } from '@gatehouse/cloud-api';
import { Daemon, enroll, loadConfig as loadEdgeConfig, localTokenPath } from '@gatehouse/edge-agent';
import pino from 'pino';

/** `preferred` if it is free, else any free port: 1883 is often taken by a system Mosquitto. */
function freePort(preferred: number): Promise<number> {
  return new Promise((done) => {
    const s = createServer();
    s.once('error', () => {
      const any = createServer().listen(0, '127.0.0.1', () => {
        const a = any.address();
        any.close(() => done(typeof a === 'object' && a ? a.port : 0));
      });
    });
    s.listen(preferred, '127.0.0.1', () => s.close(() => done(preferred)));
  });
}

async function main(): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  const dataDir = resolve(env.GATEHOUSE_DATA || '.data');
  const edgeDir = join(dataDir, 'edge');
  const edgeConfigPath = join(edgeDir, 'edge.json');
  const edgeConfig = existsSync(edgeConfigPath)
    ? (JSON.parse(readFileSync(edgeConfigPath, 'utf8')) as { deviceId?: string; mqtt?: { url: string } })
    : null;
  if (!env.MQTT_URL && !env.MQTT_PORT) {
    // The broker keeps the port the demo edge was enrolled with, if it is still free.
    const preferred = edgeConfig?.mqtt ? Number(new URL(edgeConfig.mqtt.url).port) : 1883;
    const port = await freePort(preferred);
    if (port !== 1883) process.stderr.write(`note: port 1883 is taken or was taken before; the embedded MQTT broker uses ${port}\n`);
    env.MQTT_PORT = String(port);
    if (edgeConfig?.mqtt && port !== preferred) {
      edgeConfig.mqtt.url = `mqtt://127.0.0.1:${port}`;
      writeFileSync(edgeConfigPath, `${JSON.stringify(edgeConfig, null, 2)}\n`, { mode: 0o600 });
    }
  }
  const config = loadCloudConfig(env);
  const app = await buildApp(config, { sync: true });
  const demo = await seedDemo(app.ctx);
  const listening = await app.listen({ port: config.port, host: config.host });
  const cloudUrl = process.env.PUBLIC_URL ? config.publicUrl : listening;

  mkdirSync(edgeDir, { recursive: true });
  if (!edgeConfig?.deviceId) {
    const localPort = await freePort(8181);
    writeFileSync(
      edgeConfigPath,
      `${JSON.stringify(
        {
          dataDir: edgeDir,
          localPort,
          readers: [{ type: 'simulated', name: 'lobby-qr', direction: 'in' }],
          relay: { type: 'simulated', pulseMs: 1500 },
        },
        null,
        2,
      )}\n`,
      { mode: 0o600 },
    );
    const { code } = await createEnrollment(app.ctx, { orgId: demo.orgId, userId: null, ip: null, userAgent: 'npm start' }, demo.gateId);
    await enroll({ cloud: cloudUrl, code, configPath: edgeConfigPath });
  }
  const edge = new Daemon(loadEdgeConfig(edgeConfigPath), pino({ name: 'edge', level: env.LOG_LEVEL }));
  await edge.start();

  process.stdout.write(
    [
      '',
      'Gatehouse is running.',
      `  console        ${cloudUrl}/`,
      `  API docs       ${cloudUrl}/docs`,
      `  demo login     ${demo.email} / ${demo.password}  (a host: ${DEMO.hostEmail}, same password)`,
      `  mail           ${config.notify.smtpUrl ? 'SMTP_URL' : `development mailbox (console: Messages → Mailbox; files in ${join(config.dataDir ?? '.data', 'mailbox')})`}`,
      `  MQTT broker    mqtt://127.0.0.1:${app.ctx.sync?.broker?.port ?? '?'} (embedded)`,
      `  edge           simulated reader "lobby-qr" on gate "Main turnstile", local API http://127.0.0.1:${edge.port} (token in ${localTokenPath(edgeDir)})`,
      `  scan a QR      npx gatehouse-edge scan --config ${edgeConfigPath} "<QR text>"`,
      `  data           ${config.dataDir}`,
      'README.md walks through issuing a pass and scanning it. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const t = setTimeout(() => process.exit(1), 10_000);
    t.unref();
    await edge.stop();
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((e: unknown) => {
  process.stderr.write(`npm start failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
