/**
 * Resumable downloads of release files from the cloud (HTTP Basic with the
 * device's broker credentials). A partial file is continued with a Range
 * request from its length; a 206 appends, a 200 starts again from zero. The
 * manifest's size bounds every file (TUF's endless-data attack): a server
 * sending more is cut off. Streamed to disk in the daemon's event loop, so
 * the scan path never waits on it; retries back off and are bounded.
 */
import { createWriteStream, statSync, truncateSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Exact size from the signed manifest: never more is written. */
  size: number;
  auth?: { username: string; password: string } | undefined;
  /** PEM of a private CA for an https:// cloud. */
  ca?: Buffer | undefined;
  /** No byte for this long aborts the attempt (it is retried). */
  idleTimeoutMs?: number;
  attempts?: number;
  backoffMs?: number;
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
}

export class DownloadError extends Error {
  constructor(
    message: string,
    /** false: retrying cannot help (404, 401, a size the manifest does not allow). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** What to ask for, given what is on disk: nothing (complete), from a byte, or from zero (bigger than allowed). */
export function rangeStart(onDisk: number, size: number): { start: number; truncate: boolean } | 'complete' {
  if (onDisk === size) return 'complete';
  if (onDisk > size) return { start: 0, truncate: true };
  return { start: onDisk, truncate: false };
}

/**
 * How to take a response to a request from `start`: append (206 from exactly there), restart from zero (200:
 * the server ignored the Range), or fail.
 */
export function responsePlan(
  status: number,
  contentRange: string | undefined,
  start: number,
  size: number,
): { mode: 'append' | 'restart' } | { error: string; retryable: boolean } {
  if (status === 200) return { mode: 'restart' };
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange ?? '');
    if (!m || Number(m[1]) !== start)
      return { error: `206 with Content-Range ${contentRange ?? '(none)'} for a request from ${start}`, retryable: true };
    if (m[3] !== '*' && Number(m[3]) !== size)
      return { error: `the server's file is ${m[3]} bytes, the manifest says ${size}`, retryable: false };
    return { mode: 'append' };
  }
  if (status === 416) return { error: '416: the server has fewer bytes than the manifest says', retryable: false };
  const retryable = status >= 500 || status === 429 || status === 408;
  return { error: `HTTP ${status}`, retryable };
}

const sizeOf = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

function get(url: URL, headers: Record<string, string>, o: DownloadOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: 'GET', headers, ...(o.ca ? { ca: o.ca } : {}), ...(o.signal ? { signal: o.signal } : {}) },
      resolve,
    );
    req.setTimeout(o.idleTimeoutMs ?? 15_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** One attempt: resumes from what is on disk; resolves when the file has exactly `size` bytes. */
async function attempt(o: DownloadOptions): Promise<void> {
  const plan = rangeStart(sizeOf(o.dest), o.size);
  if (plan === 'complete') return;
  if (plan.truncate) truncateSync(o.dest, 0);
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (o.auth) headers.authorization = `Basic ${Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64')}`;
  if (plan.start > 0) headers.range = `bytes=${plan.start}-`;
  const res = await get(new URL(o.url), headers, o);
  const how = responsePlan(res.statusCode ?? 0, res.headers['content-range'], plan.start, o.size);
  if ('error' in how) {
    res.resume();
    throw new DownloadError(how.error, how.retryable);
  }
  const from = how.mode === 'append' ? plan.start : 0;
  const declared = res.headers['content-length'];
  if (declared !== undefined && from + Number(declared) > o.size) {
    res.resume();
    throw new DownloadError(`the server sends ${declared} bytes from ${from}, the manifest allows ${o.size}`, false);
  }
  let written = from;
  const bound = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      written += chunk.length;
      if (written > o.size) return cb(new DownloadError(`more than the manifest's ${o.size} bytes`, false));
      o.onProgress?.(written);
      cb(null, chunk);
    },
  });
  res.setTimeout(o.idleTimeoutMs ?? 15_000, () => res.destroy(new Error('timed out')));
  await pipeline(res, bound, createWriteStream(o.dest, { flags: how.mode === 'append' ? 'a' : 'w', mode: 0o600 }));
  if (written !== o.size) throw new DownloadError(`connection ended at ${written} of ${o.size} bytes`, true);
}

/** Downloads with retries (exponential back-off); a partial file is kept between attempts and calls. */
export async function download(o: DownloadOptions): Promise<{ bytes: number; attempts: number }> {
  const max = o.attempts ?? 5;
  let last: unknown;
  for (let i = 1; i <= max; i++) {
    try {
      await attempt(o);
      return { bytes: o.size, attempts: i };
    } catch (e) {
      last = e;
      if (o.signal?.aborted || (e instanceof DownloadError && !e.retryable)) throw e;
      if (i < max) await new Promise((r) => setTimeout(r, Math.min(30_000, (o.backoffMs ?? 500) * 2 ** (i - 1))));
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

/** A JSON document (the signed release), bounded in size. */
export async function fetchJson(
  url: string,
  o: Pick<DownloadOptions, 'auth' | 'ca' | 'idleTimeoutMs'> & { maxBytes?: number },
): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.auth) headers.authorization = `Basic ${Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64')}`;
  const res = await get(new URL(url), headers, { url, dest: '', size: 0, ...o });
  if (res.statusCode !== 200) {
    res.resume();
    throw new DownloadError(`GET ${url}: HTTP ${res.statusCode}`, (res.statusCode ?? 0) >= 500);
  }
  const max = o.maxBytes ?? 4 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      res.destroy();
      throw new DownloadError(`GET ${url}: more than ${max} bytes`, false);
    }
    chunks.push(c);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}
