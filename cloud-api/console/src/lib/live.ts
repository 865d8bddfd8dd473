import { useEffect, useRef, useState } from 'react';
import { api } from './api.ts';
import { getSession } from './session.ts';

export type LinkState = 'connecting' | 'online' | 'offline';
export interface LiveEvent {
  type: string;
  data: Record<string, unknown>;
}

/**
 * The console's live feed (`/api/admin/live`). The token goes in the first
 * message, never in the URL. On any drop it reconnects with exponential
 * back-off (1 s … 30 s, jittered) and says it is offline meanwhile; a 4401
 * close first tries a refreshed token from the session.
 */
export function useLiveFeed(onEvent: (e: LiveEvent) => void): { state: LinkState; retryIn: number | null; lastChange: number } {
  const [state, setState] = useState<LinkState>('connecting');
  const [retryIn, setRetryIn] = useState<number | null>(null);
  const [lastChange, setLastChange] = useState(Date.now());
  const handler = useRef(onEvent);
  handler.current = onEvent;

  useEffect(() => {
    let ws: WebSocket | null = null;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let countdown: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    const set = (s: LinkState) => {
      setState(s);
      setLastChange(Date.now());
    };

    const schedule = () => {
      if (stopped) return;
      const base = Math.min(30_000, 1000 * 2 ** attempt);
      const delay = Math.round(base * (0.75 + Math.random() * 0.5));
      attempt++;
      const due = Date.now() + delay;
      setRetryIn(Math.ceil(delay / 1000));
      clearInterval(countdown);
      countdown = setInterval(() => setRetryIn(Math.max(0, Math.ceil((due - Date.now()) / 1000))), 1000);
      timer = setTimeout(connect, delay);
    };

    const connect = () => {
      if (stopped) return;
      clearInterval(countdown);
      setRetryIn(null);
      const token = getSession()?.accessToken;
      if (!token) {
        set('offline');
        return;
      }
      set('connecting');
      const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
      ws = new WebSocket(`${proto}//${window.location.host}/api/admin/live`);
      ws.onopen = () => ws?.send(JSON.stringify({ type: 'auth', token }));
      ws.onmessage = (m) => {
        let msg: LiveEvent;
        try {
          msg = JSON.parse(String(m.data)) as LiveEvent;
        } catch {
          return;
        }
        if (msg.type === 'ready') {
          attempt = 0;
          set('online');
          return;
        }
        handler.current(msg);
      };
      ws.onclose = (ev) => {
        ws = null;
        if (stopped) return;
        set('offline');
        // 4401: the token was refused (expired?); any authenticated call refreshes the session before the retry.
        if (ev.code === 4401) void api.get('/api/auth/me').catch(() => undefined);
        schedule();
      };
      // onerror is always followed by onclose, which does the work.
      ws.onerror = () => undefined;
    };

    const onOnline = () => {
      if (!ws && !stopped) {
        clearTimeout(timer);
        attempt = 0;
        connect();
      }
    };
    window.addEventListener('online', onOnline);
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      clearInterval(countdown);
      window.removeEventListener('online', onOnline);
      ws?.close(1000);
    };
  }, []);

  return { state, retryIn, lastChange };
}
