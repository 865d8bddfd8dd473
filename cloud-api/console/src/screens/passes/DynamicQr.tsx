import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Qr } from '../../components/Qr.tsx';
import { ErrorBox, Loading } from '../../components/ui.tsx';
import { ApiError } from '../../lib/api.ts';
import { credentialQuery } from './queries.ts';

/** The rotating code, fetched again as each step ends (every 5 s after a failure; never again once the pass cannot have one). */
export function DynamicQr({ passId }: { passId: string }) {
  const { t } = useTranslation('passes');
  const cred = useQuery({
    ...credentialQuery(passId, 'dynamic'),
    // A code is worth nothing once its step is over: never shown from the cache.
    gcTime: 0,
    refetchIntervalInBackground: true,
    refetchInterval: (q) => {
      if (q.state.status === 'error') return q.state.error instanceof ApiError && q.state.error.status === 409 ? false : 5000;
      const c = q.state.data;
      return c ? Math.max(500, new Date(c.expiresAt).getTime() - Date.now() + 200) : false;
    },
  });
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);
  if (cred.error) return <ErrorBox error={cred.error} />;
  if (!cred.data) return <Loading />;
  return (
    <div className="qr-box">
      <Qr text={cred.data.payload} size={200} label={t('detail.dynamicQrLabel')} />
      <span className="muted">
        {t('detail.changesIn', { count: Math.max(0, Math.ceil((new Date(cred.data.expiresAt).getTime() - now) / 1000)) })}
      </span>
    </div>
  );
}
