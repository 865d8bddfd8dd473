import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Badge, ErrorBox, Loading } from '../../components/ui.tsx';
import { getAll } from '../../lib/api.ts';
import { ago, fmtTime } from '../../lib/format.ts';
import { can } from '../../lib/permissions.ts';
import { PATHS } from '../../lib/query.ts';
import type { Alarm } from '../../lib/types.ts';
import { type AlarmAction, AlarmDialog } from './AlarmDialog.tsx';
import { alarmBus } from './alarmBus.ts';
import { beeps, byNewest, openAlarmsKey } from './alarms.ts';
import { beep, rememberSound, soundReady, soundWanted, unlockSound } from './sound.ts';

/**
 * The open alarms of every site, newest first, at the top of the guard view.
 * The list is the server's (refetched on every reconnect of the live feed);
 * live events patch it in between (GuardPage → alarmBus). A new alarm flashes
 * the badge always and, unless it is a low one, beeps when the guard has
 * turned sound on.
 */
export function AlarmPanel({ now, zoneOf }: { now: number; zoneOf: (siteId: string) => string | undefined }) {
  const { t } = useTranslation(['guard', 'alarms']);
  const canManage = can('alarms:manage');
  const [sound, setSound] = useState(soundWanted);
  const [ready, setReady] = useState(soundReady);
  const [sounds, setSounds] = useState(0);
  const [acting, setActing] = useState<{ alarm: Alarm; action: AlarmAction } | null>(null);
  // The alarm, not its words: the notice follows a language switch.
  const [done, setDone] = useState<{ action: AlarmAction; alarm: Alarm } | null>(null);
  const soundRef = useRef(sound);
  soundRef.current = sound;

  const query = useQuery({
    queryKey: openAlarmsKey,
    queryFn: async () => (await getAll<Alarm>(PATHS.alarms, { status: 'open' }, 500)).sort(byNewest),
    enabled: can('alarms:read'),
  });
  const alarms = query.data ?? null;
  const unanswered = alarms?.filter((a) => a.status === 'raised').length ?? 0;

  // Each alarm beeps once, however many times its event arrives (a reconnect, two cloud instances).
  const beeped = useRef(new Set<string>());
  useEffect(
    () =>
      alarmBus.onRaised((a) => {
        if (beeped.current.has(a.id)) return;
        beeped.current.add(a.id);
        if (soundRef.current && beeps(a) && beep()) setSounds((n) => n + 1);
      }),
    [],
  );

  // Sound remembered on from an earlier visit: the browser lets it play after the first click or key press here.
  useEffect(() => {
    if (!sound || ready) return;
    const wake = () => void unlockSound().then(setReady);
    window.addEventListener('pointerdown', wake, { once: true });
    window.addEventListener('keydown', wake, { once: true });
    return () => {
      window.removeEventListener('pointerdown', wake);
      window.removeEventListener('keydown', wake);
    };
  }, [sound, ready]);

  const toggleSound = async () => {
    const on = !sound;
    setSound(on);
    rememberSound(on);
    if (on) setReady(await unlockSound());
  };

  const kindText = (a: Alarm) => t(`alarms:kind.${a.kind}`, { defaultValue: a.kind });
  const where = (a: Alarm) =>
    [a.gateName ?? (a.gateId ? t('gateTail', { id: a.gateId.slice(-6) }) : null), a.siteName].filter(Boolean).join(' · ');
  const titleOf = (a: Alarm) => [kindText(a), a.gateName].filter(Boolean).join(' · ');

  return (
    <section className="card alarm-panel" aria-labelledby="alarms-h" data-testid="alarm-panel" data-alarm-sounds={sounds}>
      <div className="card-head">
        <h2 id="alarms-h">{t('alarms')}</h2>
        {unanswered > 0 ? (
          <span className="alarm-flash" role="status" data-testid="alarm-badge">
            {t('panel.unanswered', { count: unanswered })}
          </span>
        ) : null}
        <span className="grow" />
        <button type="button" aria-pressed={sound} onClick={() => void toggleSound()} data-testid="alarm-sound">
          <SpeakerIcon on={sound} /> {sound ? t('panel.soundOn') : t('panel.soundOff')}
        </button>
      </div>
      {sound && !ready ? <p className="muted">{t('panel.soundBlocked')}</p> : null}
      {done ? (
        <div className="alert info" role="status">
          {t(`panel.done.${done.action}`, { alarm: titleOf(done.alarm) })}
        </div>
      ) : null}
      <ErrorBox error={query.error} />
      {alarms === null ? (
        query.isPending && query.fetchStatus !== 'idle' ? (
          <Loading />
        ) : null
      ) : alarms.length === 0 ? (
        <p className="muted">{t('noAlarms')}</p>
      ) : (
        <ul className="alarm-list" data-testid="alarms" aria-live="polite">
          {alarms.map((a) => (
            <li key={a.id} className={`alarm-item sev-${a.severity} ${a.status}`} data-alarm-id={a.id} data-status={a.status}>
              <span className="stripe" aria-hidden="true" />
              <div className="alarm-body">
                <div>
                  <span className={`sev sev-${a.severity}`}>{t(`alarms:severity.${a.severity}`)}</span>{' '}
                  <strong className="alarm-kind">{kindText(a)}</strong>
                  {where(a) ? <span> — {where(a)}</span> : null}
                  {a.reader ? <span className="muted"> · {t('panel.reader', { reader: a.reader })}</span> : null}
                </div>
                {a.detail ? <div className="muted">{a.detail}</div> : null}
                <div className="muted">
                  <time dateTime={a.raisedAt}>
                    {t('panel.since', { time: fmtTime(a.raisedAt, zoneOf(a.siteId)), ago: ago(a.raisedAt, now) })}
                  </time>
                  {' · '}
                  {a.conditionClearedAt
                    ? t('panel.conditionGone', { time: fmtTime(a.conditionClearedAt, zoneOf(a.siteId)) })
                    : t('panel.conditionPresent')}
                </div>
                {a.status === 'acknowledged' ? (
                  <div data-testid="acknowledged">
                    <Badge tone="warn">{t('alarms:status.acknowledged')}</Badge>{' '}
                    {a.acknowledgedBy?.name ? t('panel.by', { name: a.acknowledgedBy.name }) : null}
                    {a.acknowledgeNote ? <span> — {a.acknowledgeNote}</span> : null}
                  </div>
                ) : null}
              </div>
              {canManage ? (
                <div className="actions">
                  {a.status === 'raised' ? (
                    <button type="button" className="primary" onClick={() => setActing({ alarm: a, action: 'acknowledge' })}>
                      {t('panel.button.acknowledge')}
                    </button>
                  ) : null}
                  <button type="button" onClick={() => setActing({ alarm: a, action: 'clear' })}>
                    {t('panel.button.clear')}
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {acting ? (
        <AlarmDialog
          alarm={acting.alarm}
          action={acting.action}
          title={titleOf(acting.alarm)}
          onClose={() => setActing(null)}
          onDone={() => {
            setDone({ action: acting.action, alarm: acting.alarm });
            setActing(null);
          }}
        />
      ) : null}
    </section>
  );
}

/** A speaker, with waves when sound is on (no emoji: not every guard's machine has a font for them). */
function SpeakerIcon({ on }: { on: boolean }) {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" style={{ verticalAlign: '-2px' }}>
      <path d="M2 6h3l4-3v10l-4-3H2z" fill="currentColor" />
      {on ? (
        <path d="M11 5.5a3.5 3.5 0 0 1 0 5M12.5 3.5a6 6 0 0 1 0 9" stroke="currentColor" strokeWidth="1.4" fill="none" />
      ) : (
        <path d="M11 6l4 4M15 6l-4 4" stroke="currentColor" strokeWidth="1.4" />
      )}
    </svg>
  );
}
