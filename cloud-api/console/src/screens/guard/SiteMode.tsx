import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Modal } from '../../components/Modal.tsx';
import { Field } from '../../components/ui.tsx';
import { api } from '../../lib/api.ts';
import { fmtDateTime } from '../../lib/format.ts';
import { can } from '../../lib/permissions.ts';
import { invalidate, PATHS } from '../../lib/query.ts';
import type { SiteMode } from '../../lib/types.ts';
import { modeOf, type SiteWithMode } from './alarms.ts';

type Action = 'lockdown' | 'emergency' | 'normal';

/** Ending a mode takes the permission of the mode being ended (the server checks the same). */
const PERM = { lockdown: 'sites:lockdown', emergency: 'sites:emergency' } as const;

/**
 * The site's mode: a banner nobody can miss while every gate is locked or
 * released, and the buttons that start and end it (each only with its
 * permission; the server refuses the rest anyway).
 */
export function SiteModeBar({ site }: { site: SiteWithMode }) {
  const { t } = useTranslation('guard');
  const [action, setAction] = useState<Action | null>(null);
  const [notice, setNotice] = useState<Action | null>(null);
  const mode = modeOf(site);
  const by = site.modeChangedBy?.name ?? null;
  const tz = site.timezone;
  const buttons: Action[] = [];
  if (mode !== 'lockdown' && mode !== 'emergency' && can(PERM.lockdown)) buttons.push('lockdown');
  // A fire during a lockdown: the evacuation wins, so emergency release stays on offer then.
  if (mode !== 'emergency' && can(PERM.emergency)) buttons.push('emergency');
  if (mode !== 'normal' && can(PERM[mode])) buttons.push('normal');

  return (
    <>
      {mode !== 'normal' ? (
        <div className={`site-mode-banner ${mode}`} role="alert" data-testid="site-mode-banner" data-mode={mode}>
          <strong className="site-mode-title">{t(`mode.banner.${mode}`, { site: site.name })}</strong>
          <div>{t(`mode.effect.${mode}`)}</div>
          <div>
            {site.modeReason ? t('mode.reason', { reason: site.modeReason }) : null}
            {site.modeChangedAt ? (
              <span>
                {' '}
                {by
                  ? t('mode.sinceBy', { time: fmtDateTime(site.modeChangedAt, tz), name: by })
                  : t('mode.since', { time: fmtDateTime(site.modeChangedAt, tz) })}
              </span>
            ) : null}
          </div>
        </div>
      ) : null}
      {notice ? (
        <div className="alert info" role="status">
          {t(`mode.done.${notice}`, { site: site.name })}
        </div>
      ) : null}
      {buttons.length > 0 ? (
        <div className="actions site-mode-actions" data-testid="site-mode-actions">
          {buttons.map((b) => (
            <button key={b} type="button" className={b === 'normal' ? 'primary' : 'danger'} onClick={() => setAction(b)}>
              {t(`mode.button.${b}`)}
            </button>
          ))}
        </div>
      ) : null}
      {action ? (
        <SiteModeDialog
          site={site}
          action={action}
          from={mode}
          onClose={() => setAction(null)}
          onDone={() => {
            setNotice(action);
            setAction(null);
          }}
        />
      ) : null}
    </>
  );
}

/**
 * Two steps, on purpose: the reason first (it goes to the audit log and onto
 * every guard's banner), then a confirmation that says exactly what will
 * happen to every gate of the site — one stray click must not unlock a building.
 */
function SiteModeDialog({
  site,
  action,
  from,
  onClose,
  onDone,
}: {
  site: SiteWithMode;
  action: Action;
  from: SiteMode;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation(['guard', 'common']);
  const [reason, setReason] = useState('');
  const [step, setStep] = useState<'reason' | 'confirm'>('reason');
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const send = useMutation({
    mutationFn: () => api.post(`${PATHS.sites}/${site.id}/${action}`, { reason: reason.trim() }),
    onSuccess: () => {
      void invalidate(PATHS.sites);
      onDone();
    },
    onError: (e) => {
      setError(e.message);
      setStep('reason');
    },
  });
  const next = () => {
    if (!reason.trim()) {
      setError(t('mode.reasonRequired'));
      return;
    }
    setError(null);
    setStep('confirm');
  };
  const effect = action === 'normal' ? t(`mode.endEffect.${from === 'emergency' ? 'emergency' : 'lockdown'}`) : t(`mode.effect.${action}`);
  return (
    <Modal
      title={t(`mode.title.${action}`, { site: site.name })}
      onClose={onClose}
      tone={action === 'normal' ? 'primary' : 'danger'}
      footer={
        step === 'reason' ? (
          <>
            <button type="button" onClick={onClose}>
              {t('common:cancel')}
            </button>
            <button type="button" className="primary" onClick={next}>
              {t('mode.continue')}
            </button>
          </>
        ) : (
          <>
            <button type="button" onClick={() => setStep('reason')} disabled={send.isPending}>
              {t('common:back')}
            </button>
            <button
              type="button"
              className={action === 'normal' ? 'primary' : 'danger'}
              onClick={() => send.mutate()}
              disabled={send.isPending}
            >
              {t(`mode.confirmVerb.${action}`)}
            </button>
          </>
        )
      }
    >
      <p>{effect}</p>
      {step === 'reason' ? (
        <Field id={id} label={`${t('mode.reasonLabel')} *`} error={error}>
          <textarea
            id={id}
            value={reason}
            rows={2}
            maxLength={500}
            aria-invalid={!!error}
            aria-describedby={error ? `${id}-error` : undefined}
            placeholder={t(`mode.placeholder.${action}`)}
            onChange={(e) => {
              setReason(e.target.value);
              if (error) setError(null);
            }}
          />
        </Field>
      ) : (
        <div className="confirm-box" data-testid="mode-confirm">
          <p>
            <strong>{t(`mode.confirm.${action}`, { site: site.name })}</strong>
          </p>
          <p>{t('mode.reason', { reason: reason.trim() })}</p>
        </div>
      )}
    </Modal>
  );
}
