import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './styles.css';
import { App } from './App.tsx';
import { GuestPage } from './screens/guest.tsx';

const root = document.getElementById('root');
if (root) {
  const guest = window.location.pathname.replace(/\/+$/, '') === '/guest';
  createRoot(root).render(<StrictMode>{guest ? <GuestPage /> : <App />}</StrictMode>);
}
