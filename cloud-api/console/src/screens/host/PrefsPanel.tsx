import { useTranslation } from 'react-i18next';

/**
 * The host's notification preferences (arrival messages by e-mail, Telegram,
 * Web Push). The form itself is `NotificationPrefs` of ./NotificationPrefs.tsx
 * (written with the Telegram and Web Push channels); this panel only places it.
 */
// TODO(host): mount <NotificationPrefs /> from './NotificationPrefs.tsx' here once that file lands.
export function HostPrefsPanel() {
  const { t } = useTranslation('host');
  return (
    <section className="card host-prefs" aria-labelledby="host-prefs">
      <h2 id="host-prefs">{t('prefs.title')}</h2>
      <p className="muted">{t('prefs.pending')}</p>
    </section>
  );
}
