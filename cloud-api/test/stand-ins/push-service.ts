/**
 * A local stand-in of a browser vendor's push service (RFC 8030): an HTTPS
 * server (push endpoints are https; the certificate is a self-signed one made
 * with the openssl CLI) that records every POST to `/push/<id>` with its
 * headers and raw body, and answers 201 — or what the test told it
 * (`respond(id, 410)`: the subscription is gone).
 *
 * The cloud reaches it through Node's https.globalAgent; `trust()` adds the
 * stand-in's certificate to that agent's CAs for this test process only
 * (verification stays on).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PushRequest {
  id: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface PushServiceStandIn {
  origin: string;
  /** The endpoint URL of a (made-up) browser subscription. */
  endpoint(id: string): string;
  received: PushRequest[];
  /** Answer this status to every later push to `id`. */
  respond(id: string, status: number): void;
  /** Trust the stand-in's certificate in this process's default https agent. */
  trust(): void;
  waitFor(n: number, ms?: number): Promise<PushRequest[]>;
  close(): Promise<void>;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startPushService(): Promise<PushServiceStandIn> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-push-'));
  const certFile = join(dir, 'push.crt');
  const keyFile = join(dir, 'push.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(certFile);
  const key = readFileSync(keyFile);
  rmSync(dir, { recursive: true, force: true });

  const statuses = new Map<string, number>();
  const received: PushRequest[] = [];
  const server = https.createServer({ cert, key }, (req, res) => {
    const m = /^\/push\/([\w-]+)$/.exec(req.url ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || !m) {
        res.writeHead(404).end();
        return;
      }
      const id = m[1] as string;
      received.push({ id, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(statuses.get(id) ?? 201, { location: `/message/${received.length}` }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    endpoint: (id) => `${origin}/push/${id}`,
    received,
    respond: (id, status) => void statuses.set(id, status),
    trust() {
      const opts = https.globalAgent.options as { ca?: Array<string | Buffer> | string | Buffer };
      const current = opts.ca === undefined ? [] : Array.isArray(opts.ca) ? opts.ca : [opts.ca];
      opts.ca = [...current, cert];
    },
    async waitFor(n, ms = 15_000) {
      const end = Date.now() + ms;
      while (received.length < n) {
        if (Date.now() > end) throw new Error(`stand-in push service: ${received.length} of ${n} pushes after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
