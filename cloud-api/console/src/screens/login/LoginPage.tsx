import { type FormEvent, useId, useState } from 'react';
import { ErrorBox, Field } from '../../components/ui.tsx';
import { ApiError, login } from '../../lib/api.ts';

export function LoginPage({ notice }: { notice?: string | undefined }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ email?: string; password?: string }>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ids = { email: useId(), password: useId() };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: typeof errors = {};
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) errs.email = 'Enter your e-mail address.';
    if (!password) errs.password = 'Enter your password.';
    setErrors(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      await login(email.trim(), password);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) setError(new Error('Too many attempts. Wait a minute and try again.'));
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
        </div>
        <h1 style={{ marginBottom: 16 }}>Sign in</h1>
        {notice ? <div className="alert info">{notice}</div> : null}
        <ErrorBox error={error} />
        <form onSubmit={submit} noValidate>
          <Field id={ids.email} label="E-mail" error={errors.email}>
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
          <Field id={ids.password} label="Password" error={errors.password}>
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
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
