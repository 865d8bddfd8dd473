/**
 * Loopback HTTP: GET /health, /metrics, /events/recent (CONTRACT.md), and the
 * local control API until commands arrive over MQTT: POST /open, /lockdown,
 * /release (ends a lockdown and an emergency); for simulated hardware only,
 * POST /scan {text, reader?}, POST /passage, POST /door {open} and
 * GET /relay/pulses (a route whose driver lacks the capability does not
 * exist: 404).
 *
 * Bound to 127.0.0.1, which is not enough on its own: any local process, and
 * any web page in a browser on the controller, can reach it. So every route
 * but /health and /metrics (read-only, no secrets; Prometheus and monitors
 * scrape them as they are) needs
 * - a Host header naming this loopback port (127.0.0.1, localhost or [::1]):
 *   a DNS-rebinding page has its own name there (421);
 * - `Authorization: Bearer <local token>` (local-token.ts; 401);
 * - on a POST, `content-type: application/json`, which a cross-origin page
 *   cannot send without a CORS preflight, and no preflight is ever answered (415).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Direction } from '@gatehouse/protocol';
import type { EdgeEvent as CheckinEvent } from './event.js';
import type { PulseRecord } from './hardware/types.js';

export interface LocalApi {
  health(): object;
  metrics(): Promise<{ contentType: string; body: string }>;
  recent(limit: number): CheckinEvent[];
  open(direction?: Direction): CheckinEvent;
  lockdown(on: boolean): void;
  /** Present with a simulated reader: feeds it; null when no simulated reader has that name. */
  scan?(text: string, reader?: string): { debounced: boolean; event: CheckinEvent | null } | null;
  /** Present with a simulated passage sensor. */
  passage?(): CheckinEvent;
  /** Present with a simulated door contact: opens or closes it. */
  door?(open: boolean): { open: boolean };
  /** Present with a relay that keeps its pulses (the simulated one). */
  relayPulses?(): readonly PulseRecord[];
}

export interface HttpOptions {
  port: number;
  host?: string;
  /** The local token every route but /health and /metrics needs. */
  token: string;
}

const MAX_BODY = 4096;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new HttpError(413, 'too_large', `body over ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  if (size === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {}
  throw new HttpError(400, 'bad_json', 'body must be a JSON object');
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;
interface Route {
  /** open: /health and /metrics; guarded: Host, token and (on a POST) JSON checked first. */
  access: 'open' | 'guarded';
  handle: Handler;
}

function routes(api: LocalApi): Map<string, Route> {
  const open = (handle: Handler): Route => ({ access: 'open', handle });
  const guarded = (handle: Handler): Route => ({ access: 'guarded', handle });
  const table = new Map<string, Route>([
    ['GET /health', open((_req, res) => send(res, 200, api.health()))],
    [
      'GET /metrics',
      open(async (_req, res) => {
        const m = await api.metrics();
        res.writeHead(200, { 'content-type': m.contentType });
        res.end(m.body);
      }),
    ],
    [
      'GET /events/recent',
      guarded((_req, res, url) => {
        const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 50) || 50, 1), 1000);
        send(res, 200, { items: api.recent(limit) });
      }),
    ],
    [
      'POST /open',
      guarded(async (req, res) => {
        const body = await readJson(req);
        const d = body.direction;
        if (d !== undefined && d !== 'in' && d !== 'out') throw new HttpError(400, 'bad_request', 'direction: in or out');
        send(res, 200, { event: api.open(d) });
      }),
    ],
    [
      'POST /lockdown',
      guarded(async (req, res) => {
        await readJson(req);
        api.lockdown(true);
        send(res, 200, { lockdown: true });
      }),
    ],
    [
      'POST /release',
      guarded(async (req, res) => {
        await readJson(req);
        api.lockdown(false);
        send(res, 200, { lockdown: false });
      }),
    ],
  ]);
  // The simulation routes exist only when a driver has the capability.
  const { scan, passage, door, relayPulses } = api;
  if (scan) {
    table.set(
      'POST /scan',
      guarded(async (req, res) => {
        const body = await readJson(req);
        if (typeof body.text !== 'string' || body.text.length > 2048) throw new HttpError(400, 'bad_request', 'text: string required');
        if (body.reader !== undefined && typeof body.reader !== 'string') throw new HttpError(400, 'bad_request', 'reader: string');
        const r = scan(body.text, body.reader as string | undefined);
        if (!r) throw new HttpError(404, 'no_reader', 'no simulated reader by that name');
        send(res, 200, r);
      }),
    );
  }
  if (passage) {
    table.set(
      'POST /passage',
      guarded(async (req, res) => {
        await readJson(req);
        send(res, 200, { event: passage() });
      }),
    );
  }
  if (door) {
    table.set(
      'POST /door',
      guarded(async (req, res) => {
        const body = await readJson(req);
        if (typeof body.open !== 'boolean') throw new HttpError(400, 'bad_request', 'open: boolean required');
        send(res, 200, door(body.open));
      }),
    );
  }
  if (relayPulses) {
    table.set(
      'GET /relay/pulses',
      guarded((_req, res) => {
        const pulses = relayPulses();
        send(res, 200, { count: pulses.length, pulses });
      }),
    );
  }
  return table;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function checkGuarded(req: IncomingMessage, port: number, tokenDigest: Buffer): void {
  const host = (req.headers.host ?? '').toLowerCase();
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}` && host !== `[::1]:${port}`) {
    throw new HttpError(421, 'bad_host', `Host must be 127.0.0.1:${port}, localhost:${port} or [::1]:${port}`);
  }
  const m = /^Bearer +([A-Za-z0-9_-]+) *$/i.exec(req.headers.authorization ?? '');
  if (!m?.[1] || !timingSafeEqual(digest(m[1]), tokenDigest)) {
    throw new HttpError(401, 'unauthorized', "Authorization: Bearer <the token in the data dir's local-token file> required", {
      'www-authenticate': 'Bearer',
    });
  }
  if (req.method === 'POST') {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') throw new HttpError(415, 'unsupported_media_type', 'content-type: application/json required');
  }
}

export async function startHttp(api: LocalApi, opts: HttpOptions): Promise<{ server: Server; port: number }> {
  const table = routes(api);
  const tokenDigest = digest(opts.token);
  let port = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const key = `${req.method} ${url.pathname}`;
    const r = table.get(key);
    if (!r) throw new HttpError(404, 'not_found', `${key} not found`);
    if (r.access === 'guarded') checkGuarded(req, port, tokenDigest);
    await r.handle(req, res, url);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) send(res, e.status, { error: { code: e.code, message: e.message } }, e.headers);
      else send(res, 500, { error: { code: 'internal', message: 'internal error' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return { server, port };
}
