import i18n from '../i18n/index.ts';
import { getSession, setSession } from './session.ts';
import type { LoginBody, Page, RefreshBody, TokenPair } from './types.ts';

/** The server's `{error: {code, message}}`, plus the form field it is about when the message names one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

/** Fastify validation messages read like "body/fullName must NOT have fewer than 1 characters". */
function fieldOf(message: string): string | null {
  const m = /^(?:body|querystring)\/([A-Za-z0-9_]+)/.exec(message) ?? /^([a-z][A-Za-z]+) (?:must|is|should)\b/.exec(message);
  return m?.[1] ?? null;
}

/** The first complaint of a validation message, without its JSON path: "Must not have more than 64 characters". */
function humanise(message: string): string {
  const first = message.split(/, (?=(?:body|querystring|params)\b)/)[0] ?? message;
  const m = first
    .replace(/^(?:body|querystring|params)\/[A-Za-z0-9_/]+ /, '')
    .replace(/^(?:body|querystring|params) /, '')
    .replace(/\bNOT\b/g, 'not');
  return m.charAt(0).toUpperCase() + m.slice(1);
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time: parallel 401s wait for the same rotation (a refresh token works once). */
async function refreshTokens(): Promise<boolean> {
  const refreshToken = getSession()?.refreshToken;
  if (!refreshToken) return false;
  refreshing ??= (async () => {
    try {
      const r = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken } satisfies RefreshBody),
      });
      if (!r.ok) return false;
      const pair = (await r.json()) as TokenPair;
      setSession({ accessToken: pair.accessToken, refreshToken: pair.refreshToken, user: pair.user });
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, q?: Query): string {
  if (!q) return path;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

async function toError(r: Response): Promise<ApiError> {
  let code = 'http_error';
  let message = r.statusText || `HTTP ${r.status}`;
  try {
    const body = (await r.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(r.status, code, humanise(message), fieldOf(message));
}

export async function request<T>(method: string, path: string, body?: unknown, opts: { raw?: boolean } = {}): Promise<T> {
  const send = () => {
    const headers: Record<string, string> = {};
    const s = getSession();
    if (s) headers.authorization = `Bearer ${s.accessToken}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  };
  let r: Response;
  try {
    r = await send();
  } catch {
    throw new ApiError(0, 'network', i18n.t('error.network'));
  }
  if (r.status === 401 && getSession() && !path.startsWith('/api/auth/login')) {
    if (await refreshTokens()) r = await send();
    else {
      setSession(null);
      throw new ApiError(401, 'unauthorized', i18n.t('error.sessionEnded'));
    }
  }
  if (!r.ok) throw await toError(r);
  if (opts.raw) return (await r.text()) as T;
  if (r.status === 204) return undefined as T;
  return (await r.json()) as T;
}

export const api = {
  get: <T>(path: string, q?: Query) => request<T>('GET', withQuery(path, q)),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  del: (path: string) => request<void>('DELETE', path),
};

export type { Page };

/** Follows cursors until `max` rows (lookups for selects, CSV export, the hourly chart). */
export async function getAll<T>(path: string, q: Query = {}, max = 2000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const pg: Page<T> = await api.get<Page<T>>(path, { ...q, limit: Math.min(500, max - out.length), cursor });
    out.push(...pg.items);
    cursor = pg.nextCursor;
  } while (cursor && out.length < max);
  return out;
}

export async function login(email: string, password: string): Promise<void> {
  const pair = await request<TokenPair>('POST', '/api/auth/login', { email, password } satisfies LoginBody);
  setSession({ accessToken: pair.accessToken, refreshToken: pair.refreshToken, user: pair.user }, { persist: true });
}

export async function logout(): Promise<void> {
  const s = getSession();
  try {
    if (s) await request('POST', '/api/auth/logout', s.refreshToken ? { refreshToken: s.refreshToken } : {});
  } catch {
    // Signing out locally matters more than telling the server.
  }
  setSession(null);
}
