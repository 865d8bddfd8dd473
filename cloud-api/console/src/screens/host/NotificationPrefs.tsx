import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Qr } from '../../components/Qr.tsx';
import { ErrorBox, Loading } from '../../components/ui.tsx';
import { api, request } from '../../lib/api.ts';
import type { HostPreferences as Preferences, PushKey, PushSubscriptionCreated, TelegramLink } from '../../lib/types.ts';

/**
 * A host's notification preferences: which channels tell them their guest has
 * arrived (e-mail, Telegram, browser push), linking Telegram with a one-time
 * deep link (shown as a link and a QR for the phone), and this browser's Web
 * Push subscription. The push service worker is public/push-sw.js, registered
 * here only (the guest page has its own worker under /guest).
 */

type HostChannel = Preferences['channels'][number];
/** Each channel a host may choose, in the order shown (a Record<HostChannel, …> must name them all). */
const CHANNELS = Object.keys({ email: true, telegram: true, webpush: true } satisfies Record<HostChannel, true>) as HostChannel[];

const PREFS = '/api/host/preferences';
const SUB_KEY = 'gatehouse.pushSubscriptionId';

/** The browser can do Web Push here (a secure context with service workers and the Push API). */
const pushSupported = () =>
  typeof window !== 'undefined' &&
  window.isSecureContext &&
  'serviceWorker' in navigator &&
  'PushManager' in window &&
  'Notification' in window;

/** base64url → the bytes PushManager.subscribe takes as applicationServerKey. */
function keyBytes(b64url: string): Uint8Array<ArrayBuffer> {
  const b64 = b64url
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(b64url.length / 4) * 4, '=');
  const raw = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

async function pushRegistration(): Promise<ServiceWorkerRegistration> {
  // Scope /host-push/: a scope of its own, so this worker never controls (or caches) any page; it only shows pushes.
  const reg = await navigator.serviceWorker.register('/push-sw.js', { scope: '/host-push/' });
  await navigator.serviceWorker.ready.catch(() => undefined);
  return reg;
}

