import type { ConsoleConfig } from '@gatehouse/cloud-api/api';
import { api } from './api.ts';
import { type SessionUser, setSession } from './session.ts';

/**
 * Embedding (`?embed=1`): the console inside another admin panel's iframe.
 * The host hands a token over with
 *   iframe.contentWindow.postMessage({type: 'gatehouse:token', accessToken, refreshToken?}, consoleOrigin)
 * and only origins in the server's allow-list (`GET /api/console/config` →
 * `{frameAncestors: [...]}`, the same list as the CSP frame-ancestors) are
 * heard. An embedded session lives in memory only.
 */
export const isEmbedded = () => new URLSearchParams(window.location.search).get('embed') === '1';

export async function allowedOrigins(): Promise<string[]> {
  try {
    const r = await fetch('/api/console/config', { headers: { accept: 'application/json' } });
    if (!r.ok) return [];
    // Checked all the same: an older server or a proxy's error page may answer something else.
    const c = (await r.json()) as Partial<ConsoleConfig>;
    return Array.isArray(c.frameAncestors) ? c.frameAncestors.filter((o) => typeof o === 'string' && /^https?:\/\/[^/]+$/.test(o)) : [];
  } catch {
    return [];
  }
}

export function startEmbedListener(onStatus: (s: string) => void): () => void {
  let allowed: string[] = [];
  const handler = async (e: MessageEvent) => {
    if (!allowed.includes(e.origin)) return;
    const d = e.data as { type?: unknown; accessToken?: unknown; refreshToken?: unknown } | null;
    if (!d || d.type !== 'gatehouse:token' || typeof d.accessToken !== 'string') return;
    const refreshToken = typeof d.refreshToken === 'string' ? d.refreshToken : null;
    // The user comes from the server, never from the message.
    setSession(
      { accessToken: d.accessToken, refreshToken, user: { id: '', orgId: '', email: '', roles: [], language: null } },
      { persist: false },
    );
    try {
      const user = await api.get<SessionUser>('/api/auth/me');
      setSession({ accessToken: d.accessToken, refreshToken, user }, { persist: false });
      onStatus('signed-in');
    } catch {
      setSession(null, { persist: false });
      onStatus('rejected');
    }
  };
  const listener = (e: MessageEvent) => void handler(e);
  window.addEventListener('message', listener);
  void allowedOrigins().then((list) => {
    allowed = list;
    onStatus(list.length ? 'waiting' : 'not-allowed');
    // Chrome tells a frame its parent's origin; say hello only to an allowed one (a wrong target origin is a console error).
    const parent = window.location.ancestorOrigins?.[0];
    if (parent && list.includes(parent) && window.parent !== window) window.parent.postMessage({ type: 'gatehouse:ready' }, parent);
  });
  return () => window.removeEventListener('message', listener);
}
