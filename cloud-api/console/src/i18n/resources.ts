/**
 * The namespaces and their keys, typed from the English files: a key missing
 * here, or misspelt in a `t()` call, fails `typecheck:console`. Russian must
 * have the same keys (test/console-i18n.test.ts checks every namespace).
 *
 * Adding a namespace is one line below plus its two files,
 * locales/en/<ns>.json and locales/ru/<ns>.json (see index.ts).
 */
type En<T> = T extends { default: infer D } ? D : T;

export interface Resources {
  common: En<typeof import('./locales/en/common.json')>;
  nav: En<typeof import('./locales/en/nav.json')>;
  login: En<typeof import('./locales/en/login.json')>;
  dashboard: En<typeof import('./locales/en/dashboard.json')>;
  guard: En<typeof import('./locales/en/guard.json')>;
  passes: En<typeof import('./locales/en/passes.json')>;
  resources: En<typeof import('./locales/en/resources.json')>;
  history: En<typeof import('./locales/en/history.json')>;
  reasons: En<typeof import('./locales/en/reasons.json')>;
  guest: En<typeof import('./locales/en/guest.json')>;
  host: En<typeof import('./locales/en/host.json')>;
  jobs: En<typeof import('./locales/en/jobs.json')>;
  messages: En<typeof import('./locales/en/messages.json')>;
  settings: En<typeof import('./locales/en/settings.json')>;
  devconsole: En<typeof import('./locales/en/devconsole.json')>;
  muster: En<typeof import('./locales/en/muster.json')>;
  holidays: En<typeof import('./locales/en/holidays.json')>;
  alarms: En<typeof import('./locales/en/alarms.json')>;
  health: En<typeof import('./locales/en/health.json')>;
  fleet: En<typeof import('./locales/en/fleet.json')>;
  updates: En<typeof import('./locales/en/updates.json')>;
}

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'common';
    resources: Resources;
  }
}
