/**
 * The console's languages: English and Russian, with i18next and react-i18next.
 *
 * Texts live in locales/<language>/<namespace>.json, one namespace per screen
 * group (common, nav, login, dashboard, guard, passes, resources, history,
 * reasons), bundled into the page (no HTTP backend: the guard view and the
 * guest page must work with a flaky network).
 *
 * To add a namespace, say `guest`:
 *   1. create locales/en/guest.json and locales/ru/guest.json with the same
 *      keys (Russian plurals take _one/_few/_many/_other, English _one/_other);
 *   2. add one line to `Resources` in ./resources.ts:
 *        guest: En<typeof import('./locales/en/guest.json')>;
 * The files are found by import.meta.glob below; the line types the keys.
 * In a component: `const { t } = useTranslation('guest'); t('title')`.
 *
 * Which language: a choice the user made on this device (localStorage
 * `gatehouse.language`) first, then a signed-in user's profile language
 * (lib/language.ts applies it after sign-in), then the browser's
 * `navigator.languages`; English when none of them is supported.
 */
import i18n, { type Resource, type ResourceLanguage } from 'i18next';
import LanguageDetector from 'i18next-browser-languagedetector';
import { initReactI18next } from 'react-i18next';

export const LANGUAGES = ['en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];
export const isLanguage = (v: unknown): v is Language => typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);

/** Where an explicit choice is kept (never the browser's or the profile's guess: those can change). */
export const STORAGE_KEY = 'gatehouse.language';

const files = import.meta.glob<ResourceLanguage>('./locales/*/*.json', { eager: true, import: 'default' });
const resources: Resource = {};
for (const [path, texts] of Object.entries(files)) {
  const m = /\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path);
  if (!m?.[1] || !m[2]) continue;
  resources[m[1]] = { ...resources[m[1]], [m[2]]: texts };
}
export const NAMESPACES = Object.keys(resources.en ?? {});

void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources,
    ns: NAMESPACES,
    defaultNS: 'common',
    supportedLngs: [...LANGUAGES],
    fallbackLng: 'en',
    // en-US, en-GB → en; ru-RU → ru.
    load: 'languageOnly',
    nonExplicitSupportedLngs: true,
    // Everything is in memory: ready before the first render.
    initAsync: false,
    // React escapes what it renders.
    interpolation: { escapeValue: false },
    detection: {
      order: ['localStorage', 'navigator'],
      lookupLocalStorage: STORAGE_KEY,
      // Only an explicit choice is stored (lib/language.ts), not what was detected.
      caches: [],
    },
  });

/** The page's language attribute follows the interface (screen readers, hyphenation, spell check). */
const setHtmlLang = (lng: string) => {
  document.documentElement.lang = current(lng);
};
setHtmlLang(i18n.language);
i18n.on('languageChanged', setHtmlLang);

function current(lng: string | undefined): Language {
  const base = lng?.split('-')[0];
  return isLanguage(base) ? base : 'en';
}

/** The interface language now, one of LANGUAGES. */
export const currentLanguage = (): Language => current(i18n.resolvedLanguage ?? i18n.language);

/**
 * The locale for dates and numbers: the browser's own variant when it speaks
 * the interface language (en-GB keeps day-first dates), the bare language otherwise.
 */
export function formatLocale(): string {
  const lng = currentLanguage();
  const own = typeof navigator !== 'undefined' ? navigator.languages?.find((l) => l.split('-')[0]?.toLowerCase() === lng) : undefined;
  return own ?? lng;
}

export default i18n;
