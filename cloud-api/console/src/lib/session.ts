import type { UserSummary } from './types.ts';

/** Who is signed in, as `/api/auth/me` and the token pair say. */
export type SessionUser = UserSummary;

/**
 * Tokens live in memory, mirrored to sessionStorage so a reload keeps the
 * tab signed in but a new tab or a closed browser does not. An embedded
 * console (token from the host panel) never writes storage.
 */
export interface Session {
  accessToken: string;
  refreshToken: string | null;
  user: SessionUser;
}

const KEY = 'gatehouse.session';
let current: Session | null = null;
let persist = true;
const listeners = new Set<() => void>();

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.accessToken === 'string' && s.user ? s : null;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  if (!current && persist) current = load();
  return current;
}

export function setSession(s: Session | null, opts: { persist?: boolean } = {}): void {
  if (opts.persist !== undefined) persist = opts.persist;
  current = s;
  try {
    if (s && persist) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage may be blocked in a third-party iframe; memory is enough then.
  }
  for (const l of listeners) l();
}

export function onSessionChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
