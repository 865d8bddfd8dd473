/**
 * The server's own words (message templates, calendar entries, push titles),
 * in every language the product speaks, through i18next: one namespace per
 * file under `cloud-api/locales/<language>/<namespace>.json`. Adding a
 * namespace is adding its two files and its name to NAMESPACES.
 */
import { readFileSync } from 'node:fs';
import i18next, { type TFunction } from 'i18next';
import { LANGUAGES, type Language } from '../db/schema.js';

export const NAMESPACES = ['templates', 'calendar', 'host', 'reasons'] as const;
export type Namespace = (typeof NAMESPACES)[number];

// src/ and dist/ are both one level below the package root.
const LOCALES = new URL('../../locales/', import.meta.url);
// A decision's reason in words is the console's own text (one copy for the screens and the server's exports).
const CONSOLE_LOCALES = new URL('../../console/src/i18n/locales/', import.meta.url);

function load(lng: Language, ns: Namespace): Record<string, unknown> {
  const dir = ns === 'reasons' ? CONSOLE_LOCALES : LOCALES;
  return JSON.parse(readFileSync(new URL(`${lng}/${ns}.json`, dir), 'utf8')) as Record<string, unknown>;
}

const instance = i18next.createInstance();
await instance.init({
  resources: Object.fromEntries(LANGUAGES.map((lng) => [lng, Object.fromEntries(NAMESPACES.map((ns) => [ns, load(lng, ns)]))])),
  supportedLngs: [...LANGUAGES],
  fallbackLng: 'en',
  ns: [...NAMESPACES],
  defaultNS: 'templates',
  initAsync: false,
  // Message templates carry their own {{placeholders}}, filled by the renderer with escaping; i18next must not touch them.
  interpolation: { escapeValue: false, skipOnVariables: true },
  returnNull: false,
});

/** A translator bound to a language (and namespace). */
export function translator(lng: Language, ns: Namespace = 'templates'): TFunction {
  return instance.getFixedT(lng, ns);
}

export function isLanguage(s: unknown): s is Language {
  return typeof s === 'string' && (LANGUAGES as readonly string[]).includes(s);
}

/** A visitor's or user's language from what is known, best first; English when nothing is. */
export function pickLanguage(...candidates: unknown[]): Language {
  for (const c of candidates) if (isLanguage(c)) return c;
  return 'en';
}

/** The first language of an Accept-Language header this server speaks ("ru-RU,ru;q=0.9" → ru); English when none is. */
export function acceptedLanguage(header: string | undefined): Language {
  return pickLanguage(...(header ?? '').split(',').map((t) => t.trim().slice(0, 2).toLowerCase()));
}

/** "Monday, 1 December 2026, 14:30" in the language, at the site's clock. */
export function formatDateTime(d: Date, lng: Language, timeZone: string): string {
  return new Intl.DateTimeFormat(lng === 'ru' ? 'ru-RU' : 'en-GB', {
    timeZone,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(d);
}

/** "14:30" at the site's clock. */
export function formatTime(d: Date, lng: Language, timeZone: string): string {
  return new Intl.DateTimeFormat(lng === 'ru' ? 'ru-RU' : 'en-GB', { timeZone, hour: '2-digit', minute: '2-digit' }).format(d);
}
