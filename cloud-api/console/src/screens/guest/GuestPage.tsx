/**
 * The visitor's page (`/guest#token=…`, an installable PWA): the visit first;
 * the entry QR only after the visitor proves the address the invitation went
 * to with a one-time code (POST /api/guest/auth, /auth/verify). The guest
 * session and the last answer are kept in localStorage per pass, so a reload
 * — even offline, the service worker serving the page — keeps drawing the
 * rotating QR from the pass's secret (lib/totp.ts) until the pass ends.
 */
import { type CSSProperties, type FormEvent, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LanguageSwitcher } from '../../components/LanguageSwitcher.tsx';
import { Qr } from '../../components/Qr.tsx';
import i18n, { currentLanguage, type Language } from '../../i18n/index.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { dynamicPayload, importSecret, msUntilNextStep, STEP_S } from '../../lib/totp.ts';
import type { GuestCodeSent, GuestPass, GuestSession } from '../../lib/types.ts';
import './guest.css';

const PREFIX = 'gatehouse.guest.pass.';
/** The pass of the last link opened here: a reload (the token is gone from the address bar) finds it. */
const LAST = 'gatehouse.guest.last';

interface Stored {
  /** The link's token: shows the visit, asks for codes. */
  link: string;
  /** The guest session (after the code): the credential. */
  session: string | null;
  sessionExpiresAt: string | null;
  /** The last answer of GET /api/guest/pass, shown when offline. */
  data: GuestPass | null;
  /** A language the visitor chose here, over the invitation's. */
  language: Language | null;
}

function tokenFromUrl(): string | null {
  const hash = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  return hash.get('token') ?? new URLSearchParams(window.location.search).get('token');
}

/** The pass a link names (its `sub`): only to find what this device kept for it; the server verifies the token. */
function passIdOf(token: string): string | null {
  try {
    const body = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown };
    return typeof body.sub === 'string' ? body.sub : null;
  } catch {
    return null;
  }
}

function readStore(passId: string): Stored | null {
  try {
    const raw = localStorage.getItem(PREFIX + passId);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
}

function writeStore(passId: string, s: Stored): void {
  try {
    localStorage.setItem(PREFIX + passId, JSON.stringify(s));
    localStorage.setItem(LAST, passId);
  } catch {
    // Storage blocked or full: the page still works until it is closed.
  }
}

/** What this device knows when the page opens: the link in the address bar, else the last pass opened here. */
function initialState(): { passId: string; stored: Stored } | null {
  const token = tokenFromUrl();
  if (token) {
    const passId = passIdOf(token);
    if (!passId) return null;
    const prev = readStore(passId);
    // The same pass opened again by its link keeps its session; a new link replaces the old one.
    return { passId, stored: { session: null, sessionExpiresAt: null, data: null, language: null, ...prev, link: token } };
  }
  try {
    const passId = localStorage.getItem(LAST);
    const stored = passId ? readStore(passId) : null;
    return passId && stored ? { passId, stored } : null;
  } catch {
    return null;
  }
}

type ErrorCode =
  | 'code_invalid'
  | 'too_many_attempts'
  | 'code_expired'
  | 'no_code'
  | 'too_many_codes'
  | 'no_address'
  | 'pass_inactive'
  | 'rate_limited';
const ERROR_CODES: readonly string[] = [
  'code_invalid',
  'too_many_attempts',
  'code_expired',
  'no_code',
  'too_many_codes',
  'no_address',
  'pass_inactive',
  'rate_limited',
];

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterS: number | null,
  ) {
    super(message);
  }
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  const r = await fetch(url, { ...init, cache: 'no-store' });
  if (r.ok) return (await r.json()) as T;
  let code = 'http';
  let message = '';
  try {
    const body = (await r.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? '';
  } catch {
    // not JSON: the status says enough
  }
  const retry = Number(r.headers.get('retry-after'));
  throw new ApiError(r.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : null);
}