export function NotificationPrefs() {
  const { t, i18n } = useTranslation('host');
  const qc = useQueryClient();
  const prefs = useQuery({ queryKey: [PREFS], queryFn: () => api.get<Preferences>(PREFS) });
  const [chosen, setChosen] = useState<HostChannel[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [link, setLink] = useState<{ url: string; expiresAt: string } | null>(null);
  const [pushProblem, setPushProblem] = useState<string | null>(null);
  const [thisBrowser, setThisBrowser] = useState<string | null>(() => localStorage.getItem(SUB_KEY));

  const refresh = () => qc.invalidateQueries({ queryKey: [PREFS] });
  const channels = chosen ?? prefs.data?.channels ?? [];

  // While a link is open, look every 3 s whether the host pressed Start.
  useEffect(() => {
    if (!link) return;
    const timer = setInterval(() => void qc.invalidateQueries({ queryKey: [PREFS] }), 3000);
    return () => clearInterval(timer);
  }, [link, qc]);
  useEffect(() => {
    if (link && prefs.data?.telegram.linked) {
      setLink(null);
      setChosen(null);
    }
  }, [link, prefs.data?.telegram.linked]);

  const save = useMutation({
    mutationFn: (c: HostChannel[]) => request<Preferences>('PUT', PREFS, { channels: c }),
    onSuccess: (p) => {
      qc.setQueryData([PREFS], p);
      setChosen(null);
      setNotice(t('prefs.saved'));
    },
  });
  const linkTelegram = useMutation({
    mutationFn: () => api.post<TelegramLink>('/api/host/telegram/link'),
    onSuccess: setLink,
  });
  const unlinkTelegram = useMutation({
    mutationFn: () => api.del('/api/host/telegram'),
    onSuccess: () => {
      setChosen(null);
      void refresh();
    },
  });
  const enablePush = useMutation({
    mutationFn: async () => {
      setPushProblem(null);
      if (!pushSupported()) throw new Error(t('prefs.push.unsupported'));
      if ((await Notification.requestPermission()) !== 'granted') throw new Error(t('prefs.push.denied'));
      const { publicKey } = await api.get<PushKey>('/api/host/push/key');
      const reg = await pushRegistration();
      // A subscription made with another key (the cloud's master key changed) cannot be reused.
      const old = await reg.pushManager.getSubscription();
      if (old) await old.unsubscribe();
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
      const { id } = await api.post<PushSubscriptionCreated>('/api/host/push/subscriptions', sub.toJSON());
      localStorage.setItem(SUB_KEY, id);
      return id;
    },
    onSuccess: (id) => {
      setThisBrowser(id);
      void refresh();
    },
    onError: (e) => setPushProblem(e instanceof Error ? e.message : String(e)),
  });
  const disablePush = useMutation({
    mutationFn: async () => {
      const id = localStorage.getItem(SUB_KEY);
      if (pushSupported()) {
        const reg = await navigator.serviceWorker.getRegistration('/host-push/');
        await (await reg?.pushManager.getSubscription())?.unsubscribe();
      }
      if (id) await api.del(`/api/host/push/subscriptions/${id}`).catch(() => undefined);
      localStorage.removeItem(SUB_KEY);
    },
    onSuccess: () => {
      setThisBrowser(null);
      setChosen(null);
      void refresh();
    },
  });

  if (prefs.isPending) return <Loading />;
  if (!prefs.data) return <ErrorBox error={prefs.error} />;
  const p = prefs.data;
  const available = (c: HostChannel) => c === 'email' || (c === 'telegram' ? p.telegram.linked : p.push.subscriptions > 0);
  const toggle = (c: HostChannel, on: boolean) => {
    setNotice(null);
    setChosen(on ? [...new Set([...channels, c])] : channels.filter((x) => x !== c));
  };
  const expires = link
    ? new Intl.DateTimeFormat(i18n.language, { hour: '2-digit', minute: '2-digit' }).format(new Date(link.expiresAt))
    : '';

  return (
    <div className="notification-prefs">
      <p className="muted">{t('prefs.intro')}</p>
      <fieldset>
        <legend>{t('prefs.channels')}</legend>
        {CHANNELS.map((c) => (
          <label key={c} className="check">
            <input
              type="checkbox"
              name={`channel-${c}`}
              checked={channels.includes(c)}
              disabled={!available(c) && !channels.includes(c)}
              onChange={(e) => toggle(c, e.target.checked)}
            />{' '}
            {t(`prefs.channel.${c}`)}
            {!available(c) ? <span className="muted"> — {c === 'telegram' ? t('prefs.needTelegram') : t('prefs.needPush')}</span> : null}
          </label>
        ))}
        <div className="actions">
          <button type="button" disabled={chosen === null || save.isPending} onClick={() => save.mutate(channels)}>
            {t('prefs.save')}
          </button>
          {notice ? (
            <span role="status" className="muted">
              {notice}
            </span>
          ) : null}
        </div>
        <ErrorBox error={save.error} />
      </fieldset>

      <fieldset>
        <legend>{t('prefs.telegram.title')}</legend>
        {p.telegram.botUsername === null ? (
          <p className="muted">{t('prefs.telegram.notSetUp')}</p>
        ) : (
          <>
            <p>{p.telegram.linked ? t('prefs.telegram.linked', { bot: p.telegram.botUsername }) : t('prefs.telegram.notLinked')}</p>
            <div className="actions">
              <button type="button" disabled={linkTelegram.isPending} onClick={() => linkTelegram.mutate()}>
                {p.telegram.linked ? t('prefs.telegram.relink') : t('prefs.telegram.link')}
              </button>
              {p.telegram.linked ? (
                <button type="button" className="secondary" disabled={unlinkTelegram.isPending} onClick={() => unlinkTelegram.mutate()}>
                  {t('prefs.telegram.unlink')}
                </button>
              ) : null}
            </div>
            {link ? (
              <div className="telegram-link">
                <p>
                  <a href={link.url} target="_blank" rel="noopener noreferrer" data-testid="telegram-link">
                    {t('prefs.telegram.open', { bot: p.telegram.botUsername })}
                  </a>
                </p>
                <p className="muted">{t('prefs.telegram.scan')}</p>
                <Qr text={link.url} size={180} label={t('prefs.telegram.qrLabel')} />
                <p className="muted">{t('prefs.telegram.expires', { time: expires })}</p>
                <p role="status" className="muted">
                  {t('prefs.telegram.waiting')}
                </p>
              </div>
            ) : null}
            <ErrorBox error={linkTelegram.error ?? unlinkTelegram.error} />
          </>
        )}
      </fieldset>

      <fieldset>
        <legend>{t('prefs.push.title')}</legend>
        <p>{p.push.subscriptions > 0 ? t('prefs.push.count', { count: p.push.subscriptions }) : t('prefs.push.none')}</p>
        {thisBrowser ? <p className="muted">{t('prefs.push.thisBrowser')}</p> : null}
        {pushSupported() ? (
          <div className="actions">
            <button type="button" disabled={enablePush.isPending} onClick={() => enablePush.mutate()}>
              {t('prefs.push.enable')}
            </button>
            {thisBrowser ? (
              <button type="button" className="secondary" disabled={disablePush.isPending} onClick={() => disablePush.mutate()}>
                {t('prefs.push.disable')}
              </button>
            ) : null}
          </div>
        ) : (
          <p className="muted">{t('prefs.push.unsupported')}</p>
        )}
        {pushProblem ? (
          <p role="alert" className="error">
            {pushProblem}
          </p>
        ) : null}
      </fieldset>
    </div>
  );
}
