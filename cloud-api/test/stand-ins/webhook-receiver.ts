/**
 * An integrator's webhook receiver on a free loopback port: it keeps every
 * request and verifies each one with the Standard Webhooks specification's
 * own library (`standardwebhooks`), as a receiver in the field would, under
 * the secret its path was given (`secrets`). How it answers is the test's
 * choice (`answer`): 204 unless told otherwise.
 *
 * Used by webhooks.test.ts, sandbox.test.ts and browser/devconsole.test.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export interface ReceivedHook {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The verified payload, or why verification failed (no secret for the path is a failure too). */
  verified: { ok: true; payload: WebhookPayload } | { ok: false; error: string };
  /** The status it was answered with. */
  answered: number;
}

export interface WebhookReceiver {
  /** The receiver's URL for `path` (default `/hook`). */
  url(path?: string): string;
  /** Every request, in order. */
  received: ReceivedHook[];
  /** The signing secret (`whsec_…`) of each path, set by the test once the endpoint is created. */
  secrets: Map<string, string>;
  /** The status to answer a request with; `earlier` counts the requests before it with the same webhook-id. */
  answer: (path: string, earlier: number) => number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const secrets = new Map<string, string>();
  const receiver: WebhookReceiver = {
    url: (path = '/hook') => `${base}${path}`,
    received,
    secrets,
    answer: () => 204,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let verified: ReceivedHook['verified'];
      try {
        const secret = secrets.get(path);
        if (!secret) throw new Error(`no secret for ${path}`);
        verified = { ok: true, payload: new Webhook(secret).verify(body, headers) as WebhookPayload };
      } catch (err) {
        verified = { ok: false, error: String(err) };
      }
      const earlier = received.filter((r) => r.headers['webhook-id'] === headers['webhook-id']).length;
      const answered = receiver.answer(path, earlier);
      received.push({ path, headers, body, verified, answered });
      res.writeHead(answered, { 'content-type': 'text/plain' });
      res.end(answered < 300 ? undefined : 'not now');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
