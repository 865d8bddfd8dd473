import i18n, { currentLanguage, isLanguage, type Language, STORAGE_KEY } from '../i18n/index.ts';
import { api } from './api.ts';
import { getSession, onSessionChange, type SessionUser, setSession } from './session.ts';
import type { ProfilePatch } from './types.ts';

/** The language chosen on this device, if any. */
export function storedLanguage(): Language | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return isLanguage(v) ? v : null;
  } catch {
    // Storage may be blocked (a third-party iframe): no stored choice then.
    return null;
  }
}

/**
 * The user's explicit choice: this device keeps it, and a signed-in user's
 * profile too, so their other devices (and what the server sends them) follow.
 * The interface switches at once; a failed profile write leaves it switched here.
 */
export async function chooseLanguage(lng: Language): Promise<void> {
  try {
    localStorage.setItem(STORAGE_KEY, lng);
  } catch {
    // Not kept across reloads then; the profile below still is.
  }
  await i18n.changeLanguage(lng);
  const s = getSession();
  if (!s?.user.id || s.user.language === lng) return;
  try {
    const user = await api.patch<SessionUser>('/api/auth/me', { language: lng } satisfies ProfilePatch);
    const now = getSession();
    // The same user still signed in: remember what the profile says now.
    if (now && now.user.id === user.id) setSession({ ...now, user });
  } catch {
    // Offline or refused: the choice still holds on this device.
  }
}

/** After sign-in (and on reload): the profile's language unless this device has a choice; neither → the browser's. */
let applied: string | null = null;
function applyProfile(): void {
  const user = getSession()?.user;
  // Token refreshes change the session too; only a new user or a new profile language matters.
  const key = `${user?.id ?? ''}|${user?.language ?? ''}`;
  if (key === applied) return;
  const first = applied === null;
  applied = key;
  if (storedLanguage()) return;
  const profile = user?.language;
  if (isLanguage(profile)) {
    if (profile !== currentLanguage()) void i18n.changeLanguage(profile);
  } else if (!first) {
    // changeLanguage() without a language detects again (navigator.languages), undoing a previous user's profile.
    void i18n.changeLanguage();
  }
}

export function startLanguageSync(): () => void {
  applyProfile();
  return onSessionChange(applyProfile);
}
