import { useTranslation } from 'react-i18next';
import { currentLanguage, LANGUAGES, type Language } from '../i18n/index.ts';
import { chooseLanguage } from '../lib/language.ts';

/**
 * EN / RU as a group of toggle buttons (aria-pressed). By default a choice is
 * kept on this device and, when signed in, in the user's profile
 * (lib/language.ts); the guest page keeps it with the pass instead (`onChoose`).
 */
export function LanguageSwitcher({ onChoose = chooseLanguage }: { onChoose?: (l: Language) => unknown } = {}) {
  const { t } = useTranslation();
  const now = currentLanguage();
  return (
    <fieldset className="lang-switch" aria-label={t('language')}>
      {LANGUAGES.map((l) => (
        <button key={l} type="button" lang={l} title={t(`languageName.${l}`)} aria-pressed={l === now} onClick={() => void onChoose(l)}>
          {l.toUpperCase()}
        </button>
      ))}
    </fieldset>
  );
}
