/**
 * Console live feed: WebSocket at /api/admin/live (CONTRACT.md). The token
 * travels in the first message, never in the URL (URLs end up in logs).
 * 4401: bad token (an application's API key: reason `api_key_not_allowed_here`) or none within the timeout, and later whenever the session
 * that opened the socket ends (logout, user disabled or deleted, the feed's
 * permission taken away, the access token expired); 4403: signed in but not
 * allowed to watch.
 *
 * A socket outlives the request that authenticated it, so every open socket
 * is checked again every `recheckMs` against the database — not the
 * per-process principal cache — in one query for all of them: a session
 * ended on any instance closes its sockets on every instance within that time.
 *
 * What a socket hears is what any instance published (lib/cluster-events.ts:
 * NOTIFY on PostgreSQL), not only this one: a console on instance B sees the
 * check-in instance A ingested.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { decodeJwt } from 'jose';
import { type WebSocket, WebSocketServer } from 'ws';
import { authenticate } from '../../auth/authenticate.js';
import { type Permission, permissionsOf } from '../../auth/rbac.js';
import { users } from '../../db/schema.js';
import { startClusterEvents } from '../../lib/cluster-events.js';
import { HttpError } from '../../lib/errors.js';
import { eventForViewer, nameAccess } from '../checkins/service.js';

export const LIVE_PATH = '/api/admin/live';
const NEEDS: Permission = 'checkins:read';
/** Users looked up per query: bounds one statement's parameters whatever the number of sockets. */
const CHUNK = 1000;

/** What an open, authenticated socket is allowed on: re-checked every tick. */
interface Watcher {
  ws: WebSocket;
  userId: string;
  /** Our own session (null for an OIDC token: then only the user and their roles are checked). */
  sessionId: string | null;
  /** When the token that opened the socket expires (ms), if it says. */
  expiresAt: number | null;
}

function expiryOf(token: string): number | null {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

export interface LiveFeedOptions {
  /** How long a socket may stay silent before its auth message (CONTRACT: 5 s). */
  authTimeoutMs?: number | undefined;
  /** How often every open socket's session, user and roles are checked again. */
  recheckMs?: number | undefined;
}

/** The feed as a plugin; not encapsulated, since it hangs on the root server's upgrade event and closes with it. */
export const liveFeed = fp<LiveFeedOptions>(async (app, opts) => installLiveFeed(app, opts.authTimeoutMs, opts.recheckMs), {
  name: 'live-feed',
});

export async function installLiveFeed(app: FastifyInstance, authTimeoutMs = 5000, recheckMs = 2000): Promise<void> {
  const { ctx } = app;
  // Events of every instance, to this one's sockets; this one's, to every other.
  const stopCluster = await startClusterEvents(ctx.database, ctx.events, app.log);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  const watchers = new Set<Watcher>();

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== LIVE_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  });

  function end(w: Watcher, reason: string) {
    watchers.delete(w);
    w.ws.close(4401, reason);
  }

  function serve(ws: WebSocket) {
    let unsubscribe: (() => void) | null = null;
    let watcher: Watcher | null = null;
    const timer = setTimeout(() => ws.close(4401, 'no auth'), authTimeoutMs);
    ws.once('message', async (raw) => {
      clearTimeout(timer);
      let token: unknown;
      try {
        const msg = JSON.parse(raw.toString()) as { type?: unknown; token?: unknown };
        token = msg.type === 'auth' ? msg.token : undefined;
      } catch {
        token = undefined;
      }
      if (typeof token !== 'string') return ws.close(4401, 'auth expected');
      try {
        const principal = await authenticate(ctx, token);
        if (!principal.permissions.has(NEEDS)) return ws.close(4403, 'forbidden');
        if (ws.readyState !== ws.OPEN) return;
        watcher = { ws, userId: principal.userId, sessionId: principal.sessionId, expiresAt: expiryOf(token) };
        watchers.add(watcher);
        // The names a check-in carries are shown as far as this viewer's permissions go.
        const access = nameAccess(principal);
        unsubscribe = ctx.events.subscribe(principal.orgId, (e) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(eventForViewer(e, access)));
        });
        ws.send(JSON.stringify({ type: 'ready' }));
      } catch (err) {
        // An application's key is never a viewer of the feed (keys act on /api/admin's routes only): said as such.
        ws.close(4401, err instanceof HttpError && err.code === 'api_key_not_allowed_here' ? err.code : 'bad token');
      }
    });
    ws.on('close', () => {
      clearTimeout(timer);
      if (watcher) watchers.delete(watcher);
      unsubscribe?.();
    });
    ws.on('error', () => ws.terminate());
  }

  /** Users still active, with their roles and which of the given sessions are still alive. */
  async function alive(userIds: string[], sessionIds: string[]) {
    // Spelled out with table names: drizzle leaves a lone table's columns unqualified, and inside
    // the subqueries an unqualified "id" would be the session's, not the user's.
    return ctx.db
      .select({
        id: users.id,
        roles: sql<string[]>`coalesce((select array_agg(ur.role) from user_roles ur where ur.user_id = "users"."id"), '{}')`,
        sessions: sql<string[]>`coalesce((select array_agg(s.id::text) from sessions s
          where s.user_id = "users"."id" and s.revoked_at is null and s.id = any(${sql.param(sessionIds)}::uuid[])), '{}')`,
      })
      .from(users)
      .where(and(sql`${users.id} = any(${sql.param(userIds)}::uuid[])`, isNull(users.deletedAt), eq(users.status, 'active')));
  }

  let checking = false;
  async function recheck() {
    if (checking || watchers.size === 0) return;
    checking = true;
    try {
      const now = Date.now();
      for (const w of watchers) if (w.expiresAt !== null && w.expiresAt <= now) end(w, 'token expired');
      const batch = [...watchers];
      const userIds = [...new Set(batch.map((w) => w.userId))];
      const found = new Map<string, { permitted: boolean; sessions: Set<string> }>();
      for (let i = 0; i < userIds.length; i += CHUNK) {
        const chunk = userIds.slice(i, i + CHUNK);
        const chunkSet = new Set(chunk);
        const sids = batch.flatMap((w) => (w.sessionId && chunkSet.has(w.userId) ? [w.sessionId] : []));
        for (const r of await alive(chunk, sids))
          found.set(r.id, { permitted: permissionsOf(r.roles).has(NEEDS), sessions: new Set(r.sessions) });
      }
      for (const w of batch) {
        if (!watchers.has(w)) continue;
        const u = found.get(w.userId);
        if (!u) end(w, 'session ended');
        else if (w.sessionId !== null && !u.sessions.has(w.sessionId)) end(w, 'session ended');
        else if (!u.permitted) end(w, 'permission withdrawn');
      }
    } catch (err) {
      // A database hiccup keeps sockets as they are; the next tick tries again.
      app.log.warn({ err }, 'live feed: session re-check failed');
    } finally {
      checking = false;
    }
  }
  const ticker = setInterval(() => void recheck(), recheckMs);
  ticker.unref();

  app.addHook('onClose', async () => {
    clearInterval(ticker);
    await stopCluster();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
}
