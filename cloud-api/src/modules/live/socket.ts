/**
 * Console live feed: WebSocket at /api/admin/live (CONTRACT.md). The token
 * travels in the first message, never in the URL (URLs end up in logs).
 * 4401: bad token or none within the timeout; 4403: signed in but not allowed to watch.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type WebSocket, WebSocketServer } from 'ws';
import { authenticate } from '../../auth/authenticate.js';

export const LIVE_PATH = '/api/admin/live';

export function installLiveFeed(app: FastifyInstance, authTimeoutMs = 5000): void {
  const { ctx } = app;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== LIVE_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  });

  function serve(ws: WebSocket) {
    let unsubscribe: (() => void) | null = null;
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
        if (!principal.permissions.has('checkins:read')) return ws.close(4403, 'forbidden');
        if (ws.readyState !== ws.OPEN) return;
        unsubscribe = ctx.events.subscribe(principal.orgId, (e) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(e));
        });
        ws.send(JSON.stringify({ type: 'ready' }));
      } catch {
        ws.close(4401, 'bad token');
      }
    });
    ws.on('close', () => {
      clearTimeout(timer);
      unsubscribe?.();
    });
    ws.on('error', () => ws.terminate());
  }

  app.addHook('onClose', async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
}