const post = <T,>(url: string, body: unknown) =>
  call<T>(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const getPass = (token: string) => call<GuestPass>('/api/guest/pass', { headers: { authorization: `Bearer ${token}` } });

export function GuestPage() {
  const { t } = useTranslation('guest');
  const [init] = useState(initialState);
  const passId = init?.passId ?? null;
  const [stored, setStored] = useState<Stored | null>(init?.stored ?? null);
  const [fatal, setFatal] = useState<string | null>(init ? null : 'needsLink');
  const [online, setOnline] = useState(navigator.onLine);
  const [now, setNow] = useState(Date.now());
  const [payload, setPayload] = useState<string | null>(null);
  const [printable, setPrintable] = useState(false);
  // Sign-in steps.
  const [sent, setSent] = useState<GuestCodeSent | null>(null);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const keyRef = useRef<{ secret: string; key: CryptoKey } | null>(null);
  const codeInput = useRef<HTMLInputElement>(null);

  const update = useCallback(
    (f: (s: Stored) => Stored) => {
      setStored((prev) => {
        if (!prev || !passId) return prev;
        const next = f(prev);
        writeStore(passId, next);
        return next;
      });
    },
    [passId],
  );

  const data = stored?.data ?? null;
  const language = stored?.language ?? data?.language ?? null;
  useLayoutEffect(() => {
    if (language && language !== currentLanguage()) void i18n.changeLanguage(language);
  }, [language]);

  useEffect(() => {
    document.title = t('documentTitle');
  }, [t]);

  // The service worker (console/pwa.ts) that opens this page offline; scoped to /guest, so staff screens never run under it.
  useEffect(() => {
    if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
    navigator.serviceWorker.register('/sw.js', { scope: '/guest' }).catch(() => {
      // No worker (the dev server, a private window): the page works online all the same.
    });
  }, []);

  useEffect(() => {
    // The token stays out of the address bar (and so out of screenshots and shared links); this device keeps it.
    if (init && (window.location.hash || window.location.search)) history.replaceState(null, '', window.location.pathname);
    if (init) writeStore(init.passId, init.stored);
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
      clearInterval(tick);
    };
  }, [init]);

  const session = stored?.session && stored.sessionExpiresAt && new Date(stored.sessionExpiresAt).getTime() > now ? stored.session : null;
  const link = stored?.link ?? null;

  // Load, then look again every minute while online (a revocation should show).
  const load = useCallback(async () => {
    if (!link) return;
    const current = readStore(passId ?? '') ?? stored;
    const s =
      current?.session && current.sessionExpiresAt && new Date(current.sessionExpiresAt).getTime() > Date.now() ? current.session : null;
    try {
      let d: GuestPass;
      let used = s;
      try {
        d = await getPass(s ?? link);
      } catch (e) {
        // An ended session: the link still shows the visit, and the code can be asked again.
        if (!(s && e instanceof ApiError && e.status === 401)) throw e;
        update((x) => (x.session === s ? { ...x, session: null, sessionExpiresAt: null } : x));
        used = null;
        d = await getPass(link);
      }
      // A session that arrived while this answer was on its way (the code was just accepted) wins over it.
      update((x) => (x.session && x.session !== used ? x : { ...x, data: d }));
      setFatal(null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        update((x) => ({ ...x, data: null, session: null, sessionExpiresAt: null }));
        setFatal('linkInvalid');
      } else if (e instanceof ApiError) {
        if (!current?.data) setFatal(`loadFailed:${e.status}`);
      } else if (!current?.data) setFatal('offlineNoPass');
      // A network failure with a kept answer: keep showing it (the banner says offline).
    }
  }, [link, passId, stored, update]);

  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    if (!link) return;
    void loadRef.current();
    const i = setInterval(() => navigator.onLine && void loadRef.current(), 60_000);
    const back = () => void loadRef.current();
    window.addEventListener('online', back);
    return () => {
      clearInterval(i);
      window.removeEventListener('online', back);
    };
  }, [link]);

  const signedIn = !!(session && data?.signedIn);
  const status = data?.pass.status;
  const ended = data ? new Date(data.pass.validTo).getTime() <= now || status === 'expired' : false;
  const active = status === 'active' && !ended;
  const secret = signedIn && active ? (data?.totpSecret ?? null) : null;
  const id = data?.pass.id;

  // Redraw every step: locally from the pass's secret, so no network is needed.
  useEffect(() => {
    if (!id || !signedIn || !active) {
      setPayload(null);
      return;
    }
    let timer: ReturnType<typeof setTimeout>;
    let alive = true;
    const step = async () => {
      if (secret) {
        if (keyRef.current?.secret !== secret) keyRef.current = { secret, key: await importSecret(secret) };
        const p = await dynamicPayload(id, keyRef.current.key, Date.now());
        if (alive) setPayload(p);
      } else if (alive) setPayload(data?.payload ?? null);
      if (alive) timer = setTimeout(step, msUntilNextStep(Date.now()) + 50);
    };
    void step();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [id, signedIn, active, secret, data?.payload]);

  const explain = (e: unknown): string => {
    if (!(e instanceof ApiError)) return t('errors.network');
    if (e.code === 'code_invalid') {
      const left = /(\d+) attempt/.exec(e.message)?.[1];
      return left ? t('errors.code_invalid', { left }) : t('errors.code_invalid_plain');
    }
    if (e.code === 'too_many_codes') return t('errors.too_many_codes', { minutes: Math.max(1, Math.ceil((e.retryAfterS ?? 60) / 60)) });
    if (ERROR_CODES.includes(e.code)) return t(`errors.${e.code as Exclude<ErrorCode, 'code_invalid' | 'too_many_codes'>}`);
    if (e.status === 401) return t('linkInvalid');
    return t('errors.generic', { status: e.status });
  };

  const sendCode = async () => {
    if (!link) return;
    setBusy(true);
    setProblem(null);
    try {
      setSent(await post<GuestCodeSent>('/api/guest/auth', { token: link }));
      setCode('');
      // The field is where the visitor goes next (and where the phone offers the code from the message).
      setTimeout(() => codeInput.current?.focus(), 0);
    } catch (e) {
      setProblem(explain(e));
    } finally {
      setBusy(false);
    }
  };

  const verify = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!link) return;
    if (!/^\d{6}$/.test(code)) {
      setProblem(t('errors.codeFormat'));
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      const s = await post<GuestSession>('/api/guest/auth/verify', { token: link, code });
      // Kept before anything else can fail: the code is spent, the session is what is left of it.
      update((x) => ({ ...x, session: s.guestSession, sessionExpiresAt: s.expiresAt }));
      setSent(null);
      setCode('');
      const d = await getPass(s.guestSession);
      update((x) => ({ ...x, data: d }));
    } catch (e) {
      // A burned, expired or missing code: back to asking for a new one.
      if (e instanceof ApiError && ['too_many_attempts', 'code_expired', 'no_code'].includes(e.code)) setSent(null);
      setProblem(explain(e));
    } finally {
      setBusy(false);
    }
  };

  const switcher = (
    <LanguageSwitcher
      onChoose={(l) => {
        update((x) => ({ ...x, language: l }));
        return i18n.changeLanguage(l);
      }}
    />
  );

  const brandStyle = data?.org.brandColor ? ({ '--guest-brand': data.org.brandColor } as CSSProperties) : undefined;
  const header = (
    <div className="guest-top">
      <div className="guest-brand">
        <img src="/favicon.svg" alt="" width="20" height="20" />
        <span>{data ? `${data.org.name} · ${t('brand')}` : t('brand')}</span>
      </div>
      {switcher}
    </div>
  );

  if (fatal || !data) {
    const [key, st] = (fatal ?? '').split(':');
    const message =
      key === 'loadFailed'
        ? t('loadFailed', { status: st })
        : key === 'linkInvalid' || key === 'needsLink' || key === 'offlineNoPass'
          ? t(key)
          : null;
    return (
      <main className="guest">
        {header}
        {message ? (
          <>
            <h1>{t('welcomeAnonymous')}</h1>
            <div className="alert error" role="alert">
              {message}
            </div>
          </>
        ) : (
          <div className="loading" role="status">
            {t('loading')}
          </div>
        )}
      </main>
    );
  }

  const p = data.pass;
  const a = data.appointment;
  const zone = data.site?.timezone ?? null;
  const remaining = Math.ceil(msUntilNextStep(now) / 1000);
  const notYet = new Date(p.validFrom).getTime() > now;

  return (
    <main className="guest" style={brandStyle}>
      {header}
      <h1>{p.visitorName ? t('welcome', { name: p.visitorName }) : t('welcomeAnonymous')}</h1>
      {!online ? (
        <div className="alert warn" role="status">
          {t('offline')} {secret ? t('offlineKeeps') : null}
        </div>
      ) : null}
      {status === 'revoked' ? (
        <div className="alert error" role="alert">
          {t('revoked')}
        </div>
      ) : ended ? (
        <div className="alert warn" role="alert">
          {t('ended')}
        </div>
      ) : signedIn ? (
        printable && data.staticPayload ? (
          <section className="card qr-box" aria-label={t('qr.printable')}>
            <Qr text={data.staticPayload} size={300} label={t('qr.printableLabel')} />
            <p className="muted">{t('qr.printableNote')}</p>
            <div className="actions no-print">
              <button type="button" className="primary" onClick={() => window.print()}>
                {t('qr.print')}
              </button>
              <button type="button" onClick={() => setPrintable(false)}>
                {t('qr.back')}
              </button>
            </div>
          </section>
        ) : (
          <section className="qr-box" aria-label={t('qr.region')}>
            <div className="qr-wrap">
              {payload ? <Qr text={payload} size={300} label={t('qr.label')} /> : <div className="loading">{t('qr.preparing')}</div>}
            </div>
            <p>{t('qr.hold')}</p>
            <div className="countdown" aria-hidden="true">
              <div style={{ width: `${(remaining / STEP_S) * 100}%` }} />
            </div>
            <p className="muted" aria-live="off">
              {t('qr.next', { count: remaining })}
              {notYet ? ` · ${t('qr.validFrom', { when: fmtDateTime(p.validFrom, zone) })}` : ''}
            </p>
            {data.staticPayload ? (
              <button type="button" className="no-print" onClick={() => setPrintable(true)}>
                {t('qr.printable')}
              </button>
            ) : null}
          </section>
        )
      ) : (
        <section className="card guest-signin" aria-labelledby="signin-h">
          <h2 id="signin-h">{t('signIn.title')}</h2>
          {sent ? (
            <form onSubmit={verify} noValidate>
              <p>{t('signIn.sentTo', { to: sent.sentTo })}</p>
              <label htmlFor="guest-code">{t('signIn.codeLabel')}</label>
              <input
                id="guest-code"
                ref={codeInput}
                className="guest-code"
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                value={code}
                onChange={(e) => setCode(e.target.value.replace(/\D/g, '').slice(0, 6))}
                aria-invalid={problem ? true : undefined}
                aria-describedby={problem ? 'guest-problem' : undefined}
              />
              {problem ? (
                <div id="guest-problem" className="alert error" role="alert">
                  {problem}
                </div>
              ) : null}
              <div className="actions">
                <button type="submit" className="primary" disabled={busy}>
                  {busy ? t('signIn.checking') : t('signIn.confirm')}
                </button>
                <button type="button" className="link" disabled={busy} onClick={() => void sendCode()}>
                  {t('signIn.resend')}
                </button>
              </div>
            </form>
          ) : (
            <>
              <p>{t('signIn.intro')}</p>
              {problem ? (
                <div className="alert error" role="alert">
                  {problem}
                </div>
              ) : null}
              <button type="button" className="primary" disabled={busy || !online} onClick={() => void sendCode()}>
                {busy ? t('signIn.sending') : t('signIn.send')}
              </button>
            </>
          )}
        </section>
      )}
      <section className="card guest-visit" aria-labelledby="visit-h">
        <h2 id="visit-h">{t('visit.title')}</h2>
        <dl>
          {a ? (
            <>
              <dt>{t('visit.when')}</dt>
              <dd>
                {fmtDateTime(a.startsAt, zone)} – {fmtDateTime(a.endsAt, zone)}
              </dd>
              {a.hostName ? (
                <>
                  <dt>{t('visit.host')}</dt>
                  <dd>{a.hostName}</dd>
                </>
              ) : null}
              {a.room ? (
                <>
                  <dt>{t('visit.room')}</dt>
                  <dd>{a.room}</dd>
                </>
              ) : null}
            </>
          ) : null}
          {data.site ? (
            <>
              <dt>{t('visit.where')}</dt>
              <dd>
                {data.site.name}
                {data.site.address ? (
                  <>
                    <br />
                    {data.site.address}
                  </>
                ) : null}
              </dd>
            </>
          ) : null}
          <dt>{t('visit.valid')}</dt>
          <dd>
            {fmtDateTime(p.validFrom, zone)} – {fmtDateTime(p.validTo, zone)}
          </dd>
        </dl>
        {zone ? <p className="muted small">{t('visit.zone', { zone })}</p> : null}
      </section>
    </main>
  );
}
