import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { DependencyBanner } from '../../components/DependencyBanner.tsx';
import { LanguageSwitcher } from '../../components/LanguageSwitcher.tsx';
import { ErrorBox, Field } from '../../components/ui.tsx';
import { ApiError, login } from '../../lib/api.ts';

export function LoginPage({ notice }: { notice?: string | undefined }) {
  const { t } = useTranslation('login');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ email?: string; password?: string }>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ids = { email: useId(), password: useId() };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: typeof errors = {};
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) errs.email = t('enterEmail');
    if (!password) errs.password = t('enterPassword');
    setErrors(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      await login(email.trim(), password);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) setError(new Error(t('tooMany')));
      // The server's words are English; a refused password is said in the interface language.
      else if (err instanceof ApiError && err.status === 401) setError(new Error(t('wrong')));
      else setError(err);
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <div className="card">
        <div className="brand">
          <img src="/favicon.svg" alt="" width="22" height="22" /> Gatehouse
          <LanguageSwitcher />
        </div>
        <h1 style={{ marginBottom: 16 }}>{t('title')}</h1>
        {/* Signing in needs the database: say so before the guard tries, not only after a failed attempt. */}
        <DependencyBanner />
        {notice ? <div className="alert info">{notice}</div> : null}
        <ErrorBox error={error} />
        <form onSubmit={submit} noValidate>
          <Field id={ids.email} label={t('email')} error={errors.email}>
            <input
              id={ids.email}
              type="email"
              autoComplete="username"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={!!errors.email}
              required
            />
          </Field>
          <Field id={ids.password} label={t('password')} error={errors.password}>
            <input
              id={ids.password}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-invalid={!!errors.password}
              required
            />
          </Field>
          <button type="submit" className="primary" disabled={busy} style={{ width: '100%', justifyContent: 'center' }}>
            {busy ? t('signingIn') : t('submit')}
          </button>
        </form>
      </div>
    </main>
  );
}
