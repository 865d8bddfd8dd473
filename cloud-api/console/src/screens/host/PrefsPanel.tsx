import { useTranslation } from 'react-i18next';
import { NotificationPrefs } from './NotificationPrefs.tsx';

/**
 * The host's notification preferences (arrival messages by e-mail, Telegram,
 * Web Push) under My visits. The form is `NotificationPrefs` (written with the
 * Telegram and Web Push channels); this panel gives it its place and heading.
 */
export function HostPrefsPanel() {
  const { t } = useTranslation('host');
  return (
    <section className="card host-prefs" aria-labelledby="host-prefs">
      <h2 id="host-prefs">{t('prefs.title')}</h2>
      <NotificationPrefs />
    </section>
  );
}
