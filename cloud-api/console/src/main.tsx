import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './styles.css';
// First: the language is settled (and <html lang> set) before anything renders.
import './i18n/index.ts';
import { App } from './App.tsx';
import { startLanguageSync } from './lib/language.ts';
import { queryClient } from './lib/query.ts';
import { GuestPage } from './screens/guest/GuestPage.tsx';

const root = document.getElementById('root');
if (root) {
  const guest = window.location.pathname.replace(/\/+$/, '') === '/guest';
  // Staff follow their profile's language; the guest page picks its own (the invitation's).
  if (!guest) startLanguageSync();
  // The guest page keeps its own loop (offline codes from the pass secret); the console reads through the query cache.
  createRoot(root).render(
    <StrictMode>
      {guest ? (
        <GuestPage />
      ) : (
        <QueryClientProvider client={queryClient}>
          <App />
        </QueryClientProvider>
      )}
    </StrictMode>,
  );
}
