/**
 * The console's translations (console/src/i18n/locales/<lng>/<ns>.json):
 * every namespace exists in English and Russian with the same keys, the same
 * {{placeholders}} and the same <tags>; plurals are whole in each language
 * (English _one/_other, Russian _one/_few/_many/_other); every namespace is
 * typed in resources.ts (so its keys are checked by typecheck:console); every
 * decision reason of the protocol has words in both languages.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REASONS } from '@gatehouse/protocol';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../console/src/i18n/', import.meta.url));
const LANGS = ['en', 'ru'] as const;
/** The CLDR plural categories each language uses for whole numbers (Intl.PluralRules agrees, checked below). */
const PLURALS = { en: ['one', 'other'], ru: ['one', 'few', 'many', 'other'] } as const;
const SUFFIX = /_(zero|one|two|few|many|other)$/;

type Tree = { [k: string]: string | Tree };
function flatten(t: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(t)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else if (v && typeof v === 'object') for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
    else throw new Error(`${key}: not text (${JSON.stringify(v)})`);
  }
  return out;
}
const load = (lng: string, ns: string) => flatten(JSON.parse(readFileSync(join(dir, 'locales', lng, `${ns}.json`), 'utf8')) as Tree);
const namespaces = (lng: string) =>
  readdirSync(join(dir, 'locales', lng))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();

/** A plural key's base and category ("shown_few" → ["shown", "few"]); other keys stand alone. */
function split(key: string): [string, string | null] {
  const m = SUFFIX.exec(key);
  return m ? [key.slice(0, m.index), m[1]!] : [key, null];
}
/** Keys with plural forms folded into their base, each with the categories it has. */
function shape(keys: Iterable<string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const k of keys) {
    const [base, cat] = split(k);
    const s = out.get(base) ?? new Set<string>();
    if (cat) s.add(cat);
    out.set(base, s);
  }
  return out;
}
const placeholders = (s: string) => [...s.matchAll(/\{\{\s*([A-Za-z0-9_]+)[^}]*\}\}/g)].map((m) => m[1]).sort();
const tags = (s: string) => [...s.matchAll(/<\/?([A-Za-z0-9]+)\s*\/?>/g)].map((m) => m[0]).sort();

describe('console translations', () => {
  it('both languages have the same namespaces, and each namespace is typed in resources.ts', () => {
    expect(namespaces('en').length).toBeGreaterThanOrEqual(9);
    expect(namespaces('ru')).toEqual(namespaces('en'));
    const typed = readFileSync(join(dir, 'resources.ts'), 'utf8');
    for (const ns of namespaces('en')) expect(typed, `resources.ts types ${ns}`).toContain(`import('./locales/en/${ns}.json')`);
  });

  it('the plural categories are the ones Intl uses for the language', () => {
    for (const lng of LANGS) {
      const rules = new Intl.PluralRules(lng);
      expect([...rules.resolvedOptions().pluralCategories].filter((c) => c !== 'zero' && c !== 'two').sort()).toEqual(
        [...PLURALS[lng]].sort(),
      );
    }
  });

  for (const ns of namespaces('en')) {
    it(`${ns}: same keys in en and ru, plurals complete, same placeholders and tags, nothing empty`, () => {
      const en = load('en', ns);
      const ru = load('ru', ns);
      const enShape = shape(en.keys());
      const ruShape = shape(ru.keys());
      expect([...ruShape.keys()].sort()).toEqual([...enShape.keys()].sort());
      for (const [base, cats] of enShape) {
        const ruCats = ruShape.get(base)!;
        // A key is plural in both languages or in neither; each has all its language's forms.
        expect(ruCats.size > 0, `${ns}:${base} plural in ru as in en`).toBe(cats.size > 0);
        if (cats.size > 0) {
          expect([...cats].sort(), `${ns}:${base} en forms`).toEqual([...PLURALS.en].sort());
          expect([...ruCats].sort(), `${ns}:${base} ru forms`).toEqual([...PLURALS.ru].sort());
        }
      }
      const enOf = (key: string) => en.get(key) ?? en.get(`${split(key)[0]}_other`)!;
      for (const [key, text] of ru) {
        expect(text.trim(), `${ns}:${key} (ru) is empty`).not.toBe('');
        const source = enOf(key);
        // {{count}} may be left out of a Russian form, never added; every other placeholder must match.
        const want = placeholders(source).filter((p) => p !== 'count');
        expect(
          placeholders(text).filter((p) => p !== 'count'),
          `${ns}:${key} placeholders`,
        ).toEqual(want);
        expect(tags(text), `${ns}:${key} tags`).toEqual(tags(source));
      }
      for (const [key, text] of en) expect(text.trim(), `${ns}:${key} (en) is empty`).not.toBe('');
    });
  }

  it('every reason a decision can carry has words in both languages (and English says what the protocol says)', async () => {
    const { REASON_TEXT } = await import('@gatehouse/protocol/reasons');
    for (const lng of LANGS) expect([...load(lng, 'reasons').keys()].sort(), lng).toEqual([...REASONS].sort());
    expect(Object.fromEntries(load('en', 'reasons'))).toEqual(REASON_TEXT);
  });

  it('Russian is really translated: most texts differ from English', () => {
    let same = 0;
    let all = 0;
    for (const ns of namespaces('en')) {
      const en = load('en', ns);
      for (const [key, text] of load('ru', ns)) {
        all++;
        if (text === en.get(key)) same++;
      }
    }
    // Names kept as they are (English, Русский, Wiegand 26…) are allowed; a copied file is not.
    expect(same / all).toBeLessThan(0.05);
  });
});
