import { useTranslation } from 'react-i18next';
import { currentLanguage, LANGUAGES } from '../i18n/index.ts';
import { chooseLanguage } from '../lib/language.ts';

/**
 * EN / RU as a group of toggle buttons (aria-pressed). A choice is kept on
 * this device and, when signed in, in the user's profile (lib/language.ts).
 */
export function LanguageSwitcher() {
  const { t } = useTranslation();
  const now = currentLanguage();
  return (
    <fieldset className="lang-switch" aria-label={t('language')}>
      {LANGUAGES.map((l) => (
        <button
          key={l}
          type="button"
          lang={l}
          title={t(`languageName.${l}`)}
          aria-pressed={l === now}
          onClick={() => void chooseLanguage(l)}
        >
          {l.toUpperCase()}
        </button>
      ))}
    </fieldset>
  );
}
