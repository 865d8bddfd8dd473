/**
 * Loopback HTTP: GET /health, /metrics, /events/recent (CONTRACT.md), the
 * simulated relay's pulse log, and the local control API until commands
 * arrive over MQTT: POST /scan {text, reader?}, /open, /lockdown, /release,
 * /passage. Bound to 127.0.0.1 only: anything that can reach it is already
 * on the controller.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Direction } from '@gatehouse/protocol';
import type { EdgeEvent as CheckinEvent } from './event.js';

export interface LocalApi {
  health(): object;
  metrics(): Promise<{ contentType: string; body: string }>;
  recent(limit: number): CheckinEvent[];
  /** Feeds a simulated reader; null when no such reader. */
  scan(text: string, reader?: string): { debounced: boolean; event: CheckinEvent | null } | null;
  open(direction?: Direction): CheckinEvent;
  lockdown(on: boolean): void;
  /** Simulated passage sensor; false when there is none. */
  passage(): CheckinEvent | null;
  relayPulses(): readonly { at: number; ms: number }[] | null;
}

const MAX_BODY = 4096;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
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

async function route(api: LocalApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const key = `${req.method} ${url.pathname}`;
  switch (key) {
    case 'GET /health':
      return send(res, 200, api.health());
    case 'GET /metrics': {
      const m = await api.metrics();
      res.writeHead(200, { 'content-type': m.contentType });
      res.end(m.body);
      return;
    }
    case 'GET /events/recent': {
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 50) || 50, 1), 1000);
      return send(res, 200, { items: api.recent(limit) });
    }
    case 'GET /relay/pulses': {
      const pulses = api.relayPulses();
      if (!pulses) throw new HttpError(404, 'not_simulated', 'the relay is not simulated');
      return send(res, 200, { count: pulses.length, pulses });
    }
    case 'POST /scan': {
      const body = await readJson(req);
      if (typeof body.text !== 'string' || body.text.length > 2048) throw new HttpError(400, 'bad_request', 'text: string required');
      if (body.reader !== undefined && typeof body.reader !== 'string') throw new HttpError(400, 'bad_request', 'reader: string');
      const r = api.scan(body.text, body.reader as string | undefined);
      if (!r) throw new HttpError(404, 'no_reader', 'no simulated reader by that name');
      return send(res, 200, r);
    }
    case 'POST /open': {
      const body = await readJson(req);
      const d = body.direction;
      if (d !== undefined && d !== 'in' && d !== 'out') throw new HttpError(400, 'bad_request', 'direction: in or out');
      return send(res, 200, { event: api.open(d) });
    }
    case 'POST /lockdown':
      api.lockdown(true);
      return send(res, 200, { lockdown: true });
    case 'POST /release':
      api.lockdown(false);
      return send(res, 200, { lockdown: false });
    case 'POST /passage': {
      const e = api.passage();
      if (!e) throw new HttpError(404, 'no_sensor', 'no simulated passage sensor');
      return send(res, 200, { event: e });
    }
    default:
      throw new HttpError(404, 'not_found', `${key} not found`);
  }
}

export async function startHttp(api: LocalApi, port: number, host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    route(api, req, res).catch((e: unknown) => {
      if (e instanceof HttpError) send(res, e.status, { error: { code: e.code, message: e.message } });
      else send(res, 500, { error: { code: 'internal', message: 'internal error' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
