import { useEffect, useRef, useState } from 'react';
import { Qr } from '../../components/Qr.tsx';
import { fmtDateTime } from '../../lib/format.ts';
import { dynamicPayload, importSecret, msUntilNextStep, STEP_S } from '../../lib/totp.ts';
import type { GuestPass } from '../../lib/types.ts';

function tokenFromUrl(): string | null {
  const hash = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  return hash.get('token') ?? new URLSearchParams(window.location.search).get('token');
}

const STORE = 'gatehouse.guest';

async function fetchPass(token: string): Promise<GuestPass> {
  const r = await fetch('/api/guest/pass', { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (r.status === 401) throw new Error('This link is not valid any more. Ask your host for a new one.');
  if (!r.ok) throw new Error(`The pass could not be loaded (${r.status}).`);
  return (await r.json()) as GuestPass;
}

export function GuestPage() {
  const [token] = useState(tokenFromUrl);
  const [data, setData] = useState<GuestPass | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [payload, setPayload] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const [online, setOnline] = useState(navigator.onLine);
  const [printable, setPrintable] = useState(false);
  const keyRef = useRef<CryptoKey | null>(null);
  const loadedRef = useRef(false);

  useEffect(() => {
    document.title = 'Your visitor pass';
    // The token stays out of the address bar (and so out of screenshots and shared links).
    if (window.location.hash) history.replaceState(null, '', window.location.pathname);
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);

  // Load once, then look again every minute while online (a revocation should show).
  useEffect(() => {
    const t = token ?? sessionStorage.getItem(STORE);
    if (!t) {
      setError('This page needs the link from your invitation.');
      return;
    }
    sessionStorage.setItem(STORE, t);
    let alive = true;
    const load = async () => {
      try {
        const d = await fetchPass(t);
        if (!alive) return;
        if (d.totpSecret && !keyRef.current) keyRef.current = await importSecret(d.totpSecret);
        loadedRef.current = true;
        setData(d);
        setError(null);
        if (!keyRef.current) setPayload(d.payload);
      } catch (e) {
        if (alive && !loadedRef.current) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void load();
    const i = setInterval(() => navigator.onLine && void load(), 60_000);
    return () => {
      alive = false;
      clearInterval(i);
    };
  }, [token]);

  // Redraw every step: locally from the secret when we have it, else from the server.
  const passId = data?.pass.id;
  const status = data?.pass.status;
  useEffect(() => {
    if (!passId || status !== 'active') return;
    let timer: ReturnType<typeof setTimeout>;
    let alive = true;
    const step = async () => {
      const t = Date.now();
      if (keyRef.current) {
        const p = await dynamicPayload(passId, keyRef.current, t);
        if (alive) setPayload(p);
      } else if (navigator.onLine) {
        const tok = sessionStorage.getItem(STORE);
        if (tok) {
          try {
            const d = await fetchPass(tok);
            if (alive) {
              setPayload(d.payload);
              if (d.pass.status !== status) setData(d);
            }
          } catch {
            // keep the last code; the banner says we are offline
          }
        }
      }
      if (alive) timer = setTimeout(step, msUntilNextStep(Date.now()) + 50);
    };
    void step();
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      alive = false;
      clearTimeout(timer);
      clearInterval(tick);
    };
  }, [passId, status]);

  if (error) {
    return (
      <main className="guest">
        <h1>Visitor pass</h1>
        <div className="alert error" role="alert">
          {error}
        </div>
      </main>
    );
  }
  if (!data) {
    return (
      <main className="guest">
        <div className="loading" role="status">
          Loading your pass…
        </div>
      </main>
    );
  }

  const p = data.pass;
  const ended = new Date(p.validTo).getTime() <= now;
  const notYet = new Date(p.validFrom).getTime() > now;
  const remaining = Math.ceil(msUntilNextStep(now) / 1000);
  const a = data.appointment;

  return (
    <main className="guest">
      <div className="guest-brand">
        <img src="/favicon.svg" alt="" width="20" height="20" /> Gatehouse · visitor pass
      </div>
      <h1>{p.visitorName ? `Welcome, ${p.visitorName}` : 'Your visitor pass'}</h1>
      {!online ? (
        <div className="alert warn" role="status">
          You are offline.{' '}
          {keyRef.current ? 'The code below keeps working.' : 'The code below may be out of date; reconnect to refresh it.'}
        </div>
      ) : null}
      {p.status === 'revoked' ? (
        <div className="alert error" role="alert">
          This pass was cancelled. Please contact your host.
        </div>
      ) : ended || p.status === 'expired' ? (
        <div className="alert warn" role="alert">
          This pass has ended.
        </div>
      ) : printable && data.staticPayload ? (
        <section className="card qr-box" aria-label="Printable code">
          <Qr text={data.staticPayload} size={300} label="Printable QR code of your pass" />
          <p className="muted">Printable code: valid for the whole visit.</p>
          <div className="actions no-print">
            <button type="button" className="primary" onClick={() => window.print()}>
              Print
            </button>
            <button type="button" onClick={() => setPrintable(false)}>
              Back to the live code
            </button>
          </div>
        </section>
      ) : (
        <section className="qr-box" aria-label="Entry code">
          <div className="qr-wrap">
            {payload ? <Qr text={payload} size={300} label="Your entry QR code" /> : <div className="loading">Preparing your code…</div>}
          </div>
          <p>Hold this code to the reader at the entrance.</p>
          <div className="countdown" aria-hidden="true">
            <div style={{ width: `${(remaining / STEP_S) * 100}%` }} />
          </div>
          <p className="muted" aria-live="off">
            New code in {remaining} s{notYet ? ` · valid from ${fmtDateTime(p.validFrom)}` : ''}
          </p>
          {data.staticPayload ? (
            <button type="button" className="no-print" onClick={() => setPrintable(true)}>
              Printable code
            </button>
          ) : null}
        </section>
      )}
      <section className="card" style={{ marginTop: 16 }} aria-labelledby="visit-h">
        <h2 id="visit-h">Your visit</h2>
        <dl>
          {a ? (
            <>
              <dt>When</dt>
              <dd>
                {fmtDateTime(a.startsAt)} – {fmtDateTime(a.endsAt)}
              </dd>
              {a.hostName ? (
                <>
                  <dt>Host</dt>
                  <dd>{a.hostName}</dd>
                </>
              ) : null}
              {a.room ? (
                <>
                  <dt>Room</dt>
                  <dd>{a.room}</dd>
                </>
              ) : null}
            </>
          ) : null}
          <dt>Pass valid</dt>
          <dd>
            {fmtDateTime(p.validFrom)} – {fmtDateTime(p.validTo)}
          </dd>
        </dl>
      </section>
    </main>
  );
}
