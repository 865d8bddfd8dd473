/// <reference types="vite/client" />
// import.meta.glob (the locale files in i18n/index.ts) and asset imports are typed by Vite's client types.
