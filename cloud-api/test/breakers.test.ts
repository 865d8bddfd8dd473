/**
 * Circuit breakers of outbound dependencies (lib/breaker.ts), one per webhook
 * host and one per SMTP transport: a receiver or mail server that drops every
 * connection opens its breaker after `threshold` failures; from then on the
 * attempts fail fast — no connection reaches the stand-in — and the queue
 * retries them; once the dependency is back, a half-open probe closes the
 * breaker and every message arrives exactly once. The stand-ins count TCP
 * connections, so "no connection attempt" is observed on the wire.
 * Runs on PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { uuidv7 } from '@gatehouse/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { apiApplications } from '../src/db/schema.js';
import { breakersOf } from '../src/lib/breaker.js';
import { createOrgWithUser, startApp, type TestApp, testConfig, until } from './helpers.js';
import { type SmtpStandIn, startSmtpServer } from './stand-ins/smtp.js';

const THRESHOLD = 3;
const COOLDOWN_MS = 2_000;
const MESSAGES = 5;

const listen = (s: Server, port = 0) =>
  new Promise<number>((ok) => s.listen(port, '127.0.0.1', () => ok((s.address() as AddressInfo).port)));
const close = (s: Server) => new Promise<void>((ok) => s.close(() => ok()));

/** Accepts each connection, counts it and drops it at once: a dependency that is down. */
function dropper() {
  const state = { connections: 0 };
  const server = createTcpServer((socket: Socket) => {
    state.connections++;
    socket.destroy();
  });
  return { server, state };
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('circuit breakers', () => {
  it('a webhook host that drops connections is failed fast once its breaker opens, and each delivery arrives once when it is back', async () => {
    // One HTTP server that drops every connection while `down`, and answers 204 once it is back.
    const wire = { down: true, connections: 0, downConnections: 0 };
    const got: string[] = [];
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        got.push(String(req.headers['webhook-id']));
        res.writeHead(204).end();
      });
    });
    server.on('connection', (socket: Socket) => {
      wire.connections++;
      if (wire.down) {
        wire.downConnections++;
        socket.destroy();
      }
    });
    const port = await listen(server);
    cleanups.push(() => close(server));

    const base = testConfig();
    const t: TestApp = await startApp({
      webhooks: { ...base.webhooks, timeoutMs: 2_000, retryLimit: 10, retryDelayS: 1 },
    });
    cleanups.push(() => t.close());
    const breakers = breakersOf(t.app.ctx);
    breakers.settings.threshold = THRESHOLD;
    breakers.settings.cooldownMs = COOLDOWN_MS;
    const dependency = `webhook:127.0.0.1:${port}`;

    const admin = await createOrgWithUser(t.app, 'Breaker Org', ['OrgAdmin']);
    const appId = uuidv7();
    await t.app.ctx.db
      .insert(apiApplications)
      .values({ id: appId, orgId: admin.orgId, name: 'Breaker CRM', createdBy: admin.userId, updatedBy: admin.userId });
    const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
      t.app.inject({ method, url: `/api/devconsole${url}`, headers: admin.auth, ...(payload ? { payload } : {}) });
    const ep = await api('POST', `/apps/${appId}/webhooks`, { url: `http://127.0.0.1:${port}/hook`, events: ['visitpass.issued'] });
    expect(ep.statusCode, ep.body).toBe(201);
    const endpointId = (ep.json() as { id: string }).id;

    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const r = await api('POST', `/webhooks/${endpointId}/test`);
      expect(r.statusCode, r.body).toBe(202);
      ids.push((r.json() as { deliveryId: string }).deliveryId);
    }
    type Row = { id: string; status: string; attempts: number; durationMs: number | null; error: string | null };
    const rows = async () =>
      ((await api('GET', `/webhooks/${endpointId}/deliveries?limit=100`)).json() as { items: Row[] }).items.filter((d) =>
        ids.includes(d.id),
      );

    // Fail-fast attempts: failed with the breaker's message, no connection made.
    const fastFailed = await until(
      async () => {
        const fast = (await rows()).filter((d) => d.error?.includes('circuit open'));
        return fast.length > 0 ? fast : null;
      },
      'a delivery failed fast by the open breaker',
      45_000,
    );
    // Without the breaker every attempt makes a connection; with it, recorded attempts outrun the connections seen.
    const attempts = await until(
      async () => {
        const n = (await rows()).reduce((sum, d) => sum + d.attempts, 0);
        return n > wire.downConnections ? n : null;
      },
      'more attempts than connections while the host is down',
      30_000,
    );
    expect(wire.downConnections).toBeGreaterThanOrEqual(THRESHOLD);
    expect(ids.every((id) => !got.includes(id))).toBe(true);

    // Back: the half-open probe succeeds, the breaker closes, every delivery arrives once.
    const backAt = Date.now();
    wire.down = false;
    const delivered = await until(
      async () => {
        const r = await rows();
        return r.length === MESSAGES && r.every((d) => d.status === 'delivered') ? r : null;
      },
      'every delivery delivered after the host came back',
      60_000,
    );
    expect(breakers.stateOf(dependency)).toBe('closed');
    const webhookIds = ids.map((id) => `msg_${id.replaceAll('-', '')}`);
    for (const w of webhookIds) expect(got.filter((g) => g === w)).toHaveLength(1);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain(`gatehouse_breaker_state{dependency="${dependency}"} 0`);
    expect(metrics.body).toMatch(new RegExp(`gatehouse_breaker_opened_total\\{dependency="${dependency}"\\} [1-9]`));
    console.log(
      JSON.stringify({
        figure: 'webhook breaker',
        threshold: THRESHOLD,
        cooldownMs: COOLDOWN_MS,
        timeoutMs: 2_000,
        failFastMs: Math.max(...fastFailed.map((d) => d.durationMs ?? 0)),
        attemptsWhileDown: attempts,
        connectionsWhileDown: wire.downConnections,
        deliveredAfterBackMs: Date.now() - backAt,
        maxAttempts: Math.max(...delivered.map((d) => d.attempts)),
      }),
    );
  }, 150_000);

  it('an SMTP server that drops connections is failed fast once its breaker opens, and each message is sent once when it is back', async () => {
    const down = dropper();
    const port = await listen(down.server);
    let smtp: SmtpStandIn | undefined;
    cleanups.push(async () => {
      if (down.server.listening) await close(down.server);
      await smtp?.close();
    });
    const base = testConfig();
    const t: TestApp = await startApp({
      notify: { ...base.notify, smtpUrl: `smtp://127.0.0.1:${port}`, mailFrom: 'Visits <visits@acme.test>' },
      jobs: { ...base.jobs, retryLimit: 10, retryDelayS: 1 },
    });
    cleanups.push(() => t.close());
    const breakers = breakersOf(t.app.ctx);
    breakers.settings.threshold = THRESHOLD;
    breakers.settings.cooldownMs = COOLDOWN_MS;
    const dependency = `smtp:127.0.0.1:${port}`;
    const admin = await createOrgWithUser(t.app, 'Mail Org', ['OrgAdmin']);
    const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
      t.app.inject({ method, url: `/api/admin${url}`, headers: admin.auth, ...(payload ? { payload } : {}) });

    const to = Array.from({ length: MESSAGES }, (_, i) => `guard${i}@example.org`);
    const ids: string[] = [];
    for (const address of to) {
      const r = await api('POST', '/notifications/test', { channel: 'email', to: address, language: 'en' });
      expect(r.statusCode, r.body).toBe(202);
      ids.push((r.json() as { id: string }).id);
    }
    type Item = { id: string; status: string; attempts: number; error?: string };
    const items = async () =>
      ((await api('GET', '/notifications?limit=500')).json() as { items: Item[] }).items.filter((i) => ids.includes(i.id));

    await until(
      async () => ((await items()).some((i) => i.error?.includes('circuit open')) ? true : null),
      'a message failed fast by the open breaker',
      45_000,
    );
    const attempts = await until(
      async () => {
        const n = (await items()).reduce((sum, i) => sum + i.attempts, 0);
        return n > down.state.connections ? n : null;
      },
      'more attempts than connections while the server is down',
      30_000,
    );
    expect(down.state.connections).toBeGreaterThanOrEqual(THRESHOLD);

    // The server comes back on the same port.
    await close(down.server);
    const backAt = Date.now();
    smtp = await startSmtpServer({ port });
    const sent = await until(
      async () => {
        const r = await items();
        return r.length === MESSAGES && r.every((i) => i.status === 'sent') ? r : null;
      },
      'every message sent after the server came back',
      60_000,
    );
    expect(breakers.stateOf(dependency)).toBe('closed');
    for (const address of to) expect(smtp.received.filter((m) => m.to.includes(address))).toHaveLength(1);
    console.log(
      JSON.stringify({
        figure: 'smtp breaker',
        threshold: THRESHOLD,
        cooldownMs: COOLDOWN_MS,
        attemptsWhileDown: attempts,
        connectionsWhileDown: down.state.connections,
        sentAfterBackMs: Date.now() - backAt,
        maxAttempts: Math.max(...sent.map((i) => i.attempts)),
      }),
    );
  }, 150_000);
});
