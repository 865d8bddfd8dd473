/**
 * A TCP switch on a fixed loopback port in front of a real stand-in (an SMS
 * gateway, the Bot API, a push service — TLS passes through untouched), to
 * make a dependency fail for real without moving its address:
 * - `hang`: accepts every connection and never says a word (a host that is
 *   up at the TCP level but stuck); how long each connection stayed open until
 *   the client gave up is recorded, so a test sees the client's timeout on the
 *   wire;
 * - `drop`: accepts and closes at once (a host that is down);
 * - `up`: pipes to the target.
 * Switching the mode closes every open connection, so a kept-alive connection
 * from before cannot carry a request past the new mode.
 */

import type { AddressInfo } from 'node:net';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type FlakyMode = 'hang' | 'drop' | 'up';

export interface FlakyTcp {
  port: number;
  mode: FlakyMode;
  /** Connections accepted in each mode. */
  connections: Record<FlakyMode, number>;
  /** Milliseconds each hung connection that carried a request stayed open before the client closed it. */
  hungFor: number[];
  set(mode: FlakyMode): void;
  close(): Promise<void>;
}

/**
 * `serverSpeaksFirst`: the protocol starts with the server's greeting (SMTP), so a hung connection is an
 * attempt even though the client never sent a byte; otherwise (HTTP, TLS) only a connection that carried
 * data counts, as an HTTP client may open a pooled connection and leave it idle.
 */
export async function startFlakyTcp(
  target: { host?: string; port: number },
  opts: { mode?: FlakyMode; serverSpeaksFirst?: boolean } = {},
): Promise<FlakyTcp> {
  const mode = opts.mode ?? 'up';
  const open = new Set<Socket>();
  const closedHere = new WeakSet<Socket>();
  const closeAll = () => {
    for (const s of open) {
      closedHere.add(s);
      s.destroy();
    }
    open.clear();
  };
  const self: FlakyTcp = {
    port: 0,
    mode,
    connections: { hang: 0, drop: 0, up: 0 },
    hungFor: [],
    set(m) {
      self.mode = m;
      closeAll();
    },
    close: async () => {
      closeAll();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((socket) => {
    const m = self.mode;
    self.connections[m]++;
    if (m === 'drop') {
      socket.destroy();
      return;
    }
    open.add(socket);
    socket.on('error', () => undefined);
    if (m === 'hang') {
      const since = performance.now();
      let measured = false;
      // The client giving up (its timeout) is what is measured, not a mode switch or close() ending it.
      let asked = opts.serverSpeaksFirst ?? false;
      socket.once('data', () => {
        asked = true;
      });
      const clientGaveUp = () => {
        // A connection that never carried a request (opened for a pool, then idle) is no attempt to measure.
        if (measured || !asked || closedHere.has(socket)) return;
        measured = true;
        self.hungFor.push(Math.round(performance.now() - since));
      };
      socket.once('end', () => {
        clientGaveUp();
        socket.destroy();
      });
      socket.once('close', () => {
        clientGaveUp();
        open.delete(socket);
      });
      return;
    }
    const upstream = createConnection({ host: target.host ?? '127.0.0.1', port: target.port });
    open.add(upstream);
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => {
      open.delete(socket);
      upstream.destroy();
    });
    upstream.on('close', () => {
      open.delete(upstream);
      socket.destroy();
    });
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  self.port = (server.address() as AddressInfo).port;
  return self;
}
