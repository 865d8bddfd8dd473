import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

/** What /api/internal/ready answers (issue 15: each dependency on its own). */
interface Ready {
  status: string;
  database: string;
  broker: 'ok' | 'connecting' | 'unavailable' | 'off';
  jobs: 'started' | 'stopped';
}

type Down = 'server' | 'database' | 'broker' | 'jobs';

/** Often enough that a guard learns of an outage within seconds, rare enough to cost nothing. */
const POLL_MS = 10_000;

/** Which dependencies are down, from a readiness answer (or none: the server did not answer at all). */
export function downFrom(r: Ready | null): Down[] {
  if (!r) return ['server'];
  const down: Down[] = [];
  // 'starting': it answers but the cloud's start (migrations) is not done, so the API still answers 503.
  if (r.database === 'unavailable' || r.database === 'starting') down.push('database');
  if (r.broker === 'connecting' || r.broker === 'unavailable') down.push('broker');
  if (r.jobs === 'stopped') down.push('jobs');
  return down;
}

/**
 * A banner over every screen while the cloud reports a dependency down, so a
 * guard reads what still works instead of facing empty lists or a blank page.
 */
export function DependencyBanner() {
  const { t } = useTranslation('health');
  const [down, setDown] = useState<Down[]>([]);
  useEffect(() => {
    let live = true;
    const check = async () => {
      let r: Ready | null = null;
      try {
        const res = await fetch('/api/internal/ready', { cache: 'no-store' });
        r = (await res.json()) as Ready;
      } catch {
        r = null;
      }
      if (live) setDown(downFrom(r));
    };
    void check();
    const timer = setInterval(() => void check(), POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);
  if (down.length === 0) return null;
  return (
    <div className="alert error dependency-banner" role="alert" data-testid="dependency-banner">
      <strong>{t('title')}</strong>
      <ul>
        {down.map((d) => (
          <li key={d}>{t(`down.${d}`)}</li>
        ))}
      </ul>
    </div>
  );
}
